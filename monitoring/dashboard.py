"""`cloudrender dashboard`: the spec's Real-time Dashboard as a live curses screen.

``collect`` reads the cluster into a ``Snapshot``; ``monitoring.dashboard_view.render_screen``
turns a snapshot into lines of text, apart from the curses loop (``run_dashboard``), so the
screen can be tested without a terminal. Every number shown is measured: cluster figures come
from the job store and worker heartbeats, CPU and memory from /proc on this host.
"""

from __future__ import annotations

import curses
import dataclasses
import locale
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common.errors import ClusterError, RenderError
from monitoring.dashboard_view import (
    INTERRUPTED,
    JobRow,
    Resources,
    Snapshot,
    accuracy_line,
    budget_line,
    job_row,
    pool_line,
    render_screen,
)
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_estimate import accuracy
from orchestrator.budgets import statuses
from orchestrator.job_record import ChunkState, JobNotFound
from orchestrator.node_roles import ROLE_RENDER
from workers.gpus import GpuStats, gpu_stats
from workers.host import HostSample, HostSampler, host_stats

#: Where the same figures are without a terminal.
ELSEWHERE = (
    "instead, use the web dashboard (`cloudrender serve`, then its / page), "
    "`cloudrender cluster status` or `cloudrender status JOB --watch`"
)

# -- measuring ---------------------------------------------------------------------------------


class ResourceReader:
    """This host's CPU (between two calls) and memory through workers.host; GPUs through NVML."""

    def __init__(
        self,
        proc: Path = Path("/proc"),
        gpus: Callable[[], list[GpuStats]] = gpu_stats,
    ) -> None:
        self.host = HostSampler(proc)
        self.gpus = gpus
        self._last: HostSample | None = None

    def sample(self) -> Resources:
        """Measure now; CPU is the busy share since the previous call (None on the first)."""
        current = self.host.sample()
        stats = host_stats(self._last or current, current)
        self._last = current
        used, total = stats.memory_used_bytes, stats.memory_total_bytes
        gpu, note = self._gpu()
        return Resources(
            cpu=stats.cpu_utilization_percent,
            memory=100.0 * used / total if used is not None and total else None,
            memory_used=used or 0,
            memory_total=total or 0,
            gpu=gpu,
            gpu_note=note,
        )

    def _gpu(self) -> tuple[float | None, str]:
        try:
            stats = self.gpus()
        except Exception as exc:  # optional: never let a GPU reader end the dashboard
            return None, f"no GPU reading ({_describe(exc)})"
        if not stats:
            return None, "no GPU"
        average = sum(g.utilization for g in stats) / len(stats)
        return average, f"{len(stats)} GPU" + ("s" if len(stats) > 1 else "")


def _measured(api: CloudRenderingAPI, jobs: int = 20) -> list[dict[str, Any]]:
    """Estimate against actual of the newest finished jobs (of the last `jobs` stored)."""
    found = []
    for job_id in api.store.recent(jobs):
        try:
            measured = accuracy(api.get_job_status(job_id))
        except JobNotFound:
            continue
        if measured is not None:
            found.append(measured)
    return found


def collect(
    api: CloudRenderingAPI,
    resources: Resources,
    *,
    max_nodes: int | None = None,
    now: float | None = None,
) -> Snapshot:
    """Read the cluster and its active jobs into a Snapshot (raises what the API raises)."""
    # The cluster's time: its records' times are Redis's clock, not this machine's.
    now = api.store.now() if now is None else now
    cluster = api.get_cluster_status()
    paused = api.paused()
    rows: list[JobRow] = []
    busy = 0
    for job_id in api.store.active():
        try:
            record = api.get_job_status(job_id)
        except JobNotFound:
            continue  # finished and expired between the two reads
        busy += sum(1 for c in record.chunks if c.state is ChunkState.RUNNING)
        rows.append(job_row(record, now))
    return Snapshot(
        taken_at=now,
        updated_at=now,
        # Render hosts only: the orchestrator's pool plans jobs and is no worker slot.
        nodes=sum(1 for n in cluster.nodes if n.role == ROLE_RENDER),
        slots=cluster.slots,
        max_nodes=max_nodes if max_nodes is not None else cluster.slots,
        busy=busy,
        queued_chunks=cluster.queued_chunks,
        fps=sum(r.fps for r in rows),
        hourly_rate=api.settings.hourly_rate,
        paused=paused,
        jobs=tuple(rows),
        pools=tuple(pool_line(p) for p in cluster.pools),
        budgets=tuple(budget_line(b) for b in statuses(api.store.redis, now)),
        accuracy=accuracy_line(_measured(api)),
        resources=resources,
    )


# -- the curses loop ---------------------------------------------------------------------------


