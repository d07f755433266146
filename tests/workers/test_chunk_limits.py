"""The resource limits of a chunk's render process: their defaults, what each end of a render
process means, and the limits enforced on a forked child (memory, CPU time, file size)."""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.studio import load_project
from common.errors import MediaError, RenderError
from common.settings import Settings
from tests.helpers import clip
from tests.media import project, video_track
from workers import render_process
from workers.child import Child
from workers.chunk_limits import (
    ChunkCrashed,
    ChunkLimitExceeded,
    ChunkLimits,
    chunk_limits,
    default_memory_bytes,
    failure_of,
)
from workers.render_process import CPU, FILE_SIZE, MEMORY, classify

pytestmark = pytest.mark.timeout(60)
GB = 2**30
LIMITS = ChunkLimits(memory_bytes=GB, cpu_seconds=60, file_bytes=2**20)


def test_default_limits_follow_the_frame_budget_and_the_task_time_limit() -> None:
    tl = load_project(project([video_track("v", [clip("c", 0, 1)])], size=(1920, 1080)), ".")
    settings = Settings(max_frame_bytes=2 * GB)
    limits = chunk_limits(settings, tl, 30, 3600.0, cpus=16, nvidia=False)
    assert limits.memory_bytes == default_memory_bytes(2 * GB, 16, 1920 * 1080)
    # Two frames at the budget, plus the measured needs of a heavy 1080p chunk (1.75 GB at 2
    # cores) with room for 16 cores of encoder threads.
    assert 4 * GB + 1.75 * GB < limits.memory_bytes < 12 * GB
    assert limits.memory_rlimit == "AS"
    assert limits.cpu_seconds == 3600 * 16 + 1
    assert limits.file_bytes >= 2 * 30 * 1920 * 1080 * 3
    configured = Settings(chunk_memory_bytes=3 * GB, chunk_cpu_seconds=100)
    limits = chunk_limits(configured, tl, 30, 3600.0, cpus=16, nvidia=True)
    assert (limits.memory_bytes, limits.cpu_seconds, limits.memory_rlimit) == (3 * GB, 100, "DATA")
    assert chunk_limits(Settings(), tl, 30, None, cpus=2).cpu_seconds is None


@pytest.mark.parametrize(
    ("status", "report", "expected"),
    [
        (0, {"done": {}}, None),
        (3, {"error": {"kind": MEMORY, "message": "x"}}, "ran out of memory (limit 1.0 GB)"),
        (3, {"error": {"kind": CPU, "message": "x"}}, "exceeded its CPU time limit (60 s"),
        (3, {"error": {"kind": FILE_SIZE, "message": "x"}}, "exceeded its file size limit (1 MB)"),
        (-signal.SIGXCPU, None, "exceeded its CPU time limit"),
        (-signal.SIGXFSZ, None, "exceeded its file size limit"),
        (
            -signal.SIGSEGV,
            None,
            "ran out of memory (limit 1.0 GB); its render process died of SIGSEGV",
        ),
    ],
)
def test_limit_failures_are_one_deterministic_line(
    status: int, report: dict[str, Any] | None, expected: str | None
) -> None:
    failure = failure_of(status, report, LIMITS)
    if expected is None:
        assert failure is None
        return
    assert isinstance(failure, ChunkLimitExceeded) and not failure.transient
    assert str(failure).startswith(expected) and "\n" not in str(failure)


@pytest.mark.parametrize(
    ("status", "report"),
    [
        (1, None),
        (0, None),
        (-signal.SIGTERM, None),
        (3, {"error": {"kind": "crash"}}),
        # The node's OOM killer making room (or an operator): the chunk may fit elsewhere.
        (-signal.SIGKILL, None),
    ],
)
def test_other_deaths_are_crashes_another_worker_may_retry(
    status: int, report: dict[str, Any] | None
) -> None:
    assert isinstance(failure_of(status, report, LIMITS), ChunkCrashed)


def test_a_render_error_comes_back_as_its_own_class() -> None:
    report = {"error": {"kind": "render", "class": "DecodeError", "message": "clip 'a': bad"}}
    failure = failure_of(3, report, LIMITS)
    assert type(failure).__name__ == "DecodeError" and str(failure) == "clip 'a': bad"
    forged = {"error": {"kind": "render", "class": "SystemExit", "message": "m"}}
    assert type(failure_of(3, forged, LIMITS)) is RenderError


