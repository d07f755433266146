"""`cloudrender dashboard`: the spec's Real-time Dashboard as a live curses screen.

The pure part (``collect`` reads the cluster into a ``Snapshot``; ``render_screen`` turns a
snapshot into lines of text) is separate from the curses loop (``run_dashboard``), so the
screen can be tested without a terminal. Every number shown is measured: cluster figures come
from the job store and worker heartbeats, CPU and memory from /proc on this host.
"""

from __future__ import annotations

import curses
import dataclasses
import locale
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from monitoring.gpu import GpuStats, gpu_stats
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_record import ChunkState, JobNotFound, JobRecord

#: Cells of the progress and resource bars.
JOB_BAR = 20
RESOURCE_BAR = 20
#: Exit status after Ctrl-C (128 + SIGINT), as a shell reports it.
INTERRUPTED = 130

_KEYS = "[+] Scale Up  [-] Scale Down  [p] Pause All/Resume  [e] Emergency Stop  [q] Quit"


@dataclass(frozen=True)
class JobRow:
    """One active job as the dashboard's table shows it."""

    id: str
    name: str
    state: str
    priority: str
    progress: float  # 0..1
    fps: float  # frames per second of its running chunks now
    eta_seconds: float | None
    eta_estimated: bool  # True when the ETA is the planner's estimate, not measured speed
    cost: float  # dollars so far


@dataclass(frozen=True)
class Resources:
    """Utilisation of this host, in percent; None where not (yet) measured."""

    cpu: float | None = None
    memory: float | None = None
    memory_used: int = 0  # bytes
    memory_total: int = 0  # bytes
    gpu: float | None = None
    gpu_note: str = "no GPU"  # shown instead of a GPU bar when gpu is None


@dataclass(frozen=True)
class Snapshot:
    """Everything one frame of the dashboard shows."""

    taken_at: float
    updated_at: float | None  # when the cluster figures were read; None: never
    nodes: int = 0  # live worker hosts (heartbeats)
    slots: int = 0  # worker processes on them
    max_nodes: int = 0  # the scale ceiling shown after the slash
    busy: int = 0  # slots rendering a chunk now
    queued_chunks: int = 0
    fps: float = 0.0
    hourly_rate: float = 0.0  # dollars per slot-hour
    paused: bool = False
    jobs: tuple[JobRow, ...] = ()
    resources: Resources = field(default_factory=Resources)
    status: str = ""  # the last action's outcome
    error: str | None = None  # why the cluster could not be read this time
    prompt: str | None = None  # a question waiting for a key

    @property
    def hourly_cost(self) -> float:
        """Dollars per hour the live slots cost."""
        return self.slots * self.hourly_rate


# -- pure formatting ---------------------------------------------------------------------------


def bar(fraction: float, cells: int, *, unicode: bool = True) -> str:
    """A bar of `cells` cells, filled to `fraction` (clamped to 0..1)."""
    fraction = min(max(fraction, 0.0), 1.0)
    filled = int(round(fraction * cells))
    full, empty = ("█", "░") if unicode else ("#", ".")
    return full * filled + empty * (cells - filled)


def fit(text: str, width: int, *, unicode: bool = True) -> str:
    """`text` cut or padded to exactly `width` characters (cut text ends in an ellipsis)."""
    if width <= 0:
        return ""
    if len(text) > width:
        return text[: width - 1] + ("…" if unicode else "~") if width > 1 else text[:width]
    return text.ljust(width)


def format_duration(seconds: float) -> str:
    """Seconds as 42s, 3m05s or 2h07m."""
    whole = max(int(round(seconds)), 0)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def job_row(job: JobRecord, now: float) -> JobRow:
    """The table row of a job record, measured at `now`."""
    running = [c for c in job.chunks if c.state is ChunkState.RUNNING and c.started_at]
    fps = sum(c.frames_done / max(now - (c.started_at or now), 1e-3) for c in running)
    elapsed = now - job.started_at if job.started_at else 0.0
    average = job.frames_done / elapsed if elapsed > 0 else 0.0
    remaining = max(job.frames - job.frames_done, 0)
    eta: float | None = None
    estimated = False
    if job.state.finished:
        eta = 0.0
    elif average > 0:
        eta = remaining / average
    elif job.eta_seconds is not None:
        eta, estimated = job.eta_seconds, True
    if job.state.finished:
        cost = job.actual_cost
    else:
        seconds = job.node_seconds + sum(now - (c.started_at or now) for c in running)
        cost = seconds / 3600 * job.hourly_rate
    return JobRow(
        id=job.id,
        name=job.name,
        state=str(job.state),
        priority=job.priority,
        progress=job.progress,
        fps=fps,
        eta_seconds=eta,
        eta_estimated=estimated,
        cost=cost,
    )


