"""The options an estimate prices: each configured pool in its market, or this cluster's
running slots when no pools are configured, with their price, throughput, spread, concurrency
and spot interruption rate (where each comes from: ``orchestrator.api_estimate``).

The catalogue, node-class and interruption modules are imported when called, so an option
is built (with the fallbacks) where they are absent.
"""

from __future__ import annotations

import importlib
import time
from types import ModuleType
from typing import Any

import redis

from common.errors import RenderError
from common.settings import Settings
from orchestrator.costing import DEFAULT_THROUGHPUT, NODE_CLASS, load_throughput
from orchestrator.estimate_fit import Fit
from orchestrator.estimates import Option
from orchestrator.node_class import load_benchmark, node_class_name, slot_speed
from providers.compute.pools import Pool, PoolConfigError, load_pools, unpriced

#: The option of a cluster without pools: its running render slots.
THIS_CLUSTER = "this-cluster"
#: Relative spread of a learned throughput when no node-class module says better.
HISTORY_SPREAD = 0.15
#: Relative spread of the prior (nothing measured yet): it may be off by half either way.
DEFAULT_SPREAD = 0.5
#: Spot interruptions per node-hour when neither the ledger nor the catalogue knows (5 %/h).
DEFAULT_INTERRUPTION_RATE = 0.05
#: Seconds of notice before a spot node goes (AWS two minutes, GCP and Azure 30 s).
NOTICE_SECONDS = {"aws": 120.0, "gcp": 30.0, "azure": 30.0}
#: The engines that bill by the node-hour (the local and Kubernetes pools cost what they say).
CLOUDS = ("aws", "gcp", "azure")


def build_options(
    client: redis.Redis,
    settings: Settings,
    slots: int,
    *,
    provider: str | None = None,
    pool: str | None = None,
    market: str | None = None,
    notes: list[str] | None = None,
    now: float | None = None,
    fit: Fit | None = None,
    pipeline: float = 0.0,
    alone: float | None = None,
) -> list[Option]:
    """The options the filters leave: the configured pools that render, or this cluster (at
    the throughput `fit` to its finished jobs, when there is one)."""
    notes = [] if notes is None else notes
    now = time.time() if now is None else now
    unpriced_problems: list[str] = []
    if not settings.pools_file:
        candidates = [_this_cluster(client, settings, slots, fit, pipeline, alone)]
        known = f"{THIS_CLUSTER} (local, on-demand; no pools file)"
    else:
        pools = load_pools(settings.pools_file, settings.pool_overrides).pools
        renderers = [p for p in pools.values() if "render" in p.queues and p.max_nodes > 0]
        catalogue, broken = _catalogue(settings, notes)
        candidates = []
        for each in renderers:
            try:
                candidates.append(
                    _pool_option(client, each, catalogue, notes, now, pipeline, broken)
                )
            except PoolConfigError as exc:
                # Left out, never shown as free: the autoscaler refuses to run such a pool.
                unpriced_problems.append(str(exc))
        notes.extend(f"{problem} (left out)" for problem in unpriced_problems)
        if renderers and not candidates:
            raise PoolConfigError("; ".join(unpriced_problems))
        priced = {p.provider for p in renderers if p.price_per_hour == 0 and _offer(catalogue, p)}
        # Where its prices are used: say when they may be out of date.
        warnings = [str(w) for w in getattr(catalogue, "warnings", ())]
        notes.extend(w for w in warnings if any(f" {name} " in w for name in priced))
        known = ", ".join(f"{p.name} ({p.provider}, {p.market})" for p in renderers)
        if not renderers:
            raise RenderError(
                f"{settings.pools_file}: no pool renders (give one 'render' in its queues and "
                "max_nodes above 0)"
            )
    if pool is not None and not any(o.pool == pool for o in candidates):
        left_out = [p for p in unpriced_problems if p.startswith(f"pool {pool!r}:")]
        if left_out:
            raise PoolConfigError(left_out[0])
        raise RenderError(f"no pool {pool!r} renders here (options: {known})")
    chosen = [
        o
        for o in candidates
        if (provider is None or o.provider == provider)
        and (pool is None or o.pool == pool)
        and (market is None or o.market == market)
    ]
    if not chosen:
        asked = " ".join(
            f"{name} {value}"
            for name, value in (("provider", provider), ("pool", pool), ("market", market))
            if value is not None
        )
        raise RenderError(f"no option matches {asked} (options: {known})")
    return chosen


