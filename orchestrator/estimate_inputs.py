"""What an estimate is made from: the live slots, the chunks left to render and their units, and
the timings of the cluster's recent jobs (read from the job store)."""

from __future__ import annotations

from collections.abc import Sequence

from chunking.complexity import frame_cost
from chunking.plan import Chunk
from chunking.timeline.model import Timeline
from common.settings import Settings
from orchestrator.estimate_fit import JobTiming
from orchestrator.job_record import JobNotFound, JobState
from orchestrator.job_store import JobStore
from orchestrator.node_signals import renders

#: Frames whose cost is sampled to spread a job's units over its chunks.
_SAMPLES = 240


def live_slots(store: JobStore) -> int:
    """Render worker slots taking work now (at least 1), as the dispatcher counts them."""
    beats = store.heartbeats().values()
    total = sum(int(b.get("concurrency", 1)) for b in beats if renders(b) and not b.get("draining"))
    return max(1, total)


def recent_timings(store: JobStore, limit: int = 20) -> list[JobTiming]:
    """What the newest completed jobs (of the last `limit` stored), newest first, measured:
    planning, merge, and (for jobs this cluster's own slots rendered, not pool nodes) the
    slot-seconds of their chunks for the frames and units they rendered."""
    found = []
    for job_id in store.recent(limit):
        try:
            job = store.get(job_id)
        except JobNotFound:
            continue
        merge = (job.result or {}).get("merge_seconds")
        if job.state is not JobState.COMPLETED or job.started_at is None or merge is None:
            continue
        rendered = job.frames - job.reused_frames
        own = job.pool_seconds == 0 and rendered > 0
        try:
            found.append(
                JobTiming(
                    frames=job.frames,
                    startup_seconds=job.started_at - job.submitted_at,
                    merge_seconds=float(merge),
                    busy_seconds=max(job.node_seconds - float(merge), 0.0) if own else 0.0,
                    rendered_frames=rendered if own else 0,
                    units=rendered * job.complexity if own else 0.0,
                )
            )
        except (TypeError, ValueError):
            continue  # a record of an older version: nothing to learn from
    return found


def chunk_units(
    timeline: Timeline, chunks: Sequence[Chunk], units_per_frame: float
) -> list[tuple[int, float]]:
    """(frames, units) per chunk: frames x the timeline's complexity, shared out by the cost of
    sampled frames of each chunk (a heavy stretch makes its chunks longer), so that the total is
    what the job record is charged and the throughput learned by."""
    if not chunks:
        return []
    per_chunk = max(1, _SAMPLES // len(chunks))
    weights = []
    for chunk in chunks:
        step = max(1, chunk.frames // per_chunk)
        picks = range(chunk.start + step // 2, chunk.end, step)
        costs = [frame_cost(timeline, t) for t in picks] or [units_per_frame]
        weights.append(chunk.frames * sum(costs) / len(costs))
    total = sum(weights)
    target = units_per_frame * sum(c.frames for c in chunks)
    scale = target / total if total > 0 else 0.0
    return [(c.frames, w * scale) for c, w in zip(chunks, weights, strict=True)]


def uncached_chunks(
    timeline: Timeline,
    store: JobStore,
    settings: Settings,
    slots: int,
    chunk_frames: int | None,
    storage_url: str,
) -> list[Chunk]:
    """The chunks of the plan the segment cache does not hold (as orchestrator.api_cache)."""
    from orchestrator.api_cache import cached_chunks, open_cache
    from orchestrator.planning import job_fingerprint, keyed_plan, media_ids
    from workers.fingerprint import render_fingerprint  # the codec stack: only here

    fingerprint = job_fingerprint(store.heartbeats(), render_fingerprint())
    media = media_ids({}, timeline=timeline, client=store.redis)
    keyed = keyed_plan(timeline, slots, chunk_frames, media, fingerprint)
    render, _ = cached_chunks(keyed, open_cache(storage_url, store.redis, settings))
    return render


# -- options ----------------------------------------------------------------------------------