def test_memory_and_file_size_errors_are_recognised_through_wrapping() -> None:
    def wrapped(inner: BaseException) -> BaseException:
        try:
            try:
                raise inner
            except BaseException:
                raise MediaError("clip 'a': cannot decode") from None
        except MediaError as outer:
            return outer

    assert classify(wrapped(MemoryError())) == MEMORY
    assert classify(wrapped(OSError(errno.ENOMEM, "Cannot allocate memory"))) == MEMORY
    assert classify(RuntimeError("can't start new thread")) == MEMORY
    assert classify(wrapped(OSError(errno.EFBIG, "File too large"))) == FILE_SIZE
    assert classify(MediaError("clip 'a': not found")) is None


# -- the limits, enforced ------------------------------------------------------------------------


def vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize")


def run_limited(limits: dict[str, Any], action: str) -> tuple[int, dict[str, Any] | None]:
    """Fork a child under ``limits`` that does ``action``; its status and report."""

    def target(fd: int) -> int:
        channel = os.fdopen(fd, "w", buffering=1)
        render_process.apply_limits(limits)
        try:
            if action == "allocate":
                np.ones(4 * GB, dtype=np.uint8)
            elif action == "spin":
                while True:
                    pass
            elif action == "write":
                Path(limits["path"]).write_bytes(b"\0" * (4 * limits["file_bytes"]))
        except BaseException as exc:  # noqa: BLE001
            channel.write(json.dumps({"error": {"kind": classify(exc)}}) + "\n")
            return 3
        return 0

    child = Child.fork(target)
    with os.fdopen(os.dup(child.fd)) as reader:
        lines = reader.read().splitlines()
    child.close()
    assert child.status is not None
    return child.status, json.loads(lines[-1]) if lines else None


def test_a_child_allocating_past_its_address_space_fails_as_out_of_memory() -> None:
    limits = {"memory_bytes": vm_size() + 256 * 2**20, "file_bytes": GB, "cpu_seconds": 60}
    status, report = run_limited(limits, "allocate")
    failure = failure_of(status, report, ChunkLimits(limits["memory_bytes"], 60, GB))
    assert isinstance(failure, ChunkLimitExceeded) and "ran out of memory" in str(failure)
    # The worker process itself never had the limit.
    assert resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY


def test_a_child_over_its_cpu_time_is_stopped() -> None:
    limits = {"memory_bytes": 64 * GB, "file_bytes": GB, "cpu_seconds": 1}
    began = time.monotonic()
    status, report = run_limited(limits, "spin")
    assert status == -signal.SIGXCPU and time.monotonic() - began < 30
    assert "CPU time limit" in str(failure_of(status, report, LIMITS))


def test_a_child_writing_past_its_file_size_limit_fails(tmp_path: Path) -> None:
    limits = {"memory_bytes": 64 * GB, "file_bytes": 2**20, "path": str(tmp_path / "big")}
    status, report = run_limited(limits, "write")
    assert report == {"error": {"kind": FILE_SIZE}}
    assert "file size limit" in str(failure_of(status, report, LIMITS))
    assert (tmp_path / "big").stat().st_size == 2**20


def test_limits_stay_under_an_inherited_hard_limit(tmp_path: Path) -> None:
    """A worker started under ``ulimit -f`` (a lower hard file-size limit) still renders: its
    chunks' limits are lowered to it, not raised above it (which an unprivileged process may
    not do: every chunk crashed)."""
    import resource

    def target(fd: int) -> int:
        resource.setrlimit(resource.RLIMIT_FSIZE, (300 * 1024, 300 * 1024))
        render_process.apply_limits({"memory_bytes": 8 * GB, "file_bytes": GB, "cpu_seconds": 60})
        with os.fdopen(fd, "w") as channel:
            channel.write(json.dumps(resource.getrlimit(resource.RLIMIT_FSIZE)))
        return 0

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        code = 1
        try:
            code = target(write)
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as channel:
        report = channel.read()
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert json.loads(report) == [300 * 1024, 300 * 1024]
