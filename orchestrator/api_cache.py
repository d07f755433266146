"""The segment cache as the Python API sees it: which of a job's chunks a re-render takes from
the cache (so an estimate prices only the others), and the cache's statistics and clearing.

The lookup is the orchestrator's own (``orchestrator.planning``: the same keyed plan, the same
media content ids, the fingerprint the live render nodes report), made without counting as a
hit or miss: an estimate is a question, not a render.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import redis

from chunking.plan import Chunk
from chunking.timeline.model import Timeline
from common.settings import Settings
from orchestrator.api_results import ReuseEstimate
from orchestrator.costing import Estimate, Throughput, estimate
from orchestrator.job_store import JobStore
from orchestrator.planning import (
    job_fingerprint,
    keyed_plan,
    known_hardware_encoders,
    media_ids,
    plan_job_chunks,
    quote,
)
from orchestrator.segment_cache import SegmentCache
from orchestrator.spot_chunks import job_chunking
from providers.storage import Storage, open_storage


def open_cache(storage_url: str, client: redis.Redis, settings: Settings) -> SegmentCache:
    """The segment cache of a storage, sealed as this process's key says (as workers seal)."""
    return SegmentCache(
        sealed(open_storage(storage_url), settings), client, max_bytes=settings.cache_max_bytes
    )


def sealed(storage: Storage, settings: Settings) -> Storage:
    """``storage`` encrypted with the cluster's key when this process holds one."""
    from providers.storage.encrypted import EncryptedStorage, PlaintextStorage, key_from_text

    if settings.encryption_key:
        return EncryptedStorage(storage, key_from_text(settings.encryption_key))
    return PlaintextStorage(storage)


def cached_chunks(
    keyed: Sequence[tuple[Chunk, str]], cache: SegmentCache
) -> tuple[list[Chunk], list[Chunk]]:
    """(chunks to render, chunks the cache holds) of a keyed plan; a chunk without a key
    ("") is never cached."""
    found = cache.present(key for _, key in keyed if key)
    render = [chunk for chunk, key in keyed if not key or key not in found]
    reused = [chunk for chunk, key in keyed if key and key in found]
    return render, reused


def with_reuse(
    full: Estimate, render: Sequence[Chunk], reused: Sequence[Chunk], *, slots: int
) -> ReuseEstimate:
    """The estimate of a job whose `reused` chunks come from the cache: its node time and cost
    (and so its wall time) count only the frames and chunks of `render`.

    The rate is the full estimate's (same throughput, same complexity); frames stay the
    timeline's, since the output has them all.
    """
    rate = Throughput(full.seconds_per_frame / full.complexity, 0) if full.complexity else None
    frames = sum(c.frames for c in render)
    if rate is None or not reused:
        misses = full
    else:
        misses = estimate(
            frames,
            full.complexity,
            rate,
            workers=slots,
            chunk_count=len(render),
            hourly_rate=full.hourly_rate,
            basis=full.basis,
        )
    fields: dict[str, Any] = {f.name: getattr(misses, f.name) for f in dataclasses.fields(full)}
    fields["frames"] = full.frames
    return ReuseEstimate(**fields, chunks=len(render) + len(reused), reused_chunks=len(reused))


def without_reuse(full: Estimate, chunks: int) -> ReuseEstimate:
    """A full estimate as a ReuseEstimate that reuses nothing (``use_cache=False``)."""
    fields = {f.name: getattr(full, f.name) for f in dataclasses.fields(full)}
    return ReuseEstimate(**fields, chunks=chunks, reused_chunks=0)


def job_quote(
    timeline: Timeline,
    store: JobStore,
    settings: Settings,
    *,
    slots: int,
    chunk_frames: int | None,
    storage_url: str | None,
    use_cache: bool,
) -> ReuseEstimate:
    """What a job of this timeline would take and cost on this cluster now: with `use_cache`
    (and storage to look in), only the chunks the segment cache does not hold are priced."""
    # Cut as plan_job cuts it (spot pools cap a chunk), so the chunks and keys are the job's.
    chunk_frames, most = job_chunking(store.redis, timeline, chunk_frames)
    full = quote(
        timeline,
        store.redis,
        slots=slots,
        chunk_frames=chunk_frames,
        hourly_rate=settings.hourly_rate,
        max_frames=most,
    )
    if not use_cache or storage_url is None:
        return without_reuse(full, len(plan_job_chunks(timeline, slots, chunk_frames, most)))
    from workers.fingerprint import render_fingerprint  # imports the codec stack: only here

    heartbeats = store.heartbeats()
    # The group plan_job keys the job with: a project exported with hardware acceleration goes
    # to the GPU group, whose fingerprint (and so keys) may differ from the CPU group's.
    gpu = timeline.export.hardware_acceleration
    fingerprint = job_fingerprint(heartbeats, render_fingerprint(), gpu)
    media = media_ids({}, timeline=timeline, client=store.redis)
    encoders = known_hardware_encoders(heartbeats, fingerprint)
    keyed = keyed_plan(timeline, slots, chunk_frames, media, fingerprint, encoders, most)
    render, reused = cached_chunks(keyed, open_cache(storage_url, store.redis, settings))
    return with_reuse(full, render, reused, slots=slots)