class Dashboard:
    """The dashboard's state between key presses; `handle` acts on one key."""

    def __init__(
        self,
        api: CloudRenderingAPI,
        *,
        max_nodes: int | None = None,
        sampler: ResourceReader | None = None,
    ) -> None:
        self.api = api
        self.max_nodes = max_nodes
        self.sampler = sampler or ResourceReader()
        self.snapshot = Snapshot(taken_at=time.time(), updated_at=None)
        self.version = 0  # bumped whenever the screen should change
        self.status = ""
        self.confirming: int | None = None  # active jobs counted when `e` was pressed
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> Snapshot:
        """Measure everything again; an API error goes to the status line."""
        resources = self.sampler.sample()
        with self._lock:  # the host's figures need no Redis: show them at once
            self.snapshot = dataclasses.replace(self.snapshot, resources=resources)
            self.version += 1
        now = time.time()
        try:
            fresh = collect(self.api, resources, max_nodes=self.max_nodes, now=now)
        except Exception as exc:  # a dashboard outlives a Redis restart
            with self._lock:
                fresh = dataclasses.replace(
                    self.snapshot, taken_at=now, resources=resources, error=_describe(exc)
                )
        with self._lock:
            self.snapshot = fresh
            self.version += 1
        return self.view()

    def view(self) -> Snapshot:
        """The current snapshot with the status line and any question."""
        prompt = None
        if self.confirming is not None:
            prompt = f"Cancel ALL {self.confirming} active jobs? [y/N]"
        with self._lock:
            return dataclasses.replace(self.snapshot, status=self.status, prompt=prompt)

    def start(self, refresh: float) -> None:
        """Refresh every `refresh` seconds in a background thread (Redis may be slow to answer)."""

        def loop() -> None:
            while not self._stop.is_set():
                self.refresh()
                self._wake.wait(refresh)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="dashboard-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the background refreshes (without waiting on a Redis call in progress)."""
        self._stop.set()
        self._wake.set()

    def handle(self, key: str) -> bool:
        """Act on a key press; False means quit."""
        if self.confirming is not None:
            self.confirming = None
            if key in ("y", "Y"):
                self._act(self._cancel_all)
            else:
                self.status = "Emergency stop aborted: nothing was cancelled."
            return True
        if key in ("q", "Q"):
            return False
        if key in ("+", "="):
            self._act(lambda: self._scale(+1))
        elif key in ("-", "_"):
            self._act(lambda: self._scale(-1))
        elif key in ("p", "P"):
            self._act(self._toggle_pause)
        elif key in ("e", "E"):
            self._act(self._ask_cancel)
        return True

    def _act(self, action: Callable[[], str | None]) -> None:
        try:
            message = action()
        except Exception as exc:
            self.status = f"ERROR: {_describe(exc)}"
        else:
            if message is not None:
                self.status = message
        self._wake.set()  # show the action's effect without waiting for the next refresh

    def _scale(self, step: int) -> str:
        slots = self.api.get_cluster_status().slots
        target = slots + step
        if target < 1:
            return f"Not scaling below 1 slot (the cluster has {slots})."
        if self.max_nodes is not None and target > self.max_nodes:
            return f"Not scaling above the maximum of {self.max_nodes} slots."
        changes = self.api.scale_cluster(target)
        spread = ", ".join(f"{node} {change:+d}" for node, change in changes.items())
        return f"Asked the workers for {target} slots ({spread}); heartbeats follow in seconds."

    def _toggle_pause(self) -> str:
        if self.api.paused():
            self.api.resume_all()
            return "Resumed: chunks are dispatched again."
        self.api.pause_all()
        return "Paused: running chunks finish, queued ones wait."

    def _ask_cancel(self) -> str | None:
        count = len(self.api.store.active())
        if count == 0:
            return "Emergency stop: there are no active jobs to cancel."
        self.confirming = count
        return None

    def _cancel_all(self) -> str:
        cancelled = self.api.cancel_all()
        return f"Emergency stop: cancelled {len(cancelled)} jobs."


def run_dashboard(
    api: CloudRenderingAPI, *, refresh: float = 1.0, max_nodes: int | None = None
) -> int:
    """Show the live dashboard until `q` (returns 0) or Ctrl-C (returns 130); RenderError
    without a terminal to draw on."""
    if refresh <= 0:
        raise ValueError(f"refresh must be positive, not {refresh}")
    require_terminal()
    locale.setlocale(locale.LC_ALL, "")
    unicode = "utf" in locale.getpreferredencoding(False).lower().replace("-", "")
    dashboard = Dashboard(api, max_nodes=max_nodes)
    dashboard.start(refresh)
    try:
        curses.wrapper(lambda screen: _loop(screen, dashboard, unicode))
    except KeyboardInterrupt:
        return INTERRUPTED
    except curses.error as exc:
        # A terminal curses cannot drive (TERM unset or unknown): one line, no traceback.
        raise RenderError(f"the dashboard cannot use this terminal ({exc}); {ELSEWHERE}") from None
    finally:
        dashboard.stop()
    return 0


def require_terminal() -> None:
    """RenderError unless standard input and output are a terminal (ssh without -t, cron and
    CI have none, and curses failed there with a traceback)."""
    try:
        terminal = sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty()
    except (ValueError, AttributeError):  # closed or replaced streams
        terminal = False
    if not terminal:
        raise RenderError(
            f"the dashboard needs a terminal (standard input and output must be a TTY; over ssh "
            f"use ssh -t); {ELSEWHERE}"
        )


def _loop(screen: curses.window, dashboard: Dashboard, unicode: bool) -> None:
    try:
        curses.curs_set(0)
    except curses.error:
        pass  # a terminal without an invisible cursor
    screen.timeout(100)
    drawn = -1
    while True:
        if dashboard.version != drawn:
            drawn = dashboard.version
            _draw(screen, dashboard.view(), unicode)
        key = screen.getch()
        if key == curses.KEY_RESIZE:
            drawn = -1
        elif 0 <= key < 256:
            if not dashboard.handle(chr(key)):
                return
            drawn = -1


def _draw(screen: curses.window, view: Snapshot, unicode: bool) -> None:
    height, width = screen.getmaxyx()
    screen.erase()
    for y, line in enumerate(render_screen(view, width, height, unicode=unicode)):
        attr = curses.A_REVERSE if "*** PAUSED" in line or ">>> " in line else curses.A_NORMAL
        try:
            screen.addstr(y, 0, line, attr)
        except curses.error:
            pass  # writing the bottom-right cell moves the cursor off the screen
    screen.refresh()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClusterError) and exc.__cause__ is not None:
        # The API's wrapping of a Redis failure: the screen is narrow, name the failure itself.
        exc = exc.__cause__
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
