"""The live dashboard: pure screen rendering, and the real curses screen in tmux on a cluster."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from common.units import format_duration
from monitoring.dashboard import ResourceReader, collect
from monitoring.dashboard_view import (
    JobRow,
    Resources,
    Snapshot,
    accuracy_line,
    bar,
    budget_line,
    fit,
    job_row,
    pool_line,
    render_screen,
)
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_pools import PoolStatus
from orchestrator.budget_rules import Budget, BudgetStatus, Period, Scope
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState
from orchestrator.job_store import JobStore
from tests.helpers import ROOT, clock_ahead, slow_project, ten_seconds_into_rendering
from workers.gpus import GpuStats

NOW = 1_700_000_000.0

ROW = JobRow(
    id="0123456789abcdef",
    name="Project_Final_v3",
    state="rendering",
    priority="high",
    progress=0.67,
    fps=24.5,
    eta_seconds=75.0,
    eta_estimated=False,
    cost=0.0123,
)
LIVE = Snapshot(
    taken_at=NOW,
    updated_at=NOW,
    nodes=1,
    slots=2,
    max_nodes=4,
    busy=1,
    queued_chunks=3,
    fps=24.5,
    hourly_rate=0.10,
    jobs=(ROW,),
    resources=Resources(cpu=52.0, memory=64.0, memory_used=int(0.64 * 2**33), memory_total=2**33),
)


def text(lines: list[str]) -> str:
    return "\n".join(lines)


# -- pure parts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fraction", "cells", "expected"),
    [
        (0.0, 4, "░░░░"),
        (0.5, 4, "██░░"),
        (1.0, 4, "████"),
        (1.7, 4, "████"),
        (-1.0, 4, "░░░░"),
        (0.78, 20, "████████████████░░░░"),
    ],
)
def test_bar(fraction: float, cells: int, expected: str) -> None:
    assert bar(fraction, cells) == expected
    assert bar(fraction, cells, unicode=False) == expected.replace("█", "#").replace("░", ".")


@pytest.mark.parametrize(
    ("value", "width", "expected"),
    [("abc", 5, "abc  "), ("abcdef", 4, "abc…"), ("abc", 3, "abc"), ("abc", 0, ""), ("ab", 1, "a")],
)
def test_fit(value: str, width: int, expected: str) -> None:
    assert fit(value, width) == expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (42.4, "42s"),
        (185, "3m05s"),
        (7620, "2h07m"),
        # Before, these raised OverflowError / ValueError out of the dashboard and `cluster`.
        (float("inf"), "never"),
        (float("nan"), "?"),
        (float("-inf"), "0s"),
    ],
)
def test_format_duration(seconds: float, expected: str) -> None:
    assert format_duration(seconds) == expected


@pytest.mark.parametrize("width", [20, 40, 80, 120, 200])
def test_every_line_is_exactly_the_width(width: int) -> None:
    lines = render_screen(LIVE, width)
    assert all(len(line) == width for line in lines), [len(line) for line in lines]
    ascii_lines = render_screen(LIVE, width, unicode=False)
    assert all(len(line) == width and line.isascii() for line in ascii_lines)


FILM_DAY = BudgetStatus(
    Budget(Scope.PROJECT, "film", daily=20.0), Period.DAILY, "2026-12-02", 16.4, 20.0
)
MEASURED = [
    {"seconds_error_pct": -8.0, "cost_error_pct": 5.0},
    {"seconds_error_pct": 3.0, "cost_error_pct": -2.0},
    {"seconds_error_pct": 40.0, "cost_error_pct": 30.0},
]
GPU_POOL = PoolStatus(
    "gpu", "aws", "spot", max_nodes=8, desired=3, booting=1, running=2, draining=1,
    spend_per_hour=1.8,
)  # fmt: skip


@pytest.mark.parametrize(
    ("snapshot", "present", "absent"),
    [
        (
            LIVE,
            [
                "Cloud Rendering Dashboard",
                "Active Nodes: 2/4 worker slots (1 host, 1 busy)",
                "Queue Length: 3 chunks queued",
                "Current Rate: 24.5 fps",
                "Hourly Cost: $0.20/h (2 slots x $0.10/h)",
                "Active Jobs: 1",
                "01234567 Project_Final_v3",
                "rendering high   [█████████████░░░░░░░]  67.0%   24.5   1m15s    $0.0123",
                "GPU:    no GPU",
                "CPU:    ██████████░░░░░░░░░░  52%",
                "Memory: █████████████░░░░░░░  64%  (5.1/8.0 GiB)",
                "[+] Scale Up  [-] Scale Down  [p] Pause All/Resume  [e] Emergency Stop  [q] Quit",
            ],
            ["PAUSED", "ERROR", "0123456789"],
        ),
        (replace(LIVE, paused=True), ["*** PAUSED: no new chunks are dispatched"], []),
        (replace(LIVE, jobs=()), ["Active Jobs: 0", "(no active jobs)"], ["PROGRESS"]),
        (
            replace(LIVE, resources=Resources(gpu=78.0, gpu_note="2 GPUs")),
            ["GPU:    ████████████████░░░░  78%  (2 GPUs)", "CPU:    measuring..."],
            ["no GPU"],
        ),
        (
            replace(LIVE, jobs=(replace(ROW, eta_seconds=30.0, eta_estimated=True),)),
            ["~30s"],
            [],
        ),
        (replace(LIVE, jobs=(replace(ROW, eta_seconds=None),)), ["     ? "], []),
        (
            replace(LIVE, error="ConnectionError: refused"),
            ["ERROR: ConnectionError: refused (figures from ", "Active Nodes: 2/4"],
            [],
        ),
        (
            Snapshot(taken_at=NOW, updated_at=None, error="ConnectionError: refused"),
            ["ERROR: ConnectionError: refused", "└─ unavailable"],
            ["Active Nodes", "figures from"],
        ),
        (Snapshot(taken_at=NOW, updated_at=None), ["└─ reading..."], ["ERROR"]),
        (
            replace(LIVE, prompt="Cancel ALL 1 active jobs? [y/N]", status="old news"),
            [">>> Cancel ALL 1 active jobs? [y/N]"],
            ["old news"],
        ),
        (replace(LIVE, status="Emergency stop: cancelled 1 jobs."), ["cancelled 1 jobs."], []),
        (LIVE, [], ["Pools (autoscaled)", "Budgets:", "Estimates:"]),
        (
            replace(
                LIVE,
                budgets=(budget_line(FILM_DAY), budget_line(replace(FILM_DAY, spent=20.5))),
                accuracy=accuracy_line(MEASURED),
            ),
            [
                "Estimates: last 3 jobs: median time error 8 %, cost 5 %; 2 of 3 within 10 %",
                "Budgets:",
                "├─ project film daily 2026-12-02: $16.40 of $20.00 (82 %) (warning)",
                "└─ project film daily 2026-12-02: $20.50 of $20.00 (102 %) EXCEEDED: new jobs "
                "refused",
            ],
            [],
        ),
        (
            replace(LIVE, pools=(pool_line(GPU_POOL), pool_line(replace(GPU_POOL, error="503")))),
            [
                "Pools (autoscaled):",
                "├─ gpu (aws, spot): 2 running, 1 booting, 1 draining; wants 3 of 0-8; $1.80/h",
                "└─ gpu (aws, spot): 2 running, 1 booting, 1 draining; wants 3 of 0-8; $1.80/h; "
                "ERROR 503",
            ],
            [],
        ),
    ],
)
def test_render_screen(snapshot: Snapshot, present: list[str], absent: list[str]) -> None:
    screen = text(render_screen(snapshot, 140))
    for wanted in present:
        assert wanted in screen
    for unwanted in absent:
        assert unwanted not in screen


def test_narrow_screen_truncates_with_an_ellipsis() -> None:
    lines = render_screen(replace(LIVE, paused=True), 40)
    assert lines[1] == "│ *** PAUSED: no new chunks are dispa… │"
    assert lines[0].startswith("┌─ Cloud Rendering Dashboard") and lines[0].endswith("┐")
    assert lines[-1] == "└" + "─" * 38 + "┘"


def test_job_columns_fit_an_80_column_terminal() -> None:
    lines = render_screen(LIVE, 80)
    row = next(line for line in lines if line.startswith("│ 01234567"))
    assert row == "│ 01234567 Project… rendering high   [████░░]  67.0%   24.5   1m15s    $0.0123 │"
    header = next(line for line in lines if "PROGRESS" in line)
    assert header.index("COST") + 4 == row.index("$0.0123") + 7


def test_many_jobs_are_cut_to_the_height_keeping_the_footer() -> None:
    jobs = tuple(replace(ROW, id=f"{i:016x}") for i in range(50))
    lines = render_screen(replace(LIVE, jobs=jobs), 120, 30)
    screen = text(lines)
    assert len(lines) == 30
    assert "more jobs" in screen and "[q] Quit" in lines[-2]
    assert "Active Jobs: 50" in screen


def test_job_row_measures_fps_eta_and_running_cost() -> None:
    job = JobRecord(
        id="feedface00000000",
        name="ad",
        state=JobState.RENDERING,
        frames=300,
        started_at=NOW - 10,
        node_seconds=36.0,
        hourly_rate=1.0,
        chunks=[
            ChunkRecord(0, 0, 100, ChunkState.DONE, frames_done=100),
            ChunkRecord(1, 100, 200, ChunkState.RUNNING, frames_done=20, started_at=NOW - 4),
            ChunkRecord(2, 200, 300),
        ],
        frames_done=120,
    )
    row = job_row(job, NOW)
    assert row.progress == pytest.approx(0.4)
    assert row.fps == pytest.approx(5.0)  # 20 frames in the running chunk's 4 seconds
    assert row.eta_seconds == pytest.approx(180 / 12)  # 120 frames in 10 s: 12 fps
    assert not row.eta_estimated
    assert row.cost == pytest.approx((36 + 4) / 3600)

    waiting = job_row(replace(job, started_at=None, frames_done=0, eta_seconds=50.0), NOW)
    assert waiting.eta_seconds == 50.0 and waiting.eta_estimated
    finished = job_row(replace(job, state=JobState.COMPLETED, actual_cost=0.5), NOW)
    assert finished.cost == 0.5 and finished.eta_seconds == 0.0


def test_job_row_eta_leaves_out_frames_from_the_segment_cache() -> None:
    # 480 frames reused at the start, 60 rendered in the 10 s since: 6 fps, 60 frames to go
    job = JobRecord(
        id="feedface00000000",
        state=JobState.RENDERING,
        frames=600,
        frames_done=540,
        started_at=NOW - 10,
        chunks=[
            ChunkRecord(0, 0, 480, ChunkState.DONE, frames_done=480, reused=True),
            ChunkRecord(1, 480, 600, ChunkState.RUNNING, frames_done=60, started_at=NOW - 10),
        ],
    )
    assert job_row(job, NOW).eta_seconds == pytest.approx(10.0)  # not 60 / 54 fps


def _proc(tmp: Path, stat: str, meminfo: str) -> Path:
    (tmp / "stat").write_text(stat)
    (tmp / "meminfo").write_text(meminfo)
    return tmp


def test_resource_reader_reads_cpu_between_samples_and_memory(tmp_path: Path) -> None:
    proc = _proc(
        tmp_path,
        "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3\n",
        "MemTotal:       1000 kB\nMemFree:  100 kB\nMemAvailable:    250 kB\n",
    )
    sampler = ResourceReader(proc, gpus=list)
    first = sampler.sample()
    assert first.cpu is None  # one sample is no rate
    assert first.memory == pytest.approx(75.0)
    assert (first.memory_used, first.memory_total) == (750 * 1024, 1000 * 1024)
    assert first.gpu is None and first.gpu_note == "no GPU"
    (proc / "stat").write_text("cpu  160 0 100 720 120 0 0 0 0 0\n")  # +60 busy, +40 idle
    assert sampler.sample().cpu == pytest.approx(60.0)


def test_resource_reader_gpu_average_and_reader_errors(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "cpu 1 1 1 1 1 1 1 1\n", "MemTotal: 10 kB\nMemAvailable: 5 kB\n")

    def gpu(index: int, utilization: float) -> GpuStats:
        return GpuStats(
            index, "H100", "u", utilization, 0, 0, 1, None, None, None, None, None, None
        )

    two = ResourceReader(proc, gpus=lambda: [gpu(0, 50.0), gpu(1, 100.0)]).sample()
    assert two.gpu == pytest.approx(75.0) and two.gpu_note == "2 GPUs"

    def broken() -> list[GpuStats]:
        raise RuntimeError("driver went away")

    failed = ResourceReader(proc, gpus=broken).sample()
    assert failed.gpu is None and "driver went away" in failed.gpu_note


def test_resource_reader_without_proc(tmp_path: Path) -> None:
    empty = ResourceReader(tmp_path, gpus=list).sample()
    assert empty.cpu is None and empty.memory is None
    assert "Memory: not measured" in text(render_screen(replace(LIVE, resources=empty), 100))


# -- the real screen, in tmux ------------------------------------------------------------------


class Tmux:
    """A private tmux server (own socket) running one command in a fixed-size pane."""

    def __init__(self, tmp: Path) -> None:
        self.socket = f"dashboard-test-{uuid.uuid4().hex[:8]}"
        self.rc_file = tmp / "rc"
        self.socket_path: Path | None = None

    def tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args[:2])} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, python: str) -> None:
        # The pane's Ctrl-C reaches the shell too: a trap keeps it alive to record the status
        # (a trapped signal is back to its default in the child, so Python still sees it).
        script = (
            "trap : INT; "
            f"{shlex.quote(sys.executable)} -c {shlex.quote(python)}; "
            f"echo $? > {shlex.quote(str(self.rc_file))}; echo DASHBOARD-EXITED; sleep 600"
        )
        self.tmux(
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "40",
            "-s",
            "dash",
            "-e",
            f"PYTHONPATH={ROOT}",
            "-e",
            "LANG=C.UTF-8",
            "-e",
            "LC_ALL=C.UTF-8",
            "sh",
            "-c",
            script,
        )
        self.socket_path = Path(self.tmux("display-message", "-p", "#{socket_path}").strip())
        # Without a client terminal the size given to new-session may not stick: fix it.
        self.tmux("set-option", "-g", "window-size", "manual")
        self.tmux("resize-window", "-t", "dash", "-x", "120", "-y", "40")
        size = self.tmux("display-message", "-p", "-t", "dash", "#{pane_width}x#{pane_height}")
        assert size.strip() == "120x40", size

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "dash")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "dash", *keys)

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"screen never showed {what} in {timeout:g}s:\n{screen}")

    def exit_status(self, timeout: float = 20) -> int:
        self.wait_for(lambda s: "DASHBOARD-EXITED" in s, "the dashboard's exit", timeout)
        return int(self.rc_file.read_text().strip())

    def kill(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=20, check=False
        )
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        # Like the other tools the suite needs: a developer without tmux skips, CI must not.
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed (scripts/test.sh installs it with apt-get)")
        pytest.skip("tmux is not installed")
    server = Tmux(tmp_path)
    try:
        yield server
    finally:
        server.kill()


def dashboard_command(broker: str, storage: str, refresh: float = 0.3) -> str:
    return (
        "from orchestrator.api import CloudRenderingAPI; "
        "from monitoring.dashboard import run_dashboard; import sys; "
        f"sys.exit(run_dashboard(CloudRenderingAPI({broker!r}, storage_url={storage!r}), "
        f"refresh={refresh}))"
    )


def _wait(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_live_dashboard_on_a_real_cluster(tmux: Tmux, tmp_path: Path) -> None:
    storage = f"file://{tmp_path / 'storage'}"
    with EmbeddedCluster(workers=1) as cluster:
        api = CloudRenderingAPI(cluster.broker_url, storage_url=storage)
        job = api.submit_job(
            slow_project(tmp_path, 20.0),
            output=str(tmp_path / "out.mp4"),
            chunk_frames=30,
            base_dir=str(tmp_path),
        )
        _wait(lambda: api.get_job_status(job).frames_done > 0, "the first rendered frames")
        tmux.start(dashboard_command(cluster.broker_url, storage))

        progress = re.compile(re.escape(job[:8]) + r" .*\] +(\d+\.\d)% ")
        screen = tmux.wait_for(
            lambda s: (m := progress.search(s)) is not None and float(m.group(1)) > 0,
            "the job with some progress",
        )
        assert "nodes" in screen.lower() and "Active Nodes: 1/1 worker slots" in screen
        assert "Active Jobs: 1" in screen and "rendering" in screen
        assert "CPU:" in screen and "Memory:" in screen and "GPU:" in screen

        tmux.keys("-")
        tmux.wait_for(lambda s: "Not scaling below 1 slot" in s, "the scale-down refusal")

        tmux.keys("p")
        tmux.wait_for(lambda s: "*** PAUSED" in s, "the paused banner")
        assert api.paused()
        tmux.keys("p")
        tmux.wait_for(lambda s: "Resumed" in s and "*** PAUSED" not in s, "the resume")
        assert not api.paused()

        tmux.keys("e")
        tmux.wait_for(lambda s: "Cancel ALL 1 active jobs? [y/N]" in s, "the question")
        tmux.keys("n")
        tmux.wait_for(lambda s: "nothing was cancelled" in s, "the refusal")
        assert api.get_job_status(job).state is not JobState.CANCELLED

        tmux.keys("e")
        tmux.wait_for(lambda s: "Cancel ALL 1 active jobs? [y/N]" in s, "the question again")
        tmux.keys("y")
        tmux.wait_for(lambda s: "cancelled 1 jobs" in s, "the emergency stop")
        assert api.get_job_status(job).state is JobState.CANCELLED
        tmux.wait_for(lambda s: "(no active jobs)" in s, "an empty job table")

        tmux.keys("q")
        assert tmux.exit_status() == 0
        # The terminal's own screen is back: no dashboard left on it.
        assert "Cloud Rendering Dashboard" not in tmux.screen()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.timeout(120)
def test_redis_away_is_a_status_line_and_ctrl_c_restores(tmux: Tmux, tmp_path: Path) -> None:
    # Nothing listens on this port: every API call fails (after the store's retries).
    broker = f"redis://127.0.0.1:{_free_port()}/0"
    tmux.start(dashboard_command(broker, f"file://{tmp_path}"))
    screen = tmux.wait_for(lambda s: "ERROR: ConnectionError" in s, "the error line", 90)
    assert "Traceback" not in screen and "└─ unavailable" in screen
    tmux.keys("C-c")
    assert tmux.exit_status() == 130
    after = tmux.screen()
    assert "Cloud Rendering Dashboard" not in after and "Traceback" not in after


def test_the_dashboard_measures_jobs_on_the_clusters_clock(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records carry the cluster's time (Redis's clock): a dashboard on a machine five minutes
    ahead showed a job 10 s into rendering at 60 of 600 frames with ETA 2790 s, not 90 s."""
    store = JobStore.from_url(redis_url)
    ten_seconds_into_rendering(store)
    clock_ahead(monkeypatch, 300)
    (row,) = collect(CloudRenderingAPI(redis_url), Resources()).jobs
    assert row.eta_seconds is not None and 80 <= row.eta_seconds <= 140