def _this_cluster(
    client: redis.Redis,
    settings: Settings,
    slots: int,
    fit: Fit | None,
    pipeline: float,
    alone: float | None,
) -> Option:
    spf = spc = 0.0
    cores, parallelism = concurrency(client, NODE_CLASS, slots, pipeline=pipeline)
    if alone is not None:
        # Measured on this cluster's own jobs: a lone chunk ran `alone` times faster than one
        # beside others (core sharing and cache contention besides the render's own overlap).
        cores, parallelism = float(slots), alone
    if fit is not None:
        spf, spc, spu, spread, source = (
            fit.seconds_per_frame,
            fit.seconds_per_chunk,
            fit.seconds_per_unit,
            fit.spread,
            f"jobs ({fit.samples})",
        )
    elif (node_class := _optional("orchestrator.node_class")) is not None:
        spu, spread, source = _class_throughput(node_class, client, NODE_CLASS, None)
    else:
        spu, spread, source = _fallback_throughput(client, NODE_CLASS, None)
    return Option(
        pool=THIS_CLUSTER,
        provider="local",
        market="on-demand",
        instance_type="running slots",
        min_nodes=1,
        max_nodes=1,
        slots_per_node=slots,
        boot_seconds=0.0,
        price_per_hour=settings.hourly_rate * slots,
        seconds_per_unit=spu,
        seconds_per_frame=spf,
        seconds_per_chunk=spc,
        spread=spread,
        billing="work",
        source=source,
        cores_per_node=cores,
        chunk_parallelism=parallelism,
    )


def _pool_option(
    client: redis.Redis,
    pool: Pool,
    catalogue: Any,
    notes: list[str],
    now: float,
    pipeline: float,
    broken: str | None = None,
) -> Option:
    offer = _offer(catalogue, pool)
    price = pool.price_per_hour
    if price == 0 and offer is not None:
        spot = getattr(offer, "spot", None)
        price = float(spot if pool.spot and spot is not None else offer.on_demand)
    elif price == 0 and pool.provider in CLOUDS:
        # Shown as free, it would be recommended and submitted past every budget.
        why = "is not in the price catalogue" if catalogue is not None else "has no price"
        if broken is not None:
            # The file at fault, not the pool: "set its price_per_hour" alone misled.
            why += f": the price catalogue is unreadable ({broken})"
        raise PoolConfigError(unpriced(pool, why))
    speed = getattr(offer, "relative_speed", None) if offer is not None else None
    if speed is not None:
        speed = slot_speed(float(speed), pool.concurrency)  # the catalogue's is per node
    node_class = _optional("orchestrator.node_class")
    if node_class is not None:
        name = str(node_class.node_class_name(pool.name))
        spu, spread, source = _class_throughput(node_class, client, name, speed)
    else:
        spu, spread, source = _fallback_throughput(client, pool.name, speed)
    vcpus = float(getattr(offer, "vcpus", 0) or 0)
    cores, parallelism = concurrency(
        client, node_class_name(pool.name), pool.concurrency, vcpus, pipeline
    )
    rate, notice = 0.0, 0.0
    if pool.spot:
        rate = _interruption_rate(client, pool, offer, notes, now)
        notice = _notice(pool.provider)
    return Option(
        pool=pool.name,
        provider=pool.provider,
        market=pool.market,
        instance_type=pool.instance_type,
        min_nodes=pool.min_nodes,
        max_nodes=pool.max_nodes,
        slots_per_node=pool.concurrency,
        boot_seconds=pool.boot_seconds,
        price_per_hour=price,
        seconds_per_unit=spu,
        spread=spread,
        interruption_rate=rate,
        notice_seconds=notice,
        region=pool.region,
        source=source,
        cores_per_node=cores,
        chunk_parallelism=parallelism,
    )


