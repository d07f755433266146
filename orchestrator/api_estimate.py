"""The estimate as the API and the CLI see it: a job's options (each pool in its market, or this
cluster's running slots when no pools are configured), priced and timed by the pure core
(``orchestrator.estimates``), with the recommendation; and what a job records of it.

Where each option's numbers come from, best first:

- price: the pool's ``price_per_hour``; when that is 0, the price catalogue's figure for its
  provider, region, type and market (``providers.compute.prices``); this cluster: the slots'
  ``CLOUDRENDER_HOURLY_RATE``.
- throughput: this cluster, once 3 jobs finished on it: a per-chunk, a per-frame and a
  per-unit cost fitted to its last 20 jobs, the spread their scatter around the fit
  (``estimate_fit.fit_throughput``), and once one of them ran chunks both alone and beside
  another, how much faster a lone chunk runs (``estimate_fit.alone_speedup``), with a factor per
  feature of the complexity fitted with the rate (``estimate_features.learn_corrections``);
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

import dataclasses
import datetime as dt
import re
import time
from dataclasses import dataclass, field
from typing import Any

import redis

from chunking.complexity import complexity_parts, pipeline_parallelism
from chunking.timeline.model import Timeline
from common.errors import RenderError
from common.settings import Settings
from orchestrator.budget_rules import check_max_cost
from orchestrator.estimate_choice import CONFIDENCE, recommend
from orchestrator.estimate_features import NONE, learn_corrections
from orchestrator.estimate_fit import (
    LONE_JOBS,
    alone_speedup,
    as_if_all_busy,
    beside_jobs,
    fit_throughput,
    learned_overheads,
    lone_speedup,
    without_starts,
)
from orchestrator.estimate_inputs import (
    NO_RENDER_NODE,
    MediaFacts,
    audio_work,
    chunk_units,
    live_slots,
    recent_timings,
    source_sizes,
    uncached_chunks,
    unstarted,
)
from orchestrator.estimate_options import build_options
from orchestrator.estimates import MARKETS, OptionEstimate, Overheads, estimate_options
from orchestrator.job_record import JobRecord
from orchestrator.job_store import JobStore
from orchestrator.planning import plan_job_chunks
from orchestrator.scheduling import deadline_time, future_deadline
from providers.compute.pools import PROVIDERS

#: How much each older finished job weighs against the one after it in this cluster's fit.
FIT_DECAY = 0.9
#: A deadline relative to now: "+30m", "+2h", "+1.5d".
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
    #: the complexity split by feature, as the weights price it (``complexity_parts``), and the
    #: factors this cluster learned for the features it has seen (``estimate_features``):
    #: ``complexity`` is the corrected sum
    parts: dict[str, float] = field(default_factory=dict)
    corrections: dict[str, float] = field(default_factory=dict)
    #: the planning, gap, merge and idle seconds priced (learned from this cluster's jobs)
    overheads: Overheads = field(default_factory=Overheads)

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
            "corrections": {name: round(f, 3) for name, f in sorted(self.corrections.items())},
        }


def _label(choice: OptionEstimate | None) -> dict[str, str] | None:
    return None if choice is None else {"pool": choice.option.pool, "market": choice.option.market}


def parse_deadline(value: float | dt.datetime | str | None, now: float) -> float | None:
    """A deadline as epoch seconds: epoch seconds, a datetime, ISO 8601 (UTC if naive), or
    ``+N[smhd]`` from now (``+30m``)."""
    if isinstance(value, str):
        relative = _RELATIVE.match(value.strip())
        if relative:
            # Checked as an absolute time is: "+99999999999999999999d" was taken as a deadline.
            ahead = float(relative.group(1)) * _UNIT_SECONDS[relative.group(2)]
            return deadline_time(now + ahead, given=value)
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
    learn_features: bool = True,
) -> JobEstimate:
    """The job's time and cost per option and the recommended option.

    ``slots``: the render slots the plan is made for (default: the live ones, as plan_job
    does); ``use_cache`` with ``storage_url``: chunks the segment cache holds are not priced;
    ``provider``/``pool``/``market`` ("spot", "on-demand"): only those options; ``deadline``:
    see parse_deadline; ``learn_features``: False prices by the static weights alone, without
    the per-feature corrections this cluster learned (``estimate_features``), to compare.
    """
    now = time.time() if now is None else now
    _check_filters(provider, market, max_cost)
    # A deadline already past was priced as "-211000000 s from now", answered 200.
    deadline_at = future_deadline(parse_deadline(deadline, now), deadline, now)
    store = JobStore(client)
    running = live_slots(store)
    live = slots if slots is not None else max(running, 1)  # a plan needs a slot to plan for
    plan = plan_job_chunks(timeline, live, chunk_frames)
    render = plan
    if use_cache and storage_url is not None:
        render = uncached_chunks(timeline, store, settings, live, chunk_frames, storage_url)
    facts = MediaFacts()  # each file opened once for its size and its sound
    sizes = source_sizes(timeline, facts)
    parts = complexity_parts(timeline, sources=sizes)
    notes: list[str] = []
    recent = recent_timings(store)
    overheads = learned_overheads(recent)
    if settings.pools_file:
        # A pool's node class is priced by its chunks' own rate, which holds their start.
        overheads = dataclasses.replace(overheads, slot_start_seconds=0.0)
    # The rate is fitted to the work besides each slot's start of a job, which is priced apart.
    timings = without_starts(recent, overheads.slot_start_seconds)
    pipeline = pipeline_parallelism(timeline, sources=sizes)
    learned = alone_speedup(timings, pipeline=pipeline) if not settings.pools_file else None
    if learned is not None:
        # Fit the rate with every slot busy; the option runs lone chunks that much faster.
        timings = as_if_all_busy(timings)
    # The rate from jobs that ran chunks beside each other; those whose chunks all ran alone
    # then say how much faster a lone chunk is against it.
    beside = beside_jobs(timings, recent)
    corrections, fit = learn_corrections(
        beside, lambda found: fit_throughput(found, decay=FIT_DECAY), decay=FIT_DECAY
    )
    if settings.pools_file or not learn_features:
        # Pools price by their node class's rate, learned on the static weights.
        corrections, fit = NONE, fit_throughput(beside, decay=FIT_DECAY)
    if not settings.pools_file and len(render) == 1 and len(beside) < len(timings):
        # A job of one chunk: priced at the speed-up the cluster's one-chunk jobs had, once two
        # did (one is a single draw of the node's load: p18 priced from one went +29 / +113 %).
        lone = lone_speedup(
            recent,
            fit,
            lambda t: corrections.units(t.parts) or t.units,
            minimum=LONE_JOBS,
            start=overheads.slot_start_seconds,
        )
        learned = lone if lone is not None else learned
    units_per_frame = corrections.units(parts)
    work = chunk_units(timeline, render, units_per_frame, sizes)
    options = build_options(
        client,
        settings,
        live,
        provider=provider,
        pool=pool,
        market=market,
        notes=notes,
        now=now,
        fit=fit,
        pipeline=pipeline,
        alone=learned,
    )
    deadline_seconds = None if deadline_at is None else deadline_at - now
    estimates = estimate_options(
        work,
        options,
        deadline=deadline_seconds,
        max_cost=max_cost,
        overheads=overheads,
        audio_units=audio_work(timeline, facts),
    )
    choice = recommend(estimates, deadline_seconds, max_cost, confidence)
    recommended, reason = choice.choice, choice.reason
    if not settings.pools_file and running == 0:
        # This cluster's slots are the only option and none runs: nothing renders the job
        # until a worker starts, so no time from now and no deadline can be promised.
        estimates = [unstarted(e) for e in estimates]
        recommended, reason = None, NO_RENDER_NODE
    return JobEstimate(
        frames=timeline.frames,
        complexity=units_per_frame,
        chunks=len(plan),
        reused_chunks=len(plan) - len(render),
        deadline_seconds=deadline_seconds,
        max_cost=max_cost,
        confidence=confidence,
        options=estimates,
        recommended=recommended,
        reason=reason,
        notes=notes,
        created_at=now,
        parts=parts,
        corrections={name: f for name, f in corrections.factors.items() if name in parts},
        overheads=overheads,
    )


def _check_filters(provider: str | None, market: str | None, max_cost: float | None) -> None:
    if provider is not None and provider not in PROVIDERS:
        raise RenderError(f"provider {provider!r} is not one of {', '.join(PROVIDERS)}")
    if market is not None and market not in MARKETS:
        raise RenderError(f"market {market!r} is not one of {', '.join(MARKETS)}")
    check_max_cost(max_cost)


def estimate_record(job_estimate: JobEstimate) -> dict[str, Any]:
    """The estimate as stored on the job (orchestrator.estimate_record)."""
    from orchestrator.estimate_record import estimate_record as record

    return record(job_estimate)


def accuracy(job: JobRecord) -> dict[str, Any] | None:
    """How far a finished job landed from its estimate (orchestrator.estimate_record)."""
    from orchestrator.estimate_record import accuracy as measured

    return measured(job)
