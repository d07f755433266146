"""Orchestrator tasks: plan a submitted job, and the periodic tick (beat).

They run on the "orchestrator" queue: `cloudrender orchestrator` (beat + that queue), or the
embedded cluster's workers, which consume every queue.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from typing import Any

import redis
from celery import Task, shared_task

from chunking.content_audio_key import audio_key
from chunking.plan import Chunk
from chunking.timeline.model import Timeline
from common.errors import RenderError
from common.names import TASK_AUTOSCALE, TASK_PLAN_JOB, TASK_SWEEP, TASK_TICK
from common.settings import Settings
from orchestrator import keys, render_counters
from orchestrator.autoscaler.lease import lease
from orchestrator.celery_app import worker_hooks
from orchestrator.failover import check_jobs
from orchestrator.health import PLAN_HEARTBEAT
from orchestrator.job_record import (
    ChunkRecord,
    ChunkState,
    InvalidTransition,
    JobNotFound,
    JobRecord,
    JobState,
)
from orchestrator.job_store import JobStore
from orchestrator.planning import (
    job_fingerprint,
    keyed_plan,
    known_hardware_encoders,
    media_ids,
    plan_job_chunks,
)
from orchestrator.render_counters import CLUSTER, Counts
from orchestrator.scheduling import DueJob, edf_levels, effective_priority
from orchestrator.spot_chunks import cut_note, job_chunking
from orchestrator.spot_chunks import spot_chunk_cap as spot_chunk_cap
from orchestrator.storage_sweep import SweepWatch, claim_prefix, cluster_id, sweep
from orchestrator.worker_hooks import WorkerHooks
from providers.storage import open_storage
from providers.storage.base import StorageError
from workers.audio import audio_encoder_for
from workers.fingerprint import render_fingerprint
from workers.job_spec import JobSpec
from workers.render import has_audio
from workers.task_support import renewing
from workers.zygote_warmup import plan_rendered_nothing

log = logging.getLogger(__name__)

#: Seconds the tick lock lives: one tick at a time even with two orchestrators.
TICK_LOCK_SECONDS = 10
#: Seconds the autoscaler's lock lives without renewal (orchestrator.autoscaler.lease renews it
#: while a round runs; a dead holder's lapses after this).
AUTOSCALE_LOCK_SECONDS = 300


@shared_task(bind=True, name=TASK_PLAN_JOB)
def plan_job(self: Task, job_id: str, takeover: bool = False) -> int:
    """Split a submitted job into chunks, take what the segment cache holds, then start its
    audio (unless cached too) and dispatch the chunks left to render. A copy sent again after
    a lost one does nothing once another copy planned the job; ``takeover``: the tick found
    the planning of this job abandoned (its orchestrator died in it) and this copy redoes it."""
    service = worker_hooks()
    store = service.store
    try:
        now = store.now()
        try:
            started = store.transition(
                job_id, JobState.PLANNING, plan_started_at=now, plan_alive_at=now
            )
        except InvalidTransition:
            return 0  # planned already, by another copy of this task
        if not started:
            if not takeover or store.state(job_id) is not JobState.PLANNING:
                return 0  # cancelled before planning, or another copy is planning it
            store.update(job_id, plan_started_at=now, plan_alive_at=now)
        # The lease the tick reads (health.lost_plan): one that stops being renewed (its
        # orchestrator died mid-plan) is taken over PLANNING_LEASE later, not 5 minutes.
        with renewing(functools.partial(_plan_alive, store, job_id), PLAN_HEARTBEAT):
            spec = JobSpec.from_dict(service.job_spec(job_id))
            # Unsealed: the marker holds no secret, and the sweep reads it without a key.
            raw = functools.partial(open_storage, spec.storage_url)
            claim_prefix(store.redis, raw, job_id, Settings.from_env().cluster_id)
            timeline = spec.timeline()
            plan = _plan(service, spec, timeline)
    except JobNotFound:
        return 0
    except RenderError as exc:
        service.job_failed(job_id, RenderError(f"planning: {exc}"))
        return 0
    now = store.now()
    records = []
    for chunk, key in plan.chunks:
        record = ChunkRecord(chunk.index, chunk.start, chunk.end, key=key or None)
        if key and key in plan.hits:
            record.state, record.reused, record.frames_done = ChunkState.DONE, True, chunk.frames
            record.finished_at, record.seconds = now, 0.0
            record.renderer = plan.fingerprint  # what its cached segment was keyed under
        records.append(record)
    spec = dataclasses.replace(
        spec,
        chunks=[(c.start, c.end) for c, _ in plan.chunks],
        fingerprint=plan.fingerprint,
        chunk_keys=[key for _, key in plan.chunks],
        audio_cache_key=plan.audio_key,
    )
    if not store.set_chunks(job_id, records, spec.to_dict(), planning=True):
        # Cancelled (or failed) while it was planned, or planned by another copy meanwhile
        # (this one stalled past the planning's lease and the tick sent a takeover).
        return 0
    if not store.transition(job_id, JobState.RENDERING):
        return 0
    reused = [r for r in records if r.reused]
    if len(reused) == len(records):
        plan_rendered_nothing(job_id)  # a warm render process launched for it has nothing to do
    service.publish(job_id, "planned", chunks=len(records), reused=len(reused))
    if reused:
        service.chunks_reused(job_id, [r.index for r in reused], sum(r.frames for r in reused))
    if plan.audio_key is not None and plan.audio_key in plan.hits:
        codec = audio_encoder_for(timeline.export)
        service.audio_finished(
            job_id, {"key": spec.audio_key, "codec": codec, "seconds": 0.0, "reused": True}
        )
    else:
        service.send_audio(job_id)
    service.dispatcher.fill()
    return len(records)


def _plan_alive(store: JobStore, job_id: str) -> None:
    """Renew a planning's lease, while the job is still planning (no remnant record made)."""
    if store.state(job_id) is JobState.PLANNING:
        store.update(job_id, plan_alive_at=store.now())


