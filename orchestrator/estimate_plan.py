"""One estimate option at one node count (``NodePlan``): its schedule, spot interruptions,
time and cost at a throughput factor; ``orchestrator.estimates`` (whose docstring states the
model) picks the node count and the percentiles from these."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orchestrator.autoscaler.billing import billable_seconds
from orchestrator.estimate_math import concurrency_speed, shared_schedule

if TYPE_CHECKING:  # estimates imports this module: the types only
    from orchestrator.estimates import Option, Overheads


@dataclass(frozen=True)
class NodePlan:
    """One option at one node count: the pieces its time and cost are made of."""

    option: Option
    nodes: int
    #: slot-seconds of each chunk at throughput factor 1, in plan order
    work: tuple[float, ...]
    frames: int
    overheads: Overheads
    #: slot-seconds of the job's audio task at throughput factor 1 (0: a silent timeline); it
    #: runs beside the chunks, on the audio queue, and is billed as they are
    audio: float = 0.0
    _memo: dict[float, tuple[float, float]] = field(default_factory=dict, compare=False)

    @property
    def slots(self) -> int:
        return self.nodes * self.option.slots_per_node

    @functools.cached_property
    def speed(self) -> float:
        """How much faster than with every slot busy the chunks run: a job of fewer chunks than
        slots leaves its nodes' other cores to them (spread evenly over the nodes)."""
        o = self.option
        busy = min(o.slots_per_node, max(1, math.ceil(len(self.work) / self.nodes)))
        return concurrency_speed(busy, o.slots_per_node, o.cores_per_node, o.chunk_parallelism)

    def schedule(self, factor: float) -> tuple[float, float]:
        """(Seconds from the first chunk starting to the last ending, slot-seconds the chunks
        ran) at throughput `factor`: the chunks in plan order, each to the slot that frees
        first, the running ones spread evenly over the nodes and sped up as slots fall idle."""
        if factor not in self._memo:
            o, nodes = self.option, self.nodes

            def speed(running: int) -> float:
                busy = math.ceil(running / nodes)
                return concurrency_speed(
                    busy, o.slots_per_node, o.cores_per_node, o.chunk_parallelism
                )

            gap, start = self.overheads.per_chunk_seconds, self.overheads.slot_start_seconds
            # Each slot's first chunk of the job also pays the job's start on that slot.
            work = [
                w * factor + gap + (start if i < self.slots else 0.0)
                for i, w in enumerate(self.work)
            ]
            makespan, busy = shared_schedule(work, self.slots, speed)
            # A slot waiting for its next chunk is not billed as the chunk's work.
            self._memo[factor] = (makespan, max(busy - gap * len(work), 0.0))
        return self._memo[factor]

    def makespan(self, factor: float) -> float:
        """Seconds from the first chunk starting to the last ending, at throughput `factor`."""
        return self.schedule(factor)[0]

    def chunk_seconds(self, factor: float) -> float:
        """Mean seconds of one chunk at `factor` (0 for an empty plan)."""
        if not self.work:
            return 0.0
        return sum(self.work) / len(self.work) * factor / self.speed

    def interruption_count(self, factor: float) -> float:
        """Expected spot interruptions while the nodes render."""
        return self.option.interruption_rate * self.nodes * self.makespan(factor) / 3600.0

    def interruption_seconds(self, factor: float) -> float:
        """What one interruption adds to the job's time."""
        chunk = self.chunk_seconds(factor)
        lost = chunk / 2 if chunk > self.option.notice_seconds else 0.0
        return (lost + self.option.boot_seconds) / self.nodes

    def render_end(self, factor: float, interruptions: float) -> float:
        """Seconds from now until the last chunk and the audio are in."""
        start = self.option.boot_seconds + self.overheads.startup_seconds
        if not self.work:
            return start + self.audio * factor
        chunks = self.makespan(factor) + interruptions * self.interruption_seconds(factor)
        return start + max(chunks, self.audio * factor)

    def seconds(self, factor: float, interruptions: float) -> float:
        """Seconds from now until the output is delivered."""
        merge = self.overheads.merge(self.frames)
        return self.render_end(factor, interruptions) + merge + self.overheads.idle_seconds

    def cost(self, factor: float, interruptions: float) -> float:
        """Dollars the job costs at `factor` with this many interruptions."""
        o = self.option
        merge = self.overheads.merge(self.frames)
        if o.billing == "work":
            busy = self.schedule(factor)[1] + self.audio * factor + merge
            return busy * o.price_per_hour / o.slots_per_node / 3600.0
        life = self.render_end(factor, interruptions)
        node_seconds = self.nodes * billable_seconds(0.0, life) + (
            billable_seconds(0.0, life + merge) - billable_seconds(0.0, life)
        )
        return node_seconds * o.price_per_hour / 3600.0
