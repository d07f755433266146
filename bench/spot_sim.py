"""Spot strategy in simulated time: what spot saves, and what it costs in deadlines, against an
on-demand-only fleet, at interruption rates of 0, 5, 10 and 20 % per node-hour.

The same seeded days of jobs as ``bench/autoscale.py`` (``bench.autoscale_sim.trace``: arrivals
heavier in working hours, seconds to hours of work, about a third with deadlines, 15 % needing a
GPU) go through the simulated farm (``bench.autoscale_sim.Farm``) with the real autoscaler
(``decide`` with the "deadline" policy every 15 s: spot or on-demand per job by expected cost,
subject to each deadline holding with 95 % confidence) and the real scheduler
(``orchestrator.scheduling``). Two fleets:

    on-demand    CPU and GPU pools on demand only
    spot X %/h   the same pools plus a spot twin of each; spot nodes get interruption notices at
                 X % per node-hour and are reclaimed 2 minutes later (AWS), chunks still running
                 then are re-rendered; the autoscaler learns each spot pool's rate from its
                 nodes' history, starting from the catalogue's interruption band

The two fleets are built in ``bench/spot_setups.py``. Prices are the catalogue's
(``providers.compute.prices``: c7i.2xlarge and g5.xlarge, us-east-1, on demand and spot) when
it loads, else ``spot_setups.FALLBACK``; ``--spot-share S`` prices spot at S x
on-demand instead, to see the strategy at other discounts. Boot times: 90 s CPU, 180 s GPU;
each node class renders at ``bench.node_speed``'s rule (here a g5.xlarge slot 2.5x a CPU slot).

``--diversify aws`` (or ``aws,gcp,azure``) compares by price per rendered frame instead
(``bench/spot_fleets.py``, whose docstring states the rules): the on-demand fleet takes, per
kind, the catalogue offer of these providers with the lowest on-demand price per frame; the spot
fleet keeps that pool and adds the ``--spread`` offers (types and regions) of the lowest spot
price per frame, each with its own band and its cloud's notice, as a price-capacity-optimized
spot fleet spreads over pools. A node has vCPUs / 2 slots and renders at ``bench.node_speed``'s
rule: its vCPUs / 2 reference slots plus 3 per GPU (its share of a partitioned one).

Printed per fleet: dollars, saving against on-demand, spot's share of node-hours, deadlines
missed, notices, chunks and frames re-rendered, deadline jobs the autoscaler counted on an
on-demand pool (at any time) and moved there from spot, and the rate it had learned. Target:
at 10 %/h at least 60 % saving with no more missed deadlines than on demand.

Run: ``.venv/bin/python bench/spot_sim.py [--seeds 1,2,3,4,5] [--hours 24] [--rates 0,5,10,20]
[--spot-share S | --diversify aws[,gcp,azure] [--spread 3] [--rank sizes|list]]
[--confidence 0.95] [--notice S] [--escalation edf|own] [--plot docs/cost-spot.png] [--json]``.
Results are recorded in docs/cost.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.autoscale_sim import Farm, Result  # noqa: E402
from bench.autoscale_trace import trace  # noqa: E402
from bench.node_speed import CPU_RATE  # noqa: E402
from bench.script import emit, log  # noqa: E402
from bench.spot_report import TARGET_RATE, TARGET_SAVING, plot, show  # noqa: E402
from bench.spot_setups import diversified, single_type  # noqa: E402
from orchestrator.autoscaler.billing import node_cost  # noqa: E402
from orchestrator.autoscaler.interruptions import NOTICE_SECONDS  # noqa: E402
from orchestrator.autoscaler.model import Policy  # noqa: E402

FRAME_UNITS = 3.2  # units of a typical frame (chunking.weights); frames = units / this


def figures(result: Result, rate: float | None) -> dict[str, Any]:
    """One run's figures."""
    due = [j for j in result.jobs if j.deadline is not None]
    missed = sum(1 for j in due if j.finished is None or j.finished > (j.deadline or 0.0))
    hours = {"spot": 0.0, "all": 0.0}
    by_pool: dict[str, float] = {}
    for node in result.nodes:
        ended = node.ended if node.ended is not None else result.end
        lived = (ended - node.requested) / 3600
        hours["all"] += lived
        if node.pool.spot:
            hours["spot"] += lived
        by_pool[node.pool.name] = by_pool.get(node.pool.name, 0.0) + node_cost(
            node.requested, ended, node.pool.price_per_hour
        )
    return {
        "rate": rate,
        "cost": result.cost(),
        "cost_by_pool": by_pool,
        "node_hours": hours["all"],
        "spot_share": hours["spot"] / hours["all"] if hours["all"] else 0.0,
        "deadlines": len(due),
        "missed": missed,
        "unfinished": sum(1 for j in result.jobs if j.finished is None),
        "notices": result.notices,
        "lost_chunks": result.lost_chunks,
        "lost_frames": result.lost_units / FRAME_UNITS,
        "moved": len(result.moved),
        "on_demand": len(result.on_demand),
        "learned": dict(result.rates),
    }


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    """Every seed through the on-demand fleet and the spot fleet at each rate."""
    policy = Policy(name="deadline", confidence=args.confidence)
    setup = diversified(args, policy) if args.diversify else single_type(args)
    rows: dict[str, list[dict[str, Any]]] = {"on-demand": []}
    per_seed = []
    for seed in args.seeds:
        jobs = trace(seed, args.hours)
        log(f"seed {seed}: {len(jobs)} jobs; on demand ...")
        edf = args.escalation == "edf"
        farm = Farm("on-demand", jobs, setup["on-demand"], seed, args.tick, policy=policy,
                    edf_escalation=edf)  # fmt: skip
        rows["on-demand"].append(figures(farm.run(args.hours), None) | {"seed": seed})
        for rate in args.rates:
            name = f"spot {rate:g} %/h"
            log(f"seed {seed}: {name} ...")
            farm = Farm(
                name, jobs, setup["spot"], seed, args.tick, policy=policy,
                notice_rate=rate / 100, notice_seconds=setup["notice"], bands=setup["bands"],
                edf_escalation=edf,
            )  # fmt: skip
            rows.setdefault(name, []).append(
                figures(farm.run(args.hours), rate / 100) | {"seed": seed}
            )
        per_seed.append(
            {
                "seed": seed,
                "jobs": len(jobs),
                "work_node_hours": sum(j.units for j in jobs) * CPU_RATE / 4 / 3600,
            }
        )
    base = sum(r["cost"] for r in rows["on-demand"])
    # The on-demand fleet's nodes at the cheapest spot price per frame of their kind: what spot
    # could save at most here.
    share = setup["bound_share"]
    floor = sum(c * share[pool] for r in rows["on-demand"] for pool, c in r["cost_by_pool"].items())
    fleets = []
    for name, runs in rows.items():
        cost = sum(r["cost"] for r in runs)
        learned: dict[str, list[float]] = {}
        for r in runs:
            for pool, value in r["learned"].items():
                learned.setdefault(pool, []).append(value)
        fleets.append(
            {
                "fleet": name,
                "rate": runs[0]["rate"],
                "cost": cost,
                "saving": 1 - cost / base if base else 0.0,
                "spot_share": statistics.fmean(r["spot_share"] for r in runs),
                "deadlines": sum(r["deadlines"] for r in runs),
                "missed": sum(r["missed"] for r in runs),
                "unfinished": sum(r["unfinished"] for r in runs),
                "notices": sum(r["notices"] for r in runs),
                "lost_chunks": sum(r["lost_chunks"] for r in runs),
                "lost_frames": sum(r["lost_frames"] for r in runs),
                "moved": sum(r["moved"] for r in runs),
                "on_demand": sum(r["on_demand"] for r in runs),
                "learned": {p: statistics.fmean(v) for p, v in learned.items()},
                "runs": runs,
            }
        )
    return {
        "seeds": args.seeds,
        "hours": args.hours,
        "tick": args.tick,
        "days": per_seed,
        "prices": setup["prices"],
        "pools": setup["pools"],
        "diversify": args.diversify,
        "rank": args.rank if args.diversify else None,
        "confidence": policy.confidence,
        "escalation": args.escalation,
        "notice": setup["notice"],
        "fleets": fleets,
        "all_spot_cost": floor,
        "all_spot_saving": 1 - floor / base if base else 0.0,
        "target": target(fleets),
    }


