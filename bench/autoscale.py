"""Elastic capacity in simulated time: fixed fleets against the autoscaler over a day of jobs.

Replays one seeded synthetic day (``bench.autoscale_sim.trace``: arrivals heavier in working
hours, jobs from seconds to hours of node work, about a third with deadlines, some tight, 15 %
needing a GPU) through a simulated farm (``bench.autoscale_sim.Farm``) of three AWS pools:
CPU spot, CPU on-demand and GPU on-demand. Nodes boot after their pool's boot time (2 % never
do), render chunks at their node class's rate, take spot notices and are billed per second with
a 60 s minimum (``orchestrator.autoscaler.billing``). The fleets compared:

    fixed N      N on-demand nodes all day (a quarter of them GPU, at least one), no autoscaler
    queue        the real ``decide`` each tick with the "queue" policy (finish in 10 minutes)
    deadline     ... the "deadline" policy (every deadline, counting boot time)
    cost         ... the "cost" policy (the fewest nodes that hold deadlines)

and for each: dollars, node-hours, deadlines missed, mean and 95th-percentile wait (submission to
first chunk), mean turnaround, launches, failed boots, spot notices and chunks re-rendered.
Nothing sleeps; a day takes seconds. The plot (``--plot``) shows queued work, nodes and spend
per hour over the day for the autoscaler's policies and two fixed fleets.

Run: ``.venv/bin/python bench/autoscale.py [--hours 24] [--seed 1] [--tick 15]
[--fixed 2,4,8,16] [--budget DOLLARS] [--plot docs/capacity-day.png] [--json]``.
Results are recorded in docs/capacity.md.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.autoscale_sim import Farm, Result  # noqa: E402
from bench.autoscale_trace import DAY, bench_pools, trace  # noqa: E402
from bench.script import emit, log  # noqa: E402
from orchestrator.autoscaler.model import Policy  # noqa: E402


def fixed_fleet(size: int) -> dict[str, int]:
    """N on-demand nodes: a quarter GPU (at least one), the rest CPU."""
    gpu = max(1, size // 4)
    return {"cpu-od": size - gpu, "gpu-od": gpu}


def summary(result: Result, hours: float) -> dict[str, Any]:
    """The run's figures."""
    jobs = result.jobs
    due = [j for j in jobs if j.deadline is not None]
    missed = [j for j in due if j.finished is None or j.finished > (j.deadline or 0.0)]
    waits = sorted((j.started if j.started is not None else result.end) - j.submitted for j in jobs)
    turnaround = [(j.finished or result.end) - j.submitted for j in jobs]
    node_hours = sum(
        ((n.ended if n.ended is not None else result.end) - n.requested) / 3600
        for n in result.nodes
    )
    return {
        "fleet": result.name,
        "cost": result.cost(),
        "node_hours": node_hours,
        "jobs": len(jobs),
        "unfinished": sum(1 for j in jobs if j.finished is None),
        "deadlines": len(due),
        "missed": len(missed),
        "mean_wait": statistics.fmean(waits) if waits else 0.0,
        "p95_wait": waits[math.ceil(0.95 * len(waits)) - 1] if waits else 0.0,
        "mean_turnaround": statistics.fmean(turnaround) if turnaround else 0.0,
        "peak_spend": max((s.spend for s in result.samples), default=0.0),
        "launches": result.launches,
        "failed_boots": result.failed,
        "notices": result.notices,
        "lost_chunks": result.lost_chunks,
        "overtime_hours": max(result.end - hours * 3600, 0.0) / 3600,
    }


