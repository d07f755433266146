"""A slow frame's render reports the chunk alive while its process works; a hung one does not
(a frame over a minute was taken for a stall, rendered on three nodes and failed its job)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from chunking.timeline.project import read_project
from orchestrator.health import STALLED_SECONDS
from tests.helpers import project, solid, video_track
from workers import liveness, tasks
from workers.job_spec import JobSpec
from workers.liveness import BusyProbe, alive_while_busy, descendants_cpu

pytestmark = pytest.mark.timeout(60)

BURN = "import time\nend = time.monotonic() + 30\nwhile time.monotonic() < end: pass"


def _under_shell(code: str) -> subprocess.Popen[bytes]:
    """A shell whose child runs ``code`` (the shell stays its parent: ``; :`` keeps it from
    exec'ing), as the worker is the parent of a chunk's render process."""
    return subprocess.Popen(["sh", "-c", f'"{sys.executable}" -c "$0"; :', code])


@pytest.fixture
def burning() -> Iterator[subprocess.Popen[bytes]]:
    proc = _under_shell(BURN)
    yield proc
    subprocess.run(["pkill", "-KILL", "-P", str(proc.pid)], check=False)
    proc.kill()
    proc.wait()


@pytest.fixture
def hung() -> Iterator[subprocess.Popen[bytes]]:
    proc = _under_shell("import time; time.sleep(30)")
    yield proc
    subprocess.run(["pkill", "-KILL", "-P", str(proc.pid)], check=False)
    proc.kill()
    proc.wait()


def _busy_within(probe: BusyProbe, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    probe.busy()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        if probe.busy():
            return True
    return False


def test_a_working_render_is_busy_and_a_hung_one_is_not(
    burning: subprocess.Popen[bytes], hung: subprocess.Popen[bytes]
) -> None:
    assert _busy_within(BusyProbe(burning.pid), 10)
    idle = BusyProbe(hung.pid)
    idle.busy()
    time.sleep(0.5)
    assert not idle.busy()
    assert descendants_cpu(hung.pid) is not None


def test_reports_only_while_the_probe_sees_work() -> None:
    reports: list[int] = []
    working = [True]
    with alive_while_busy(lambda: reports.append(1), 0.01, lambda: working[0]):
        deadline = time.monotonic() + 10
        while len(reports) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(reports) >= 3
        working[0] = False
        time.sleep(0.05)
        during = len(reports)
        time.sleep(0.1)
        assert len(reports) == during  # hung: silent, so the orchestrator sees a stall
    assert liveness.ALIVE_SECONDS < STALLED_SECONDS / 2


def test_a_failing_report_does_not_stop_the_timer() -> None:
    tries: list[int] = []

    def flaky() -> None:
        tries.append(1)
        raise ConnectionError("Redis is restarting")

    with alive_while_busy(flaky, 0.01, lambda: True):
        deadline = time.monotonic() + 10
        while len(tries) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert len(tries) >= 3


class _Service:
    """The hooks a chunk's render reaches: its progress reports are recorded."""

    def __init__(self) -> None:
        self.reports: list[tuple[int, int]] = []

    def chunk_progress(self, job_id: str, index: int, done: int, total: int) -> None:
        self.reports.append((done, total))

    def should_stop(self, job_id: str, index: int, node: str) -> str | None:
        return None

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def test_a_chunk_on_one_slow_frame_reports_it_is_alive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = project([video_track("v", [{"id": "c", "start_time": 0, "end_time": 0.5,
                                      **solid("#336699")}])], size=(64, 36), fps=20)  # fmt: skip
    timeline = read_project(doc, base_dir=str(tmp_path)).timeline
    spec = JobSpec(
        id="job", project=doc, base_dir=str(tmp_path), export={}, frames=timeline.frames,
        storage_url=f"file://{tmp_path / 'storage'}", output_ext="mp4", chunks=[(0, 10)],
    )  # fmt: skip
    service = _Service()

    def slow_frame(timeline: Any, output: str, **kwargs: Any) -> Any:
        # Frame 3 of 10 takes long: its process works, reporting no frame meanwhile.
        kwargs["progress"](3, 10)
        burner = subprocess.Popen([sys.executable, "-c", BURN])
        deadline = time.monotonic() + 20
        while len(service.reports) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        burner.kill()
        burner.wait()
        Path(output).write_bytes(b"segment")
        summary = SimpleNamespace(warnings=[], encoder="x", hardware=False, compositor="cpu")
        return SimpleNamespace(summary=summary)

    monkeypatch.setattr(tasks, "render_segment", slow_frame)
    monkeypatch.setattr(liveness, "ALIVE_SECONDS", 0.2)
    task = SimpleNamespace(app=SimpleNamespace(conf={}))
    tasks._render_segment(task, service, spec, 0, 0, 10, "node-a")  # type: ignore[arg-type]
    alive = [r for r in service.reports if r == (3, 10)]
    assert len(alive) >= 3  # the frame's report, then the timer's while the process worked
