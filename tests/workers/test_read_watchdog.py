"""Reads that a stuck mount never answers, after the open (``workers.read_watchdog``): the
open of a source was watched, a read of it after that was not, and ``validate`` of media on a
mount that stopped answering mid-file hung for ever without a word. A named FIFO stands in for
the stuck file here: a read of it blocks in the kernel as one on a dead mount does."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import subprocess_env
from workers import render_process
from workers.read_watchdog import Waiting, stuck_path, waiting, watch_reads

pytestmark = pytest.mark.skipif(
    platform.machine() not in ("x86_64", "aarch64") or not os.path.isdir("/proc/self/task"),
    reason="reads /proc's system call of a thread (Linux on x86_64 or aarch64)",
)

_A = Waiting("0 0x5 0x7f00 0x8000", "/mnt/share/take.mov", 100)
_B = Waiting("0 0x5 0x7f00 0x8000", "/mnt/share/take.mov", 132_868)  # a read returned between


@pytest.mark.parametrize(
    ("looks", "stuck"),
    [
        ([], None),
        ([(0, _A), (30, _A), (60, _A)], "/mnt/share/take.mov"),
        ([(0, _A), (30, _A), (59, _A)], None),  # not long enough yet
        ([(0, _A), (30, _B), (60, _B)], None),  # bytes read meanwhile: progress
        ([(0, _A), (30, None), (60, _A)], None),  # returned and waiting again
        ([(0, _A), (30, _A), (60, None)], None),  # returned at last
        ([(0, _B), (1, _A), (61, _A)], "/mnt/share/take.mov"),
    ],
)
def test_a_read_is_stuck_when_it_waits_that_long_without_a_byte(
    looks: list[tuple[float, Waiting | None]], stuck: str | None
) -> None:
    assert stuck_path(looks, 60) == stuck


def _blocked_reader(fifo: Path) -> tuple[threading.Thread, list[int]]:
    """A thread blocked reading ``fifo`` (its native id in the list once it runs)."""
    tid: list[int] = []

    def read() -> None:
        tid.append(threading.get_native_id())
        with open(fifo, "rb") as handle:
            handle.read(1)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, tid


def test_what_a_thread_waits_in_is_read_from_proc(tmp_path: Path) -> None:
    fifo = tmp_path / "stuck.mov"
    os.mkfifo(fifo)
    thread, tid = _blocked_reader(fifo)
    with open(fifo, "wb") as writer:  # the reader's open returns: it waits in its read
        deadline = time.monotonic() + 10
        seen = None
        while seen is None and time.monotonic() < deadline:
            time.sleep(0.05)
            seen = waiting(tid[0])
        assert seen is not None and seen.path == str(fifo)
        writer.write(b"x")
    thread.join(10)
    assert waiting(threading.get_native_id()) is None  # this thread runs: it waits in nothing


def test_an_anonymous_pipe_is_never_a_stuck_file() -> None:
    """Waiting on a pipe (a child's output, a terminal) is what pipes are for."""
    read_end, write_end = os.pipe()
    tid: list[int] = []

    def read() -> None:
        tid.append(threading.get_native_id())
        os.read(read_end, 1)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    time.sleep(0.3)
    assert waiting(tid[0]) is None
    os.write(write_end, b"x")
    thread.join(10)
    os.close(read_end)
    os.close(write_end)


def test_a_read_that_never_returns_is_reported_once(tmp_path: Path) -> None:
    fifo = tmp_path / "stuck.mov"
    os.mkfifo(fifo)
    reported: list[tuple[str, float]] = []
    writer: list[int] = []

    def release(path: str, seconds: float) -> None:
        reported.append((path, seconds))
        os.write(writer[0], b"x")  # lets the test's read return (a stuck mount would not)

    def open_writer() -> None:
        writer.append(os.open(fifo, os.O_WRONLY))

    opener = threading.Thread(target=open_writer, daemon=True)
    opener.start()
    began = time.monotonic()
    with open(fifo, "rb") as handle, watch_reads(release, seconds=0.5, every=0.05):
        opener.join(10)
        assert handle.read(1) == b"x"
    os.close(writer[0])
    assert reported == [(str(fifo), 0.5)]
    assert time.monotonic() - began < 10


def test_a_slow_read_that_makes_progress_is_not_stuck(tmp_path: Path) -> None:
    """A byte every tenth of a second for 1.5 s: each read returns, none waits 0.5 s."""
    fifo = tmp_path / "slow.mov"
    os.mkfifo(fifo)
    reported: list[tuple[str, float]] = []

    def trickle() -> None:
        with open(fifo, "wb", buffering=0) as out:
            for _ in range(15):
                time.sleep(0.1)
                out.write(b"x")

    writer = threading.Thread(target=trickle, daemon=True)
    writer.start()
    with (
        open(fifo, "rb", buffering=0) as handle,
        watch_reads(
            lambda path, seconds: reported.append((path, seconds)), seconds=0.5, every=0.05
        ),
    ):
        got = b""
        while len(got) < 15:
            got += handle.read(1)
    writer.join(10)
    assert reported == []


_STUCK_COMMAND = """
import sys
from cli import main as cli_main
from workers import probe, read_watchdog, render

read_watchdog.READ_SECONDS = 0.5
read_watchdog.LOOK_SECONDS = 0.05

def blocked(*args, **kwargs):
    with open(sys.argv[2], "rb") as handle:  # a FIFO nobody writes: a read that never returns
        handle.read(1)
    raise AssertionError("the read returned")

probe.media_report = render.render_to_file = blocked
sys.exit(cli_main.main(sys.argv[3:]))
"""


@pytest.mark.parametrize(
    "command", [["validate", "{project}"], ["render", "{project}", "-o", "{out}", "--direct"]]
)
def test_a_command_reading_media_on_a_mount_that_stopped_answering_ends_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    from tests.helpers import colour_project
    from tests.media import write_project

    project = write_project(tmp_path / "p.json", colour_project(1))
    out = tmp_path / "out.mp4"
    fifo = tmp_path / "take.mov"
    os.mkfifo(fifo)
    keep_open = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # its open returns; its read waits
    argv = [a.format(project=project, out=out) for a in command]
    try:
        done = subprocess.run(
            [sys.executable, "-c", _STUCK_COMMAND, str(project), str(fifo), *argv],
            capture_output=True,
            text=True,
            timeout=60,
            env=subprocess_env(),
            cwd=Path(__file__).resolve().parents[2],
        )
    finally:
        os.close(keep_open)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"error: reading {fifo} did not finish in 0.5 s: is it on a network mount that "
        "stopped answering? copy it to a local disk and use the copy\n"
    )
    assert not out.exists()