def concurrency(
    client: redis.Redis,
    node_class: str,
    slots_per_node: int,
    vcpus: float = 0.0,
    pipeline: float = 0.0,
) -> tuple[float, float]:
    """(vCPUs of a node of `slots_per_node` slots, how many of them one chunk of a timeline of
    this `pipeline` parallelism keeps busy alone), from the class's node benchmark
    (``BenchmarkResult.alone_cores``): what its slice achieved alone, the timeline achieving as
    much in proportion to its own pipeline parallelism against the slice's; (0, 0) when the
    class has no benchmark. `vcpus`: the node's, where the catalogue knows them; `pipeline` 0:
    the slice's."""
    bench = load_benchmark(client, node_class)
    if bench is None or bench.seconds <= 0 or bench.vcpus < 1:
        return 0.0, 0.0
    cores = vcpus or bench.vcpus / max(bench.slots, 1) * slots_per_node
    measured = bench.alone_cores
    if pipeline <= 0 or bench.pipeline <= 1.0:
        return cores, measured
    if bench.beside_seconds > 0:
        # Measured against the slots' renders, as a cluster's own jobs measure it: scaled by
        # the timeline's overlap as those are (estimate_fit.alone_speedup), never above it.
        gain = (measured - 1.0) * (pipeline - 1.0) / (bench.pipeline - 1.0)
        return cores, max(1.0, min(1.0 + gain, measured))
    achieved = min(max((measured - 1.0) / (bench.pipeline - 1.0), 0.0), 1.0)
    return cores, 1.0 + (pipeline - 1.0) * achieved


def _optional(name: str) -> ModuleType | None:
    """A module another part of issue 15 provides, or None where it is not there (yet)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _catalogue(settings: Settings, notes: list[str]) -> tuple[Any, str | None]:
    """The price catalogue (None without one), and why it could not be read (None: it was)."""
    prices = _optional("providers.compute.prices")
    if prices is None:
        return None, None
    try:
        catalogue = prices.load_catalogue(settings.prices_file)
    except RenderError as exc:
        notes.append(f"price catalogue not used: {exc}")
        return None, str(exc)
    return catalogue, None


def _offer(catalogue: Any, pool: Pool) -> Any:
    """The catalogue's offer for a pool's nodes (lookup_pool knows GCP's GPU types)."""
    if catalogue is None:
        return None
    by_pool = getattr(catalogue, "lookup_pool", None)
    if by_pool is not None:
        return by_pool(pool)
    return catalogue.lookup(pool.provider, pool.region, pool.instance_type)


def _class_throughput(
    module: ModuleType, client: redis.Redis, name: str, speed: float | None
) -> tuple[float, float, str]:
    found = module.class_throughput(client, name, relative_speed=speed)
    return float(found.seconds_per_unit), float(found.spread), str(found.source)


def _fallback_throughput(
    client: redis.Redis, name: str, speed: float | None
) -> tuple[float, float, str]:
    """(seconds per unit, spread, source) without the node-class module: the class's own
    history, else the local class's scaled by the catalogue's relative speed, else the prior."""
    own = load_throughput(client, name)
    if own is not None:
        return own.seconds_per_unit, HISTORY_SPREAD, "history"
    local = load_throughput(client, NODE_CLASS)
    if speed and local is not None:
        return local.seconds_per_unit / speed, DEFAULT_SPREAD, "catalogue"
    base = DEFAULT_THROUGHPUT.seconds_per_unit
    return (base / speed if speed else base), DEFAULT_SPREAD, "default"


def _interruption_rate(
    client: redis.Redis, pool: Pool, offer: Any, notes: list[str], now: float
) -> float:
    band = None
    if offer is not None and getattr(offer, "interruption_low", None) is not None:
        band = (float(offer.interruption_low), float(offer.interruption_high))
    model = _optional("orchestrator.autoscaler.interruptions")
    if model is not None:
        from orchestrator.autoscaler.ledger import Ledger

        return float(model.interruption_rate(Ledger(client).history(), pool.name, band, now))
    if band is not None:
        return (band[0] + band[1]) / 2
    notes.append(
        f"pool {pool.name}: no interruption history or band; assumed "
        f"{100 * DEFAULT_INTERRUPTION_RATE:.0f} % per node-hour"
    )
    return DEFAULT_INTERRUPTION_RATE


def _notice(provider: str) -> float:
    """Seconds of notice a spot node of this provider gets (0 where none is known)."""
    model = _optional("orchestrator.autoscaler.interruptions")
    table = getattr(model, "NOTICE_SECONDS", None) if model is not None else None
    return float((table or NOTICE_SECONDS).get(provider, 0.0))


# -- recording ----------------------------------------------------------------------------------
