"""The estimate as the API and the CLI see it: a job's options (each pool in its market, or this
cluster's running slots when no pools are configured), priced and timed by the pure core
(``orchestrator.estimates``), with the recommendation; and what a job records of it.

Where each option's numbers come from, best first:

- price: the pool's ``price_per_hour``; when that is 0, the price catalogue's figure for its
  provider, region, type and market (``providers.compute.prices``); this cluster: the slots'
  ``CLOUDRENDER_HOURLY_RATE``.
- throughput: this cluster, once 3 jobs finished on it: a per-chunk, a per-frame and a
  per-unit cost fitted to its last 20 jobs, the spread their scatter around the fit
  (``estimate_fit.fit_throughput``), and once 3 of them ran chunks both alone and beside another,
  how much faster a lone chunk runs (``estimate_fit.alone_speedup``);
  else, and for pools, ``orchestrator.node_class.class_throughput`` for the node class
  (measured, else the catalogue's relative speed with a wide spread); without that module, the
  learned history (``orchestrator.costing``) with ``HISTORY_SPREAD``, else the prior with
  ``DEFAULT_SPREAD``.
- spot interruptions: ``orchestrator.autoscaler.interruptions.interruption_rate`` (the ledger's
  notices, seeded with the catalogue's band); without it, the band's middle, else
  ``DEFAULT_INTERRUPTION_RATE``.

The catalogue, node-class and interruption modules are imported when called, so an estimate
works (with the fallbacks) where they are absent.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import math
import re
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import redis

from chunking.complexity import complexity, pipeline_parallelism
from chunking.timeline.model import Timeline
from common.errors import RenderError
from common.settings import Settings
from orchestrator.costing import DEFAULT_THROUGHPUT, NODE_CLASS, load_throughput
from orchestrator.estimate_fit import (
    Fit,
    alone_speedup,
    as_if_busy,
    fit_throughput,
    learned_overheads,
)
from orchestrator.estimate_inputs import chunk_units, live_slots, recent_timings, uncached_chunks
from orchestrator.estimates import (
    CONFIDENCE,
    MARKETS,
    Option,
    OptionEstimate,
    estimate_options,
    recommend,
)
from orchestrator.job_record import JobRecord
from orchestrator.job_store import JobStore
from orchestrator.node_class import load_benchmark, node_class_name, slot_speed
from orchestrator.planning import plan_job_chunks
from orchestrator.scheduling import deadline_time
from providers.compute.pools import PROVIDERS, Pool, load_pools

log = logging.getLogger(__name__)

#: The option of a cluster without pools: its running render slots.
THIS_CLUSTER = "this-cluster"
#: Relative spread of a learned throughput when no node-class module says better.
HISTORY_SPREAD = 0.15
#: Relative spread of the prior (nothing measured yet): it may be off by half either way.
DEFAULT_SPREAD = 0.5
#: How much each older finished job weighs against the one after it in this cluster's fit.
FIT_DECAY = 0.9
#: Spot interruptions per node-hour when neither the ledger nor the catalogue knows (5 %/h).
DEFAULT_INTERRUPTION_RATE = 0.05
#: Seconds of notice before a spot node goes (AWS two minutes, GCP and Azure 30 s).
NOTICE_SECONDS = {"aws": 120.0, "gcp": 30.0, "azure": 30.0}
#: Frames whose cost is sampled to spread a job's units over its chunks.
_RELATIVE = re.compile(r"^\+(\d+(?:\.\d+)?)\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class JobEstimate:
    """A job's options, the recommended one and why."""

    frames: int
    complexity: float
    #: chunks of the plan, and how many of them the segment cache holds (not priced)
    chunks: int
    reused_chunks: int
    #: seconds from now to the deadline (None: none), and the cost limit (None: none)
    deadline_seconds: float | None
    max_cost: float | None
    confidence: float
    options: list[OptionEstimate]
    recommended: OptionEstimate | None
    reason: str
    #: what the estimate fell back on (a catalogue that did not load, ...)
    notes: list[str] = field(default_factory=list)
    created_at: float = 0.0

    @property
    def headline(self) -> OptionEstimate | None:
        """The recommended option, else the first one."""
        return self.recommended or (self.options[0] if self.options else None)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary; ``seconds``/``cost`` are the headline option's medians."""
        top = self.headline
        return {
            "frames": self.frames,
            "complexity": round(self.complexity, 4),
            "chunks": self.chunks,
            "reused_chunks": self.reused_chunks,
            "seconds": round(top.seconds.p50, 1) if top else None,
            "cost": round(top.cost.p50, 8) if top else None,
            "deadline_seconds": (
                None if self.deadline_seconds is None else round(self.deadline_seconds, 1)
            ),
            "max_cost": self.max_cost,
            "confidence": self.confidence,
            "options": [o.to_json() for o in self.options],
            "recommended": _label(self.recommended),
            "reason": self.reason,
            "notes": list(self.notes),
        }