def target(fleets: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether the spot fleet at 10 %/h saved 60 % without missing more deadlines."""
    base = next(f for f in fleets if f["fleet"] == "on-demand")
    at = [f for f in fleets if f["rate"] is not None and abs(f["rate"] - TARGET_RATE) < 1e-9]
    if not at:
        return {"checked": False}
    spot = at[0]
    return {
        "checked": True,
        "saving": spot["saving"],
        "missed": spot["missed"],
        "missed_on_demand": base["missed"],
        "met": spot["saving"] >= TARGET_SAVING and spot["missed"] <= base["missed"],
    }


def parse_seeds(text: str) -> list[int]:
    """Seeds from "1,3,7" or "1-5" or both ("1-3,7"); ValueError on anything else."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        first, dash, last = part.partition("-")
        low, high = int(first), int(last if dash else first)
        if high < low:
            raise ValueError(f"empty range {part!r}")
        seeds.extend(range(low, high + 1))
    return seeds


def main(argv: list[str] | None = None) -> int:
    """Run the fleets and report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2,3,4,5", help="days (trace seeds): 1,2 or 1-5 (1-5)")
    parser.add_argument("--hours", type=float, default=24.0, help="length of each day (24)")
    parser.add_argument("--tick", type=float, default=15.0, help="simulated seconds a tick (15)")
    parser.add_argument(
        "--rates", default="0,5,10,20", help="spot interruptions per node-hour, %% (0,5,10,20)"
    )
    parser.add_argument("--spot-share", type=float, help="spot price as a share of on-demand")
    parser.add_argument(
        "--confidence", type=float, default=0.95, help="the policy's deadline confidence (0.95)"
    )
    parser.add_argument(
        "--notice",
        type=float,
        help="seconds from a spot notice to the reclaim (default: the cloud's, 120 s on AWS, "
        "30 s on GCP and Azure; 0: none)",
    )
    parser.add_argument(
        "--diversify",
        help="providers (aws or aws,gcp,azure): both fleets pick from the catalogue's offers of "
        "these by price per frame, spot over --spread types/regions (bench/spot_fleets.py)",
    )
    parser.add_argument(
        "--spread", type=int, default=3, help="spot pools per kind with --diversify (3)"
    )
    parser.add_argument(
        "--rank",
        choices=("sizes", "list"),
        default="list",
        help="with --diversify, rank offers by list price per frame (list) or by price per "
        "frame at a past day's job sizes (sizes)",
    )
    parser.add_argument(
        "--escalation",
        choices=("edf", "own"),
        default="edf",
        help="the dispatcher's deadline escalation: passed on to jobs due sooner "
        "(scheduling.edf_levels, edf) or each job at its own, as before 2026-12-07 (own)",
    )
    parser.add_argument("--plot", type=Path, help="write the plot (PNG) here")
    parser.add_argument("--json", action="store_true", help="results as JSON")
    args = parser.parse_args(argv)
    try:
        args.seeds = parse_seeds(args.seeds)
        args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    except ValueError:
        parser.error("--seeds takes numbers and ranges (1,2 or 1-5), --rates numbers (0,5,10)")
    if any(not 0 <= rate <= 100 for rate in args.rates):
        parser.error("--rates are percentages per node-hour, 0 to 100")
    if not args.seeds or not 1 <= args.tick <= 60 or args.hours <= 0:
        parser.error("give a seed, --tick 1..60 s and --hours above 0")
    if args.spot_share is not None and not 0 < args.spot_share <= 1:
        parser.error("--spot-share must be above 0 and at most 1")
    if args.diversify is not None:
        args.diversify = [p.strip() for p in args.diversify.split(",") if p.strip()]
        if not args.diversify or not set(args.diversify) <= set(NOTICE_SECONDS):
            parser.error(f"--diversify takes providers among {', '.join(sorted(NOTICE_SECONDS))}")
        if args.spot_share is not None:
            parser.error("--spot-share prices one type's twin; --diversify takes the catalogue's")
    if args.spread < 1:
        parser.error("--spread must be at least 1")
    if not 0 < args.confidence < 1 or (args.notice is not None and args.notice < 0):
        parser.error("--confidence must be between 0 and 1, --notice at least 0")
    started = time.perf_counter()
    report = run_all(args)
    report["seconds"] = time.perf_counter() - started
    if args.plot:
        plot(report, args.plot)
        log(f"plot written to {args.plot}")
    emit(report, args.json, show)
    return 0


if __name__ == "__main__":
    sys.exit(main())
