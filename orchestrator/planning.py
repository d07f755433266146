"""Planning a job: its chunks and its estimate, with one set of arguments for the client's
estimate and for the orchestrator's plan_job task, so the quoted chunk count is the real one.
"""

from __future__ import annotations

import redis

from chunking.complexity import complexity
from chunking.plan import Chunk, plan_chunks
from chunking.timeline.model import Timeline
from orchestrator.costing import NODE_CLASS, Estimate, Throughput, estimate, load_throughput
from workers.calibrate import calibrate
from workers.probe import min_chunk_frames


def plan_job_chunks(timeline: Timeline, slots: int, chunk_frames: int | None) -> list[Chunk]:
    """The chunks a job of this timeline is split into on a cluster with `slots` worker slots.

    Without an explicit `chunk_frames`, a chunk lasts at least a second and two source keyframe
    intervals (probed from the media), so the pre-roll each chunk decodes stays small.
    """
    return plan_chunks(
        timeline,
        workers=slots,
        chunk_frames=chunk_frames,
        min_frames=None if chunk_frames else min_chunk_frames(timeline),
    )


def quote(
    timeline: Timeline,
    client: redis.Redis,
    *,
    slots: int,
    chunk_frames: int | None,
    hourly_rate: float,
) -> Estimate:
    """Render time and cost of a job on this cluster, from the throughput its workers measured
    (or, before any chunk has finished, from rendering a few frames here)."""
    chunks = plan_job_chunks(timeline, slots, chunk_frames)
    units = complexity(timeline)
    history = load_throughput(client, NODE_CLASS)
    basis = "history"
    if history is None:
        seconds_per_frame = calibrate(timeline, threads=1)
        history = Throughput(seconds_per_frame / units, 0)
        basis = "calibration"
    return estimate(
        timeline.frames,
        units,
        history,
        workers=slots,
        chunk_count=len(chunks),
        hourly_rate=hourly_rate,
        basis=basis,
    )