def _label(choice: OptionEstimate | None) -> dict[str, str] | None:
    return None if choice is None else {"pool": choice.option.pool, "market": choice.option.market}


def parse_deadline(value: float | dt.datetime | str | None, now: float) -> float | None:
    """A deadline as epoch seconds: epoch seconds, a datetime, ISO 8601 (UTC if naive), or
    ``+N[smhd]`` from now (``+30m``)."""
    if isinstance(value, str):
        relative = _RELATIVE.match(value.strip())
        if relative:
            return now + float(relative.group(1)) * _UNIT_SECONDS[relative.group(2)]
        if value.strip().startswith("+"):
            raise RenderError(f"deadline {value!r}: write +N with s, m, h or d (e.g. +30m)")
    return deadline_time(value)


def estimate_job(
    client: redis.Redis,
    settings: Settings,
    timeline: Timeline,
    *,
    chunk_frames: int | None = None,
    use_cache: bool = False,
    storage_url: str | None = None,
    slots: int | None = None,
    provider: str | None = None,
    pool: str | None = None,
    market: str | None = None,
    deadline: float | dt.datetime | str | None = None,
    max_cost: float | None = None,
    confidence: float = CONFIDENCE,
    now: float | None = None,
) -> JobEstimate:
    """The job's time and cost per option and the recommended option.

    ``slots``: the render slots the plan is made for (default: the live ones, as plan_job
    does); ``use_cache`` with ``storage_url``: chunks the segment cache holds are not priced;
    ``provider``/``pool``/``market`` ("spot", "on-demand"): only those options; ``deadline``:
    see parse_deadline.
    """
    now = time.time() if now is None else now
    _check_filters(provider, market, max_cost)
    deadline_at = parse_deadline(deadline, now)
    store = JobStore(client)
    live = slots if slots is not None else live_slots(store)
    plan = plan_job_chunks(timeline, live, chunk_frames)
    render = plan
    if use_cache and storage_url is not None:
        render = uncached_chunks(timeline, store, settings, live, chunk_frames, storage_url)
    units_per_frame = complexity(timeline)
    work = chunk_units(timeline, render, units_per_frame)
    notes: list[str] = []
    timings = recent_timings(store)
    pipeline = pipeline_parallelism(timeline)
    learned = alone_speedup(timings) if not settings.pools_file else None
    if learned is not None:
        # Fit the rate with every slot busy; the option runs lone chunks that much faster.
        timings = [as_if_busy(t, learned) for t in timings]
    options = build_options(
        client,
        settings,
        live,
        provider=provider,
        pool=pool,
        market=market,
        notes=notes,
        now=now,
        fit=fit_throughput(timings, decay=FIT_DECAY),
        pipeline=pipeline,
        alone=learned,
    )
    deadline_seconds = None if deadline_at is None else deadline_at - now
    overheads = learned_overheads(timings)
    estimates = estimate_options(
        work, options, deadline=deadline_seconds, max_cost=max_cost, overheads=overheads
    )
    choice = recommend(estimates, deadline_seconds, max_cost, confidence)
    return JobEstimate(
        frames=timeline.frames,
        complexity=units_per_frame,
        chunks=len(plan),
        reused_chunks=len(plan) - len(render),
        deadline_seconds=deadline_seconds,
        max_cost=max_cost,
        confidence=confidence,
        options=estimates,
        recommended=choice.choice,
        reason=choice.reason,
        notes=notes,
        created_at=now,
    )


