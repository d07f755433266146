"""Estimates as ranges: a job's time and cost on each pool/market option, and the one to take.

Pure: plain numbers in, plain numbers out; the glue (``orchestrator.api_estimate``) reads pools,
prices and throughput and calls this.

The model, per option (a pool in its market, or this cluster's running slots):

- **Work.** The job's chunk plan as (frames, units) per chunk (units = frames x complexity). A
  chunk occupies one worker slot for ``(frames x seconds_per_frame + units x seconds_per_unit)
  x F`` seconds (what a worker reports and is billed for) plus ``per_chunk_seconds`` of dispatch
  between chunks. ``seconds_per_frame`` is the cost of a frame whatever it shows (decoding,
  the frame loop, encoder set-up per frame), known where a cluster's finished jobs were fitted
  (``fit_throughput``), else 0 (all in the per-unit rate). F is
  the throughput factor: lognormal with median 1 and the option's ``spread`` as its relative
  standard deviation. F is one draw for the whole job (a node class that is slower than its
  history, a timeline whose complexity weights are off), not a per-chunk noise that averages out.
- **Audio.** The job's audio task (``chunking.audio_cost``: ``audio_units`` at the option's
  ``seconds_per_unit``) runs beside the chunks on the audio queue: billed as they are, and
  waited for where it outlasts them. An audio-only job has no chunk and is that task alone.
- **Schedule.** Chunks go to slots in plan order, each to the slot that frees first: what the
  dispatcher does (a FIFO pending list per job, one chunk handed out per free slot), not
  longest-processing-time first; each slot's first chunk of the job also takes
  ``slot_start_seconds`` (its start on that slot, learned from the cluster's jobs; billed).
  Time = ``boot_seconds`` + ``startup_seconds`` (planning and the
  first dispatch) + the schedule's makespan + the merge + ``idle_seconds`` (pick-ups and
  hand-overs between them; not billed).
- **Spot.** Interruptions arrive at ``interruption_rate`` per node-hour while the nodes render.
  Each costs the job the lost half of the chunks its node was running (nothing when a chunk is
  shorter than the notice: it finishes during the notice) plus a replacement's boot, shared by
  the nodes: ``(lost + boot) / nodes`` seconds. p50 adds the expected count, p10/p90 the Poisson
  10th/90th percentile count.
- **Billing.** ``"node"``: cloud nodes, per second from the request (boot paid) to the end of
  the render, one of them through the merge, at least 60 s each
  (``orchestrator.autoscaler.billing``). ``"work"``: slots already running (this cluster), billed
  for the seconds chunks and the merge run, as the job store bills them. Cost low/p50/high are
  the costs at time p10/p50/p90.
- **Nodes.** The fewest nodes whose p90 time meets the deadline; when none does, as many as
  the pool may have (never more than the chunks can keep busy); without a deadline, the most
  whose high cost stays within ``max_cost`` (all of them without a limit; the fewest when even
  they cost more).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.estimate_math import (
    Z90,
    factor_probability,
    poisson_quantile,
    poisson_weights,
    sigma,
)
from orchestrator.estimate_plan import NodePlan

MARKETS = ("on-demand", "spot")
BILLING = ("node", "work")


@dataclass(frozen=True)
class Overheads:
    """Time a job takes besides rendering its chunks, in seconds. The defaults were measured on
    the development cluster, quiet, on 2026-12-07 (docs/cost.md); learned_overheads replaces
    them with what this cluster's finished jobs measured from the first one on."""

    #: submission to the first chunk running: planning (media ids, probing), the first dispatch
    #: (0.02-0.05 s measured; the 0.5 s this was priced 0.45 s too long a job before any finished)
    startup_seconds: float = 0.05
    #: between one chunk of a slot and its next: completion bookkeeping, dispatch, task start
    #: (about 0.01 s measured; 0.1 s added 1.4 s to a 2-minute 320x180 job on two slots)
    per_chunk_seconds: float = 0.01
    #: the merge: a fixed part plus a part per output frame (concatenation, upload): 0.02-0.06 s
    #: up to 1350 frames and 0.12-0.13 s at 3600 measured, not 0.1 s plus 0.2 ms a frame
    merge_seconds: float = 0.025
    merge_seconds_per_frame: float = 0.000027
    #: the rest of what the user waits: the first chunk's pick-up, the merge's dispatch after
    #: the last chunk, the completion (0 until a finished job measured it)
    idle_seconds: float = 0.0
    #: what each slot's first chunk of a job takes over its frames' work (the job's render
    #: process and media opening on that slot): 0.1-0.3 s measured on 2026-12-07, per job and
    #: slot whatever the chunk's size (0 until a finished job measured it)
    slot_start_seconds: float = 0.0

    def merge(self, frames: int) -> float:
        """Seconds the merge of a job of `frames` frames takes."""
        return self.merge_seconds + self.merge_seconds_per_frame * frames