_STUCK_CHUNK = """
import json
import sys
from chunking.timeline.studio import load_project
from tests.helpers import colour_project
from workers import read_watchdog, render, render_process

read_watchdog.CHUNK_READ_SECONDS = 0.5
read_watchdog.LOOK_SECONDS = 0.05

def blocked(*args, **kwargs):
    with open(sys.argv[1], "rb") as handle:  # a FIFO nobody writes: a read that never returns
        handle.read(1)
    raise AssertionError("the read returned")

render.render_to_file = blocked
timeline = load_project(colour_project(1), ".")
request = {"timeline": timeline, "output": sys.argv[2], "start": 0, "end": 30,
           "hardware": {}, "threads": 1}
sys.exit(render_process.serve(request, sys.stdout))
"""


def test_a_chunk_reading_media_on_a_mount_that_stopped_answering_fails_naming_it(
    tmp_path: Path,
) -> None:
    """A cluster chunk's render waited for ever there: after 60 s of silence the failover
    requeued it on another node, and after three its job failed with "chunk made no progress",
    the file unnamed. Now its render process reports the file (transient: another node's
    mount may answer) and ends."""
    fifo = tmp_path / "take.mov"
    os.mkfifo(fifo)
    keep_open = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # its open returns; its read waits
    try:
        done = subprocess.run(
            [sys.executable, "-c", _STUCK_CHUNK, str(fifo), str(tmp_path / "000000.mkv")],
            capture_output=True,
            text=True,
            timeout=60,
            env=subprocess_env(),
            cwd=Path(__file__).resolve().parents[2],
        )
    finally:
        os.close(keep_open)
    assert done.returncode == render_process.REPORTED, done.stderr
    error = json.loads(done.stdout.splitlines()[-1])["error"]
    assert error == {
        "kind": "render",
        "class": "MediaError",
        "message": f"reading {fifo} did not finish in 0.5 s: is it on a network mount that "
        "stopped answering? copy it to a local disk and use the copy",
        "transient": True,
    }
