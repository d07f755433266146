"""What the terminal dashboard shows, as pure functions: rows, bars and the whole screen as text
lines from a Snapshot (monitoring.dashboard measures and draws it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from common.units import format_duration
from orchestrator.job_record import ChunkState, JobRecord

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
    #: autoscaled pools, one line each (pool_line)
    pools: tuple[str, ...] = ()
    #: budgets' spend against their limits (budget_line), and how the last finished jobs
    #: landed against their estimates (accuracy_line; "" before any)
    budgets: tuple[str, ...] = ()
    accuracy: str = ""
    resources: Resources = field(default_factory=Resources)
    status: str = ""  # the last action's outcome
    error: str | None = None  # why the cluster could not be read this time
    prompt: str | None = None  # a question waiting for a key

    @property
    def hourly_cost(self) -> float:
        """Dollars per hour the live slots cost."""
        return self.slots * self.hourly_rate


# -- pure formatting ---------------------------------------------------------------------------


def pool_line(pool: Any) -> str:
    """One autoscaled pool: nodes by state against what the autoscaler wants, and spend."""
    market = "spot" if pool.market == "spot" else "on-demand"
    line = (
        f"{pool.name} ({pool.provider}, {market}): {pool.running} running, {pool.booting} "
        f"booting, {pool.draining} draining; wants {pool.desired} of {pool.min_nodes}-"
        f"{pool.max_nodes}; ${pool.spend_per_hour:.2f}/h"
    )
    return line + (f"; ERROR {pool.error}" if pool.error else "")


def budget_line(status: Any) -> str:
    """One budget limit: who, the window, spend against the limit, and a flag past 80 %."""
    budget = status.budget
    flag = (
        " EXCEEDED: new jobs refused"
        if status.percent >= 100
        else (" (warning)" if status.percent >= 80 else "")
    )
    return (
        f"{budget.scope} {budget.name} {status.period} {status.window}: ${status.spent:.2f} of "
        f"${status.limit:.2f} ({status.percent:.0f} %){flag}"
    )


def accuracy_line(measured: list[dict[str, Any]]) -> str:
    """The newest finished jobs' estimates against their actuals, in one line ("" if none)."""
    times = sorted(
        abs(m["seconds_error_pct"]) for m in measured if m.get("seconds_error_pct") is not None
    )
    costs = sorted(
        abs(m["cost_error_pct"]) for m in measured if m.get("cost_error_pct") is not None
    )
    if not times:
        return ""
    within = sum(1 for e in times if e <= 10)
    line = f"last {len(times)} jobs: median time error {times[len(times) // 2]:.0f} %"
    if costs:
        line += f", cost {costs[len(costs) // 2]:.0f} %"
    return line + f"; {within} of {len(times)} within 10 %"


def _known(measured: dict[str, Any], name: str) -> bool:
    return measured.get(name) is not None


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


def job_row(job: JobRecord, now: float) -> JobRow:
    """The table row of a job record, measured at `now`."""
    running = [c for c in job.chunks if c.state is ChunkState.RUNNING and c.started_at]
    fps = sum(c.frames_done / max(now - (c.started_at or now), 1e-3) for c in running)
    elapsed = now - job.started_at if job.started_at else 0.0
    average = job.rendered_frames / elapsed if elapsed > 0 else 0.0
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
    if snapshot.accuracy and snapshot.updated_at is not None:
        head.append(row(f"Estimates: {snapshot.accuracy}"))
    if snapshot.budgets and snapshot.updated_at is not None:
        head.append(row("Budgets:"))
        for i, line in enumerate(snapshot.budgets):
            head.append(row(f"{end if i == len(snapshot.budgets) - 1 else tee} {line}"))
    if snapshot.pools and snapshot.updated_at is not None:
        head.append(row("Pools (autoscaled):"))
        for i, line in enumerate(snapshot.pools):
            head.append(row(f"{end if i == len(snapshot.pools) - 1 else tee} {line}"))
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
