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

Prices are the catalogue's (``providers.compute.prices``: c7i.2xlarge and g5.xlarge, us-east-1,
on demand and spot) when it loads, else the figures below; ``--spot-share S`` prices spot at S x
on-demand instead, to see the strategy at other discounts. Boot times: 90 s CPU, 180 s GPU;
each node class renders at the simulation's rates (a GPU slot 2.5x a CPU slot).

Printed per fleet: dollars, saving against on-demand, spot's share of node-hours, deadlines
missed, notices, chunks and frames re-rendered, deadline jobs the autoscaler counted on an
on-demand pool (at any time) and moved there from spot, and the rate it had learned. Target:
at 10 %/h at least 60 % saving with no more missed deadlines than on demand.

Run: ``.venv/bin/python bench/spot_sim.py [--seeds 1,2,3,4,5] [--hours 24] [--rates 0,5,10,20]
[--spot-share S] [--confidence 0.95] [--notice 120] [--plot docs/cost-spot.png] [--json]``.
Results are recorded in docs/cost.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.autoscale_sim import CPU_RATE, Farm, Result, trace  # noqa: E402
from bench.script import emit, log  # noqa: E402
from common.errors import RenderError  # noqa: E402
from orchestrator.autoscaler.billing import node_cost  # noqa: E402
from orchestrator.autoscaler.interruptions import NOTICE_SECONDS  # noqa: E402
from orchestrator.autoscaler.model import Policy  # noqa: E402
from providers.compute.pools import Pool  # noqa: E402

#: (instance type, on-demand $/h, spot $/h) when the catalogue is not there: us-east-1 list
#: prices and typical spot prices as of late 2025 (the catalogue's figures).
FALLBACK = {"cpu": ("c7i.2xlarge", 0.357, 0.15), "gpu": ("g5.xlarge", 1.006, 0.43)}
REGION = "us-east-1"
FRAME_UNITS = 3.2  # units of a typical frame (chunking.weights); frames = units / this
TARGET_RATE, TARGET_SAVING = 0.10, 0.60


@dataclass(frozen=True)
class Prices:
    """What one class of node costs, and where the figure comes from."""

    instance_type: str
    on_demand: float
    spot: float
    band: tuple[float, float] | None
    source: str


def prices(spot_share: float | None) -> dict[str, Prices]:
    """CPU and GPU prices: the catalogue's, else FALLBACK; spot at `spot_share` if given."""
    found: dict[str, Prices] = {}
    catalogue = _catalogue()
    for kind, (instance, on_demand, spot) in FALLBACK.items():
        band, source = None, "fallback (bench/spot_sim.py)"
        offer = catalogue.lookup("aws", REGION, instance) if catalogue is not None else None
        if offer is not None and offer.spot is not None:
            on_demand, spot = float(offer.on_demand), float(offer.spot)
            band = (float(offer.interruption_low), float(offer.interruption_high))
            source = f"catalogue {offer.date}"
        if spot_share is not None:
            spot = round(on_demand * spot_share, 4)
            source += f", spot at {spot_share:.0%} of on-demand"
        found[kind] = Prices(instance, on_demand, spot, band, source)
    return found


def _catalogue() -> Any:
    try:
        from providers.compute.prices import load_catalogue
    except ImportError:
        return None
    try:
        return load_catalogue(None)
    except (RenderError, OSError, ValueError) as exc:
        log(f"price catalogue not usable ({exc}); using the fallback prices")
        return None


