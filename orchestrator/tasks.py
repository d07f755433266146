"""Orchestrator tasks: plan a submitted job, and the periodic tick (beat).

They run on the "orchestrator" queue: `cloudrender orchestrator` (beat + that queue), or the
embedded cluster's workers, which consume every queue.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from celery import Task, shared_task

from common.errors import RenderError
from common.names import TASK_PLAN_JOB, TASK_TICK
from orchestrator import keys
from orchestrator.celery_app import worker_hooks
from orchestrator.failover import check_jobs
from orchestrator.job_record import ChunkRecord, JobNotFound, JobState
from orchestrator.job_store import JobStore
from orchestrator.planning import plan_job_chunks
from orchestrator.scheduling import effective_priority
from workers.job_spec import JobSpec

#: Seconds the tick lock lives: one tick at a time even with two orchestrators.
TICK_LOCK_SECONDS = 10


@shared_task(bind=True, name=TASK_PLAN_JOB)
def plan_job(self: Task, job_id: str) -> int:
    """Split a submitted job into chunks, then start its audio and dispatch chunks."""
    service = worker_hooks()
    store = service.store
    try:
        if not store.transition(job_id, JobState.PLANNING):
            return 0  # cancelled before planning
        spec = JobSpec.from_dict(service.job_spec(job_id))
        timeline = spec.timeline()
        chunks = plan_job_chunks(timeline, service.dispatcher.slots(), spec.chunk_frames)
    except JobNotFound:
        return 0
    except RenderError as exc:
        service.job_failed(job_id, RenderError(f"planning: {exc}"))
        return 0
    spec = dataclasses.replace(spec, chunks=[(c.start, c.end) for c in chunks])
    store.set_chunks(job_id, [ChunkRecord(c.index, c.start, c.end) for c in chunks], spec.to_dict())
    if not store.transition(job_id, JobState.RENDERING):
        return 0
    service.send_audio(job_id)
    service.publish(job_id, "planned", chunks=len(chunks))
    service.dispatcher.fill()
    return len(chunks)


@shared_task(name=TASK_TICK)
def tick() -> dict[str, int]:
    """Escalate near deadlines, refresh ETAs, requeue lost chunks, copy stragglers, dispatch."""
    service = worker_hooks()
    store = service.store
    if not store.redis.set(keys.TICK_LOCK, "1", nx=True, ex=TICK_LOCK_SECONDS):
        return {"skipped": 1}
    store.redis.incr(keys.TICKS)  # observable: how often the beat really fires
    try:
        escalated = refresh_jobs(store, time.time())
        health = check_jobs(service)
        forgotten = store.cleanup()
        sent = service.dispatcher.fill()
    finally:
        store.redis.delete(keys.TICK_LOCK)
    return {"escalated": escalated, "forgotten": forgotten, "dispatched": sent, **health}


def refresh_jobs(store: JobStore, now: float) -> int:
    """Update each active job's ETA and effective priority; return how many were escalated."""
    escalated = 0
    for job_id in store.active():
        try:
            job = store.get(job_id)
        except JobNotFound:
            continue
        left = job.frames - job.frames_done
        eta = job.estimated_seconds
        if job.started_at and job.frames_done:
            fps = job.frames_done / max(now - job.started_at, 1e-3)
            eta = left / fps if fps > 0 else eta
        level = effective_priority(job.priority, job.deadline, now, eta)
        fields: dict[str, Any] = {"eta_seconds": round(eta, 1) if eta is not None else None}
        if level != job.effective_priority:
            fields["effective_priority"] = level
            escalated += 1
        store.update(job_id, **fields)
    return escalated