@dataclass(frozen=True)
class Option:
    """One way to run the job: a pool in its market, priced and with its node class's speed."""

    pool: str
    provider: str
    market: str
    instance_type: str
    min_nodes: int
    max_nodes: int
    slots_per_node: int
    boot_seconds: float
    #: dollars per node-hour
    price_per_hour: float
    #: seconds one slot takes per complexity unit
    seconds_per_unit: float
    #: relative standard deviation of the throughput (0.2: +-20 %)
    spread: float
    #: seconds one slot takes per frame besides its units (0: all in seconds_per_unit)
    seconds_per_frame: float = 0.0
    #: seconds one slot takes per chunk besides its frames (the render process, the upload)
    seconds_per_chunk: float = 0.0
    #: vCPUs of a node, and how many of them one chunk keeps busy when it runs alone (0: not
    #: known; then a chunk runs as fast alone as beside others)
    cores_per_node: float = 0.0
    chunk_parallelism: float = 0.0
    #: spot interruptions per node-hour (0 on-demand)
    interruption_rate: float = 0.0
    #: seconds between an interruption notice and the node going away
    notice_seconds: float = 0.0
    #: "node": cloud nodes billed for their life; "work": running slots billed for busy seconds
    billing: str = "node"
    region: str = ""
    #: where seconds_per_unit came from ("history", "benchmark", "catalogue", "default", ...)
    source: str = ""

    def __post_init__(self) -> None:
        if self.market not in MARKETS:
            raise ValueError(f"market must be one of {MARKETS}, got {self.market!r}")
        if self.billing not in BILLING:
            raise ValueError(f"billing must be one of {BILLING}, got {self.billing!r}")
        if self.max_nodes < 1 or not 0 <= self.min_nodes <= self.max_nodes:
            raise ValueError(f"pool {self.pool}: nodes must be 0 <= min <= max, max >= 1")
        if self.slots_per_node < 1:
            raise ValueError(f"pool {self.pool}: slots_per_node must be at least 1")
        for name in (
            "boot_seconds",
            "price_per_hour",
            "spread",
            "interruption_rate",
            "seconds_per_frame",
            "seconds_per_unit",
            "seconds_per_chunk",
            "chunk_parallelism",
            "cores_per_node",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"pool {self.pool}: {name} must be >= 0, got {value!r}")
        if self.seconds_per_unit == 0 == self.seconds_per_frame:
            raise ValueError(f"pool {self.pool}: seconds per unit or per frame must be positive")


@dataclass(frozen=True)
class Range:
    """A 10th percentile, median and 90th percentile."""

    low: float
    p50: float
    high: float

    def to_json(self, digits: int) -> dict[str, float]:
        """A JSON-ready dictionary, rounded."""
        return {
            "low": round(self.low, digits),
            "p50": round(self.p50, digits),
            "high": round(self.high, digits),
        }


@dataclass(frozen=True)
class OptionEstimate:
    """What the job takes and costs on one option, with the nodes chosen for it."""

    option: Option
    nodes: int
    seconds: Range
    cost: Range
    #: P(finished by the deadline); None without a deadline
    deadline_probability: float | None
    #: whether the high cost stays within max_cost (True without one)
    within_budget: bool
    #: expected spot interruptions during the render
    interruptions: float
    note: str = ""

    @property
    def name(self) -> str:
        """The option as a user names it: pool (market)."""
        return f"{self.option.pool} ({self.option.market})"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        o = self.option
        return {
            "pool": o.pool,
            "provider": o.provider,
            "region": o.region,
            "market": o.market,
            "instance_type": o.instance_type,
            "nodes": self.nodes,
            "slots_per_node": o.slots_per_node,
            "price_per_hour": o.price_per_hour,
            "billing": o.billing,
            "boot_seconds": o.boot_seconds,
            "seconds_per_unit": round(o.seconds_per_unit, 6),
            "seconds_per_frame": round(o.seconds_per_frame, 6),
            "seconds_per_chunk": round(o.seconds_per_chunk, 4),
            "spread": round(o.spread, 4),
            "throughput_source": o.source,
            "seconds": self.seconds.to_json(1),
            "cost": self.cost.to_json(8),
            "deadline_probability": (
                None if self.deadline_probability is None else round(self.deadline_probability, 4)
            ),
            "within_budget": self.within_budget,
            "interruptions": round(self.interruptions, 4),
            "note": self.note,
        }