def render_screen(
    snapshot: Snapshot, width: int, height: int | None = None, *, unicode: bool = True
) -> list[str]:
    """The dashboard as lines of exactly `width` characters (at most `height` lines if given)."""
    width = max(width, 8)
    inner = width - 4
    h, v = ("─", "│") if unicode else ("-", "|")
    tl, tr, bl, br, lj, rj = ("┌", "┐", "└", "┘", "├", "┤") if unicode else "++++++"
    tee, end = ("├─", "└─") if unicode else ("|-", "`-")

    def _rule(left: str, right: str, title: str) -> str:
        label = f" {title} " if title else ""
        return (left + h + label + h * width)[: width - 1] + right

    def row(text: str = "") -> str:
        return f"{v} {fit(text, inner, unicode=unicode)} {v}"

    clock = time.strftime("%H:%M:%S", time.localtime(snapshot.taken_at))
    head = [_rule(tl, tr, f"Cloud Rendering Dashboard  {clock}")]
    if snapshot.paused:
        head.append(row("*** PAUSED: no new chunks are dispatched; press p to resume ***"))
    if snapshot.error:
        when = (
            f" (figures from {time.strftime('%H:%M:%S', time.localtime(snapshot.updated_at))})"
            if snapshot.updated_at is not None
            else ""
        )
        head.append(row(f"ERROR: {snapshot.error}{when}"))
    head.append(row("Cluster Status:"))
    if snapshot.updated_at is None:
        head.append(row(f"{end} {'unavailable' if snapshot.error else 'reading...'}"))
    else:
        s = snapshot
        host = "host" if s.nodes == 1 else "hosts"
        head += [
            row(
                f"{tee} Active Nodes: {s.slots}/{s.max_nodes} worker slots "
                f"({s.nodes} {host}, {s.busy} busy)"
            ),
            row(f"{tee} Queue Length: {s.queued_chunks} chunks queued"),
            row(f"{tee} Current Rate: {s.fps:.1f} fps"),
            row(
                f"{end} Hourly Cost: ${s.hourly_cost:.2f}/h "
                f"({s.slots} slots x ${s.hourly_rate:.2f}/h)"
            ),
        ]
    head.append(row())
    head.append(row(f"Active Jobs: {len(snapshot.jobs)}"))

    # A row is 62 characters plus the name and the bar: the name takes what the widest bar
    # leaves, and on narrow screens the bar shrinks before ETA and cost are cut off.
    room = inner - 62
    name_width = max(room - JOB_BAR, 8)
    cells = min(max(room - name_width, 4), JOB_BAR)
    columns = (
        f"{'ID':<8} {fit('NAME', name_width, unicode=unicode)} {'STATE':<9} {'PRIO':<6} "
        f"{'PROGRESS':<{cells + 9}} {'FPS':>6} {'ETA':>7} {'COST':>10}"
    )
    table = [row(columns)] if snapshot.jobs else [row("(no active jobs)")]
    for job in snapshot.jobs:
        eta = "?" if job.eta_seconds is None else format_duration(job.eta_seconds)
        if job.eta_estimated:
            eta = "~" + eta
        name = fit(job.name or "-", name_width, unicode=unicode)
        table.append(
            row(
                f"{job.id[:8]:<8} {name} {job.state[:9]:<9} "
                f"{job.priority[:6]:<6} [{bar(job.progress, cells, unicode=unicode)}] "
                f"{100 * job.progress:5.1f}% {job.fps:6.1f} {eta:>7} {f'${job.cost:.4f}':>10}"
            )
        )

    r = snapshot.resources
    tail = [row(), row("Resource Utilization (this host):")]
    if r.gpu is None:
        tail.append(row(f"GPU:    {r.gpu_note}"))
    else:
        tail.append(
            row(
                f"GPU:    {bar(r.gpu / 100, RESOURCE_BAR, unicode=unicode)} {r.gpu:3.0f}%"
                f"  ({r.gpu_note})"
            )
        )
    if r.cpu is None:
        tail.append(row("CPU:    measuring..."))
    else:
        tail.append(row(f"CPU:    {bar(r.cpu / 100, RESOURCE_BAR, unicode=unicode)} {r.cpu:3.0f}%"))
    if r.memory is None:
        tail.append(row("Memory: not measured"))
    else:
        used = f"{r.memory_used / 2**30:.1f}/{r.memory_total / 2**30:.1f} GiB"
        tail.append(
            row(
                f"Memory: {bar(r.memory / 100, RESOURCE_BAR, unicode=unicode)} "
                f"{r.memory:3.0f}%  ({used})"
            )
        )
    tail.append(row())
    if snapshot.prompt:
        tail.append(row(f">>> {snapshot.prompt}"))
    elif snapshot.status:
        tail.append(row(snapshot.status))
    tail += [_rule(lj, rj, ""), row(_KEYS), _rule(bl, br, "")]

    if height is not None and len(head) + len(table) + len(tail) > height:
        room = max(height - len(head) - len(tail), 1)
        if len(table) > room:
            hidden = len(table) - (room - 1)
            table = table[: room - 1] + [row(f"... and {hidden} more jobs")]
    lines = [fit(line, width, unicode=unicode) for line in head + table + tail]
    return lines if height is None else lines[:height]