@dataclasses.dataclass(frozen=True)
class _Plan:
    """A job's chunks with their content keys, and what the segment cache holds of them."""

    chunks: list[tuple[Chunk, str]]
    fingerprint: str = ""
    audio_key: str | None = None
    hits: frozenset[str] = frozenset()


def _plan(service: WorkerHooks, spec: JobSpec, timeline: Timeline) -> _Plan:
    """The job's chunks, keyed and looked up in the segment cache when the job uses it."""
    slots = service.dispatcher.slots()
    chunk_frames, most = job_chunking(service.store.redis, timeline, spec.chunk_frames)
    note = cut_note(spec.chunk_frames, chunk_frames)
    if note is not None:
        # Told where the render's other notes are: `render`, `status` and the HTTP API show it.
        service.store.redis.sadd(keys.notes(spec.id), note)
    if not spec.use_cache:
        return _Plan([(c, "") for c in plan_job_chunks(timeline, slots, chunk_frames, most)])
    store = service.store
    gpu = timeline.export.hardware_acceleration
    heartbeats = store.heartbeats()
    fingerprint = job_fingerprint(heartbeats, render_fingerprint(), gpu)
    media = media_ids(spec, timeline=timeline, client=store.redis)
    encoders = known_hardware_encoders(heartbeats, fingerprint)
    chunks = keyed_plan(timeline, slots, chunk_frames, media, fingerprint, encoders, most)
    sound: str | None = None
    if has_audio(timeline):
        try:
            sound = audio_key(timeline, media, fingerprint)
        except KeyError:
            sound = None  # a sound file without a content id: mixed afresh, never cached
    wanted = [k for _, k in chunks if k] + ([sound] if sound else [])
    try:
        cache = service.segment_cache(spec.storage())
        hits = cache.present(wanted, count=True)
        cache.touch(hits)  # the newest uses: this job's merge needs them
        cache.pin(hits)  # and its own new segments must not evict them before it reads them
    except (StorageError, redis.RedisError) as exc:
        # The cache is an optimisation: unreachable, the job renders everything.
        log.warning("job %s: segment cache lookup failed, rendering every chunk: %s", spec.id, exc)
        hits = set()
    return _Plan(chunks, fingerprint, sound, frozenset(hits))


@shared_task(name=TASK_TICK)
def tick() -> dict[str, int]:
    """Escalate near deadlines, refresh ETAs, requeue lost chunks, copy stragglers, dispatch."""
    service = worker_hooks()
    store = service.store
    # A lease, renewed while the tick runs and released only while still its own: a tick
    # slowed past a fixed TTL lost its lock to another orchestrator's, then deleted that one's
    # as it ended, and ticks ran side by side, failing over the same chunks.
    with lease(store.redis, keys.TICK_LOCK, TICK_LOCK_SECONDS) as held:
        if not held:
            return {"skipped": 1}
        store.redis.incr(keys.TICKS)  # observable: how often the beat really fires
        escalated = refresh_jobs(store, store.now())
        health = check_jobs(service, store.now())
        forgotten = store.cleanup()
        sent = service.dispatcher.fill()
    return {"escalated": escalated, "forgotten": forgotten, "dispatched": sent, **health}