def estimate_option(
    chunks: Sequence[tuple[int, float]],
    option: Option,
    *,
    deadline: float | None,
    max_cost: float | None,
    overheads: Overheads = Overheads(),
    audio_units: float = 0.0,
) -> OptionEstimate:
    """Time and cost ranges of the job on one option, with the nodes it should have.

    `chunks`: (frames, units) per chunk to render, in plan order; `deadline`: seconds from now
    (None: none); `max_cost`: dollars (None: no limit); `audio_units`: the audio task's work
    (``chunking.audio_cost``; an audio-only job has no chunk and only this).
    """
    if not (math.isfinite(audio_units) and audio_units >= 0):
        raise ValueError(f"audio units must be >= 0, got {audio_units!r}")
    for count, size in chunks:
        if count < 1 or not (math.isfinite(size) and size >= 0):
            raise ValueError(f"a chunk needs frames >= 1 and units >= 0, got {(count, size)}")
    work = tuple(
        option.seconds_per_chunk + f * option.seconds_per_frame + u * option.seconds_per_unit
        for f, u in chunks
    )
    frames = sum(f for f, _ in chunks)
    s = sigma(option.spread)
    low, high = math.exp(-Z90 * s), math.exp(Z90 * s)
    useful = max(1, math.ceil(len(work) / option.slots_per_node))
    most = max(1, min(option.max_nodes, useful))
    fewest = min(max(1, option.min_nodes), most)

    def plan(nodes: int) -> NodePlan:
        return NodePlan(
            option, nodes, work, frames, overheads, audio_units * option.seconds_per_unit
        )

    def p90(p: NodePlan) -> float:
        count = poisson_quantile(p.interruption_count(high), 0.9)
        return p.seconds(high, count)

    def high_cost(p: NodePlan) -> float:
        return p.cost(high, poisson_quantile(p.interruption_count(high), 0.9))

    chosen, note = plan(most), ""
    if deadline is not None:
        for nodes in range(fewest, most + 1):
            if p90(candidate := plan(nodes)) <= deadline:
                chosen = candidate
                break
        else:
            note = f"even {most} node(s) miss the deadline at p90"
    elif max_cost is not None:
        # No deadline: as fast as the limit allows (more nodes pay more boot and minimums).
        chosen = next(
            (c for n in range(most, fewest - 1, -1) if high_cost(c := plan(n)) <= max_cost),
            plan(fewest),
        )
    mean = chosen.interruption_count(1.0)
    seconds = Range(
        chosen.seconds(low, poisson_quantile(chosen.interruption_count(low), 0.1)),
        chosen.seconds(1.0, mean),
        p90(chosen),
    )
    cost = Range(
        chosen.cost(low, poisson_quantile(chosen.interruption_count(low), 0.1)),
        chosen.cost(1.0, mean),
        high_cost(chosen),
    )
    probability = None if deadline is None else _deadline_probability(chosen, s, deadline)
    return OptionEstimate(
        option=option,
        nodes=chosen.nodes,
        seconds=seconds,
        cost=cost,
        deadline_probability=probability,
        within_budget=max_cost is None or cost.high <= max_cost,
        interruptions=mean,
        note=note,
    )


def _deadline_probability(plan: NodePlan, s: float, deadline: float) -> float:
    """P(the job is done by `deadline`): over the throughput factor and, on spot, the number of
    interruptions (Poisson with the count expected at the median factor)."""
    total = sum(
        weight * factor_probability(functools.partial(_at, plan, k), s, deadline)
        for k, weight in poisson_weights(plan.interruption_count(1.0))
    )
    return min(1.0, max(0.0, total))


def _at(plan: NodePlan, interruptions: int, factor: float) -> float:
    return plan.seconds(factor, interruptions)


def estimate_options(
    chunks: Sequence[tuple[int, float]],
    options: Sequence[Option],
    *,
    deadline: float | None,
    max_cost: float | None,
    overheads: Overheads = Overheads(),
    audio_units: float = 0.0,
) -> list[OptionEstimate]:
    """estimate_option for each option, in the given order."""
    return [
        estimate_option(
            chunks,
            o,
            deadline=deadline,
            max_cost=max_cost,
            overheads=overheads,
            audio_units=audio_units,
        )
        for o in options
    ]