# -- measuring ---------------------------------------------------------------------------------


class HostSampler:
    """CPU (between two calls) and memory of this host from /proc; its GPUs through NVML."""

    def __init__(
        self,
        proc: Path = Path("/proc"),
        gpus: Callable[[], list[GpuStats]] = gpu_stats,
    ) -> None:
        self.proc = proc
        self.gpus = gpus
        self._last: tuple[int, int] | None = None

    def sample(self) -> Resources:
        """Measure now; CPU is the busy share since the previous call (None on the first)."""
        cpu = None
        times = self._cpu_times()
        if times is not None:
            if self._last is not None:
                busy = times[0] - self._last[0]
                total = times[1] - self._last[1]
                if total > 0:
                    cpu = 100.0 * busy / total
            self._last = times
        memory, used, total_bytes = self._memory()
        gpu, note = self._gpu()
        return Resources(
            cpu=cpu,
            memory=memory,
            memory_used=used,
            memory_total=total_bytes,
            gpu=gpu,
            gpu_note=note,
        )

    def _cpu_times(self) -> tuple[int, int] | None:
        try:
            first = (self.proc / "stat").read_text().splitlines()[0].split()
        except (OSError, IndexError):
            return None
        if not first or first[0] != "cpu":
            return None
        values = [int(x) for x in first[1:9]]  # user nice system idle iowait irq softirq steal
        idle = values[3] + (values[4] if len(values) > 4 else 0)
        total = sum(values)
        return total - idle, total

    def _memory(self) -> tuple[float | None, int, int]:
        info: dict[str, int] = {}
        try:
            for line in (self.proc / "meminfo").read_text().splitlines():
                name, _, rest = line.partition(":")
                parts = rest.split()
                if parts:
                    info[name] = int(parts[0]) * 1024
        except (OSError, ValueError):
            return None, 0, 0
        total = info.get("MemTotal", 0)
        available = info.get("MemAvailable")
        if not total or available is None:
            return None, 0, 0
        used = total - available
        return 100.0 * used / total, used, total

    def _gpu(self) -> tuple[float | None, str]:
        try:
            stats = self.gpus()
        except Exception as exc:  # optional: never let a GPU reader end the dashboard
            return None, f"no GPU reading ({_describe(exc)})"
        if not stats:
            return None, "no GPU"
        average = sum(g.utilization for g in stats) / len(stats)
        return average, f"{len(stats)} GPU" + ("s" if len(stats) > 1 else "")


def collect(
    api: CloudRenderingAPI,
    resources: Resources,
    *,
    max_nodes: int | None = None,
    now: float | None = None,
) -> Snapshot:
    """Read the cluster and its active jobs into a Snapshot (raises what the API raises)."""
    now = time.time() if now is None else now
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
        nodes=len(cluster.nodes),
        slots=cluster.slots,
        max_nodes=max_nodes if max_nodes is not None else cluster.slots,
        busy=busy,
        queued_chunks=cluster.queued_chunks,
        fps=sum(r.fps for r in rows),
        hourly_rate=api.settings.hourly_rate,
        paused=paused,
        jobs=tuple(rows),
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
        sampler: HostSampler | None = None,
    ) -> None:
        self.api = api
        self.max_nodes = max_nodes
        self.sampler = sampler or HostSampler()
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
    """Show the live dashboard until `q` (returns 0) or Ctrl-C (returns 130)."""
    if refresh <= 0:
        raise ValueError(f"refresh must be positive, not {refresh}")
    locale.setlocale(locale.LC_ALL, "")
    unicode = "utf" in locale.getpreferredencoding(False).lower().replace("-", "")
    dashboard = Dashboard(api, max_nodes=max_nodes)
    dashboard.start(refresh)
    try:
        curses.wrapper(lambda screen: _loop(screen, dashboard, unicode))
    except KeyboardInterrupt:
        return INTERRUPTED
    finally:
        dashboard.stop()
    return 0


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
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