def refresh_jobs(store: JobStore, now: float) -> int:
    """Update each active job's ETA and effective priority; return how many were escalated."""
    escalated = 0
    seen: list[tuple[JobRecord, float | None, str]] = []
    for job_id in store.active():
        try:
            job = store.get(job_id)
        except JobNotFound:
            continue
        left = job.frames - job.frames_done
        eta = job.estimated_seconds
        rendered = job.rendered_frames
        if job.started_at and rendered > 0:
            fps = rendered / max(now - job.started_at, 1e-3)
            eta = left / fps if fps > 0 else eta
        seen.append((job, eta, effective_priority(job.priority, job.deadline, now, eta)))
    # A job escalated lifts those due sooner (scheduling.edf_levels).
    lifted = edf_levels(
        [
            DueJob(j.id, j.priority, level, j.deadline)
            for j, _, level in seen
            if j.deadline is not None
        ]
    )
    for job, eta, level in seen:
        level = lifted.get(job.id, level)
        fields: dict[str, Any] = {"eta_seconds": round(eta, 1) if eta is not None else None}
        if level != job.effective_priority:
            fields["effective_priority"] = level
            escalated += 1
        store.update(job.id, **fields)
    return escalated


#: This process's view of prefixes without a record (orchestrator.storage_sweep): lost on a
#: restart, which only delays a removal.
_SWEEP_WATCH = SweepWatch()


@shared_task(name=TASK_SWEEP)
def sweep_storage() -> dict[str, int]:
    """Remove the objects in the cluster's storage of jobs Redis has no record of (lost)."""
    settings = Settings.from_env()
    if not settings.storage_url or not settings.sweep:
        return {"swept": 0}
    store = worker_hooks().store
    try:
        storage = open_storage(settings.storage_url)
    except RenderError as exc:
        log.warning("storage sweep: %s", exc)
        return {"swept": 0}

    try:
        cluster = cluster_id(store.redis, settings.cluster_id)
    except (RenderError, redis.RedisError) as exc:
        log.warning("storage sweep: no cluster id: %s", exc)
        return {"swept": 0}
    now, grace = store.now(), settings.sweep_grace
    swept = sweep(storage, keeps(store), _SWEEP_WATCH, now, grace, cluster, ended(store))
    if swept:
        render_counters.record(store.redis, CLUSTER, Counts(swept_objects=swept))
    return {"swept": swept}


def keeps(store: JobStore) -> Callable[[str], bool]:
    """Whether the sweep must keep a prefix: its job has a record and did not end cancelled or
    failed (ended(): its objects were removed then), or its name is no job id (not ours)."""
    gone = ended(store)

    def keep(job_id: str) -> bool:
        try:
            return store.has_record(job_id) and not gone(job_id)
        except JobNotFound:
            return True

    return keep


def ended(store: JobStore) -> Callable[[str], bool]:
    """Whether a job's record says it was cancelled or failed. Its objects were removed as it
    ended, so what its prefix holds now was stored after (a chunk uploading as its job was
    cancelled, a stalled worker resumed) and is this cluster's to sweep: kept while the record
    lasted (a week), then a day more for want of the marker the cancel removed too."""

    def over(job_id: str) -> bool:
        try:
            return store.state(job_id) in (JobState.CANCELLED, JobState.FAILED)
        except JobNotFound:
            return False

    return over


@shared_task(name=TASK_AUTOSCALE)
def autoscale() -> dict[str, Any]:
    """One autoscaler round when a pools file is configured (CLOUDRENDER_POOLS_FILE)."""
    from orchestrator.autoscaler.loop import Autoscaler

    settings = Settings.from_env()
    if not settings.pools_file:
        return {"pools": 0}
    store = worker_hooks().store
    # Renewed while the round runs: a fixed TTL let a round slowed by a hung engine API outlive
    # its lock, and a second round run beside it.
    with lease(store.redis, keys.AUTOSCALE_LOCK, AUTOSCALE_LOCK_SECONDS) as held:
        if not held:
            return {"skipped": 1}
        try:
            scaler = Autoscaler.from_settings(store, settings, dry_run=settings.autoscale_dry_run)
            if scaler is None:
                return {"pools": 0}
            result = scaler.run()
            for call in result.calls if settings.autoscale_dry_run else ():
                log.info("autoscaler (dry run) would: %s", call)
            return {"desired": dict(result.decision.desired), "calls": len(result.calls)}
        except RenderError as exc:
            log.warning("autoscaler: %s", exc)
            return {"error": str(exc)}
