"""The two fleets ``bench/spot_sim.py`` compares, and where their prices come from.

``single_type``: one CPU and one GPU type (c7i.2xlarge, g5.xlarge in us-east-1) on demand,
against the same pools plus a spot twin of each, at the catalogue's prices (or FALLBACK, or spot
at ``--spot-share`` of on-demand). ``diversified``: per kind the cheapest on-demand class per
frame against the ``--spread`` cheapest spot classes per frame over the catalogue's offers of
``--diversify`` (``bench/spot_fleets.py`` states the rules). Each answers the pools of both
fleets, the spot pools' interruption bands, the clouds' notice, and the reference share (the
cheapest spot price per frame over the on-demand pool's).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench import spot_fleets
from bench.autoscale_trace import trace
from bench.node_speed import pool_speed
from bench.script import log
from common.errors import RenderError
from orchestrator.autoscaler.interruptions import NOTICE_SECONDS
from orchestrator.autoscaler.model import JobDemand, Policy
from providers.compute.pools import Pool

#: (instance type, on-demand $/h, spot $/h) when the catalogue is not there: us-east-1 list
#: prices and typical spot prices as of late 2025 (the catalogue's figures).
FALLBACK = {"cpu": ("c7i.2xlarge", 0.357, 0.15), "gpu": ("g5.xlarge", 1.006, 0.43)}
REGION = "us-east-1"
#: The past day whose job sizes --diversify ranks offers at (the measured days are 1-5).
HISTORY_SEED = 0


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
            name, "aws", gpu.instance_type, vcpus=4, memory_gb=16.0, gpu="A10G", gpus=1,
            nvenc=True, market=market, region=REGION, max_nodes=8, boot_seconds=180.0,
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


def single_type(args: argparse.Namespace) -> dict[str, Any]:
    """The fleets of one type per kind (c7i.2xlarge, g5.xlarge), spot the twin of each."""
    price = prices(args.spot_share)
    on_demand, spot = farm_pools(price, False), farm_pools(price, True)
    return {
        "on-demand": on_demand,
        "spot": spot,
        "bands": {"cpu-spot": price["cpu"].band, "gpu-spot": price["gpu"].band},
        "notice": NOTICE_SECONDS["aws"] if args.notice is None else args.notice,
        "bound_share": {f"{k}-od": p.spot / p.on_demand for k, p in price.items()},
        "prices": {k: vars(v) for k, v in price.items()},
        "pools": [describe(p) for p in spot.values()],
    }


def history(seed: int, hours: float) -> list[JobDemand]:
    """A past day's jobs as the autoscaler sees them at submission, all at one epoch."""
    at = spot_fleets.EPOCH
    return [
        JobDemand(
            j.id,
            j.units,
            None if j.deadline is None else at + j.deadline - j.submitted,
            j.priority,
            needs_gpu=j.needs_gpu,
            submitted_at=at,
        )  # fmt: skip
        for j in trace(seed, hours)
    ]


def diversified(args: argparse.Namespace, policy: Policy) -> dict[str, Any]:
    """The fleets of ``bench.spot_fleets``: the cheapest on-demand class per frame against the
    `--spread` cheapest spot classes per frame, over the catalogue's offers of `--diversify`."""
    catalogue = _catalogue()
    if catalogue is None:
        raise RenderError("--diversify needs the price catalogue, which could not be read")
    sizes = None
    if args.rank == "sizes":
        sizes = spot_fleets.Sizes(history(HISTORY_SEED, args.hours), policy)
    chosen = spot_fleets.choose(catalogue.offers(), args.diversify, args.spread, sizes)
    on_demand = {c.name: c.pool() for k in chosen.values() for c in k["on-demand"]}
    spot = on_demand | {c.name: c.pool() for k in chosen.values() for c in k["spot"]}
    notice: float | dict[str, float] = args.notice
    if args.notice is None:
        notice = {p: float(NOTICE_SECONDS[p]) for p in args.diversify}
    return {
        "on-demand": on_demand,
        "spot": spot,
        "bands": spot_fleets.bands(chosen),
        "notice": notice,
        "bound_share": {
            c.name: spot_fleets.spot_bound_share(chosen, kind)
            for kind, k in chosen.items()
            for c in k["on-demand"]
        },
        "prices": {},
        "pools": [describe(p) for p in spot.values()],
    }


def describe(pool: Pool) -> dict[str, Any]:
    """A pool as the report lists it."""
    return {
        "name": pool.name,
        "instance_type": f"{pool.provider}/{pool.region}/{pool.instance_type}",
        "market": pool.market,
        "price_per_hour": pool.price_per_hour,
        "slots": pool.concurrency,
        "max_nodes": pool.max_nodes,
        "speed": pool_speed(pool),
        "per_speed_hour": pool.price_per_hour / pool_speed(pool),
    }