def _check_filters(provider: str | None, market: str | None, max_cost: float | None) -> None:
    if provider is not None and provider not in PROVIDERS:
        raise RenderError(f"provider {provider!r} is not one of {', '.join(PROVIDERS)}")
    if market is not None and market not in MARKETS:
        raise RenderError(f"market {market!r} is not one of {', '.join(MARKETS)}")
    if max_cost is not None and not (math.isfinite(max_cost) and max_cost >= 0):
        raise RenderError(f"max cost {max_cost!r} must be a number of dollars, 0 or more")


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
    if not settings.pools_file:
        candidates = [_this_cluster(client, settings, slots, fit, pipeline, alone)]
        known = f"{THIS_CLUSTER} (local, on-demand; no pools file)"
    else:
        pools = load_pools(settings.pools_file, settings.pool_overrides).pools
        renderers = [p for p in pools.values() if "render" in p.queues and p.max_nodes > 0]
        catalogue = _catalogue(settings, notes)
        candidates = [_pool_option(client, p, catalogue, notes, now, pipeline) for p in renderers]
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
    client: redis.Redis, pool: Pool, catalogue: Any, notes: list[str], now: float, pipeline: float
) -> Option:
    offer = _offer(catalogue, pool)
    price = pool.price_per_hour
    if price == 0 and offer is not None:
        spot = getattr(offer, "spot", None)
        price = float(spot if pool.spot and spot is not None else offer.on_demand)
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
    this `pipeline` parallelism keeps busy alone), from the class's node benchmark, which renders
    alone: its CPU over its wall time is what its slice achieved of the slice's own pipeline
    parallelism, and the timeline achieves as much of its own; (0, 0) when the class has no
    benchmark. `vcpus`: the node's, where the catalogue knows them; `pipeline` 0: the slice's."""
    bench = load_benchmark(client, node_class)
    if bench is None or bench.seconds <= 0 or bench.vcpus < 1:
        return 0.0, 0.0
    cores = vcpus or bench.vcpus / max(bench.slots, 1) * slots_per_node
    measured = bench.cpu_seconds / bench.seconds
    if pipeline <= 0 or bench.pipeline <= 1.0:
        return cores, measured
    achieved = min(max((measured - 1.0) / (bench.pipeline - 1.0), 0.0), 1.0)
    return cores, 1.0 + (pipeline - 1.0) * achieved


def _optional(name: str) -> ModuleType | None:
    """A module another part of issue 15 provides, or None where it is not there (yet)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _catalogue(settings: Settings, notes: list[str]) -> Any:
    prices = _optional("providers.compute.prices")
    if prices is None:
        return None
    try:
        catalogue = prices.load_catalogue(settings.prices_file)
    except RenderError as exc:
        notes.append(f"price catalogue not used: {exc}")
        return None
    return catalogue


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


def estimate_record(job_estimate: JobEstimate) -> dict[str, Any]:
    """The estimate as stored on the job (orchestrator.estimate_record)."""
    from orchestrator.estimate_record import estimate_record as record

    return record(job_estimate)


def accuracy(job: JobRecord) -> dict[str, Any] | None:
    """How far a finished job landed from its estimate (orchestrator.estimate_record)."""
    from orchestrator.estimate_record import accuracy as measured

    return measured(job)