def show(result: dict[str, Any]) -> None:
    """The comparison table, as Markdown."""
    print(
        f"{result['jobs']} jobs ({result['deadlines']} with deadlines, {result['gpu_jobs']} GPU, "
        f"{result['work_node_hours']:.1f} CPU node-hours of work) over {result['hours']:g} h, "
        f"seed {result['seed']}, ticks of {result['tick']:g} s; {result['seconds']:.1f} s to run\n"
    )
    print(
        "| fleet | cost $ | peak $/h | node-h | deadlines missed | mean wait | p95 wait "
        "| mean turnaround | unfinished | launches | failed boots | spot notices "
        "| chunks re-rendered | overtime h |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in result["runs"]:
        print(
            f"| {row['fleet']} | {row['cost']:.2f} | {row['peak_spend']:.2f} "
            f"| {row['node_hours']:.1f} "
            f"| {row['missed']}/{row['deadlines']} | {_span(row['mean_wait'])} "
            f"| {_span(row['p95_wait'])} | {_span(row['mean_turnaround'])} | {row['unfinished']} "
            f"| {row['launches']} "
            f"| {row['failed_boots']} | {row['notices']} | {row['lost_chunks']} "
            f"| {row['overtime_hours']:.1f} |"
        )


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def plot(results: list[Result], path: Path, hours: float) -> None:
    """Queued work, nodes and spend per hour over the day, one line per fleet."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    span = max(1, math.ceil(hours))
    fig, axes = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    for result in results:
        dashed = result.name.startswith("fixed")
        per_hour: list[list[Any]] = [[] for _ in range(span)]
        for sample in result.samples:
            if sample.time < span * 3600:
                per_hour[int(sample.time // 3600)].append(sample)
        x = [h + 0.5 for h in range(span)]
        series = {
            "queued": [statistics.fmean(s.queued_hours for s in b) if b else 0.0 for b in per_hour],
            "nodes": [statistics.fmean(s.nodes for s in b) if b else 0.0 for b in per_hour],
            "spend": [statistics.fmean(s.spend for s in b) if b else 0.0 for b in per_hour],
        }
        style = {"linestyle": "--" if dashed else "-", "label": result.name}
        axes[0].plot(x, series["queued"], **style)
        axes[1].plot(x, series["nodes"], **style)
        axes[2].plot(x, series["spend"], **style)
    axes[0].set_ylabel("queued work\n(CPU node-hours)")
    axes[1].set_ylabel("nodes (mean)")
    axes[2].set_ylabel("spend ($ per hour)")
    axes[2].set_xlabel("hour of the simulated day")
    axes[0].set_title("A simulated day: fixed fleets against the autoscaler's policies")
    axes[0].legend(loc="upper left", fontsize=8, ncol=2)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run every fleet over the same day and report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=24.0, help="length of the trace (24)")
    parser.add_argument("--seed", type=int, default=1, help="trace and chance seed (1)")
    parser.add_argument("--tick", type=float, default=15.0, help="simulated seconds a tick (15)")
    parser.add_argument("--fixed", default="2,4,8,16", help="fixed fleet sizes (2,4,8,16)")
    parser.add_argument("--budget", type=float, help="hourly budget for the autoscaler, $/h")
    parser.add_argument("--plot", type=Path, help="write the day's plot (PNG) here")
    parser.add_argument("--json", action="store_true", help="results as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.tick <= 60 or args.hours <= 0:
        parser.error("--tick must be 1..60 s and --hours above 0")
    try:
        sizes = [int(s) for s in args.fixed.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--fixed takes comma-separated node counts, got {args.fixed!r}")
    if any(size < 1 for size in sizes):
        parser.error("--fixed node counts must be at least 1")
    if args.budget is not None and args.budget <= 0:
        parser.error("--budget must be above 0 dollars an hour")
    started = time.perf_counter()
    jobs = trace(args.seed, args.hours)
    pools = bench_pools()
    results = []
    for size in sizes:
        log(f"fixed {size} ...")
        farm = Farm(f"fixed {size}", jobs, pools, args.seed, args.tick, fixed=fixed_fleet(size))
        results.append(farm.run(args.hours))
    for name in ("queue", "deadline", "cost"):
        log(f"autoscaler, {name} policy ...")
        policy = Policy(name=name, hourly_budget=args.budget)
        label = f"autoscaler: {name}" + (f" (${args.budget:g}/h)" if args.budget else "")
        farm = Farm(label, jobs, pools, args.seed, args.tick, policy=policy)
        results.append(farm.run(args.hours))
    if args.plot:
        shown = [
            r for r in results if not r.name.startswith("fixed") or r.name in ("fixed 4", "fixed 8")
        ]
        plot(shown, args.plot, min(args.hours, DAY / 3600))
        log(f"plot written to {args.plot}")
    report = {
        "hours": args.hours,
        "seed": args.seed,
        "tick": args.tick,
        "jobs": len(jobs),
        "deadlines": sum(1 for j in jobs if j.deadline is not None),
        "gpu_jobs": sum(1 for j in jobs if j.needs_gpu),
        "work_node_hours": sum(j.units for j in jobs) * 0.05 / 4 / 3600,
        "runs": [summary(r, args.hours) for r in results],
        "seconds": time.perf_counter() - started,
    }
    emit(report, args.json, show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