def farm_pools(price: Mapping[str, Prices], spot: bool) -> dict[str, Pool]:
    """CPU and GPU pools on demand, and with `spot` a spot twin of each."""
    cpu, gpu = price["cpu"], price["gpu"]

    def cpu_pool(name: str, market: str, dollars: float) -> Pool:
        return Pool(
            name, "aws", cpu.instance_type, vcpus=8, memory_gb=16.0, market=market,
            region=REGION, max_nodes=24, boot_seconds=90.0, price_per_hour=dollars,
            concurrency=4,
        )  # fmt: skip

    def gpu_pool(name: str, market: str, dollars: float) -> Pool:
        return Pool(
            name, "aws", gpu.instance_type, vcpus=4, memory_gb=16.0, gpu="A10G", nvenc=True,
            market=market, region=REGION, max_nodes=8, boot_seconds=180.0,
            price_per_hour=dollars, concurrency=2,
        )  # fmt: skip

    pools = {
        "cpu-od": cpu_pool("cpu-od", "on-demand", cpu.on_demand),
        "gpu-od": gpu_pool("gpu-od", "on-demand", gpu.on_demand),
    }
    if spot:
        pools["cpu-spot"] = cpu_pool("cpu-spot", "spot", cpu.spot)
        pools["gpu-spot"] = gpu_pool("gpu-spot", "spot", gpu.spot)
    return pools


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
    price = prices(args.spot_share)
    policy = Policy(name="deadline", confidence=args.confidence)
    bands = {"cpu-spot": price["cpu"].band, "gpu-spot": price["gpu"].band}
    rows: dict[str, list[dict[str, Any]]] = {"on-demand": []}
    per_seed = []
    for seed in args.seeds:
        jobs = trace(seed, args.hours)
        log(f"seed {seed}: {len(jobs)} jobs; on demand ...")
        farm = Farm("on-demand", jobs, farm_pools(price, False), seed, args.tick, policy=policy)
        rows["on-demand"].append(figures(farm.run(args.hours), None) | {"seed": seed})
        for rate in args.rates:
            name = f"spot {rate:g} %/h"
            log(f"seed {seed}: {name} ...")
            farm = Farm(
                name, jobs, farm_pools(price, True), seed, args.tick, policy=policy,
                notice_rate=rate / 100, notice_seconds=args.notice, bands=bands,
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
    # The on-demand fleet's nodes at spot prices: what spot could save at most here.
    share = {f"{k}-od": p.spot / p.on_demand for k, p in price.items()}
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
        "prices": {k: vars(v) for k, v in price.items()},
        "confidence": policy.confidence,
        "notice": args.notice,
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


def show(report: dict[str, Any]) -> None:
    """The comparison table, as Markdown."""
    days = report["days"]
    print(
        f"{len(days)} simulated day(s) (seeds {', '.join(str(d['seed']) for d in days)}; "
        f"{sum(d['jobs'] for d in days)} jobs, "
        f"{sum(d['work_node_hours'] for d in days):.1f} CPU node-hours of work), "
        f"confidence {report['confidence']:.1%}, notice {report['notice']:g} s; "
        f"{report['seconds']:.0f} s to run"
    )
    for kind, p in report["prices"].items():
        print(
            f"  {kind}: {p['instance_type']} ${p['on_demand']:.3f}/h on demand, "
            f"${p['spot']:.3f}/h spot ({p['spot'] / p['on_demand']:.0%}); {p['source']}"
        )
    print(
        f"  the on-demand fleet's node-hours at spot prices: ${report['all_spot_cost']:.2f}, "
        f"a saving of {report['all_spot_saving']:.1%} (the most spot can save here)\n"
    )
    print(
        "| fleet | cost $ | saving | spot node-h | deadlines missed | unfinished | notices "
        "| chunks re-rendered | frames re-rendered | deadline jobs on demand | moved from spot "
        "| learned rate %/h |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for f in report["fleets"]:
        learned = ", ".join(f"{p} {r * 100:.1f}" for p, r in sorted(f["learned"].items()))
        print(
            f"| {f['fleet']} | {f['cost']:.2f} | {f['saving']:.1%} | {f['spot_share']:.0%} "
            f"| {f['missed']}/{f['deadlines']} | {f['unfinished']} | {f['notices']} "
            f"| {f['lost_chunks']} | {f['lost_frames']:.0f} | {f['on_demand']} | {f['moved']} "
            f"| {learned or '-'} |"
        )
    t = report["target"]
    if t["checked"]:
        verdict = "met" if t["met"] else "NOT met"
        print(
            f"\nTarget at {TARGET_RATE:.0%}/h: saving {t['saving']:.1%} (>= {TARGET_SAVING:.0%}), "
            f"deadlines missed {t['missed']} vs {t['missed_on_demand']} on demand: {verdict}"
        )


def plot(report: dict[str, Any], path: Path) -> None:
    """Cost against the on-demand fleet, and deadlines missed, per interruption rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fleets = report["fleets"]
    names = [
        f["fleet"] if f["rate"] is None else f"{f['fleet']}\n{f['notices']} notices" for f in fleets
    ]
    fig, (money, misses) = plt.subplots(1, 2, figsize=(11, 4.4))
    colours = ["#777777"] + ["#2a7ab0"] * (len(fleets) - 1)
    bars = money.bar(names, [f["cost"] for f in fleets], color=colours)
    for bar, f in zip(bars, fleets, strict=True):
        label = "" if f["rate"] is None else f"-{f['saving']:.0%}"
        money.annotate(
            label, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
            va="bottom", fontsize=9,
        )  # fmt: skip
    money.axhline(
        report["all_spot_cost"], color="#444444", linestyle="--", linewidth=1,
        label=f"the on-demand fleet at spot prices (-{report['all_spot_saving']:.0%})",
    )  # fmt: skip
    money.legend(fontsize=8, loc="upper right")
    money.set_ylabel("dollars")
    money.set_title("Cost of the same jobs")
    bars = misses.bar(names, [f["missed"] for f in fleets], color=colours)
    for bar, f in zip(bars, fleets, strict=True):
        misses.annotate(
            f"{f['missed']}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center", va="bottom", fontsize=9,
        )  # fmt: skip
    misses.set_title(f"Deadlines missed (of {fleets[0]['deadlines']})")
    for ax in (money, misses):
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    days = len(report["days"])
    fig.suptitle(
        f"Spot vs on-demand over {days} simulated day(s), by spot interruption rate "
        f"(confidence {report['confidence']:.0%})"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
        default=float(NOTICE_SECONDS["aws"]),
        help="seconds from a spot notice to the reclaim (120, AWS; 0: none)",
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
    if not 0 < args.confidence < 1 or args.notice < 0:
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
