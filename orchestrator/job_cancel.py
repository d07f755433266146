"""Ending a job by cancelling it: what ``cancel`` and a budget's hard stop both do.

A cancelled job takes no more work (its queued chunks are revoked, its running ones stop between
frames, and every chunk not done is recorded ``failed``, error "cancelled"), keeps what it ran
until then as its cost (billing counted it), and leaves nothing in storage (its segments, audio
and partial output are deleted): whoever cancels it, only the reason differs.
"""

from __future__ import annotations

import logging
from typing import Any

from kombu.exceptions import OperationalError

from common.errors import RenderError
from orchestrator import keys
from orchestrator.dispatcher import Dispatcher
from orchestrator.job_events import publish_event
from orchestrator.job_record import CHUNK_CANCELLED, ChunkState, JobNotFound, JobState
from orchestrator.job_store import JobStore
from orchestrator.render_counters import job_ended
from providers.storage import open_storage
from workers.job_spec import job_prefix

log = logging.getLogger(__name__)

#: Job states the hard stop cancels; a merging job's frames are paid for, its merge finishes.
STOPPABLE = (JobState.QUEUED, JobState.PLANNING, JobState.RENDERING)


def cost_so_far(client: Any, job_id: str) -> float:
    """A job's cost from the node time charged to it so far: chunks on pool nodes at their
    price (pool_cost), the rest of its node seconds at its flat hourly rate."""
    fields = ("node_seconds", "pool_seconds", "pool_cost", "hourly_rate")
    seconds, pool_seconds, pool_cost, rate = (
        float(v or 0.0) for v in client.hmget(keys.job(job_id), fields)
    )
    return pool_cost + max(seconds - pool_seconds, 0.0) / 3600 * rate


def cancel(
    store: JobStore,
    job_id: str,
    reason: str,
    *,
    app: Any | None,
    storage_url: str | None = None,
    **event: Any,
) -> bool:
    """Cancel a job with `reason` as its error; False when it ended meanwhile (then it is left
    as it ended). `app` revokes its queued chunk tasks (None: they find the job cancelled when
    they start); `storage_url` is where its objects are when its spec does not say; `event`
    adds fields to the ``cancelled`` event."""
    store.request_cancel(job_id)
    if not store.transition(job_id, JobState.CANCELLED, error=reason):
        return False
    job_ended(store.redis, job_id, "cancelled")
    # What it ran until now is spent (billing counts it): the record says so too.
    store.update(job_id, actual_cost=cost_so_far(store.redis, job_id))
    if app is not None:
        try:
            for chunk in store.chunks(job_id):
                if chunk.task_id and chunk.state.value == "pending":
                    app.control.revoke(chunk.task_id)
        except (OperationalError, OSError) as exc:
            # The broker away: the job is cancelled all the same (a chunk task finds it so when
            # it starts), and its chunks, objects and event must not wait for the broker.
            log.warning("job %s: its queued chunks were not revoked: %s", job_id, exc)
    # After the revoke, which picks the pending chunks: none of them will run or end otherwise.
    end_chunks(store, job_id, CHUNK_CANCELLED)
    Dispatcher(store, app).forget(job_id)
    _remove_objects(store, job_id, storage_url)
    publish_event(store.redis, job_id, "cancelled", reason=reason, **event)
    return True


def stop_jobs(
    client: Any, scope: str, name: str, reason: str, now: float, app: Any | None = None
) -> list[str]:
    """Cancel the scope's jobs that have not reached their merge, with `reason` as their error
    (running chunks stop between frames; `app`, when given, revokes their queued chunk tasks);
    return their ids."""
    store = JobStore(client)
    stopped = []
    for job_id in store.active():
        try:
            fields = store.get_fields(job_id, "state", "project", "user")
        except JobNotFound:
            continue  # finished and expired meanwhile
        if (fields.get(str(scope)) or "") != name or fields["state"] not in STOPPABLE:
            continue
        # Ended exactly as a cancel ends it (its objects deleted, its cost kept), but the reason.
        if cancel(store, job_id, reason, app=app, time=now):
            stopped.append(job_id)
    return stopped


def end_chunks(store: JobStore, job_id: str, error: str, *, keep_errors: bool = False) -> None:
    """Record the chunks of an ended job that are not done failed with ``error``: none of them
    runs any more, and from now on no worker's late write (a progress report, a start) changes
    them. With ``keep_errors`` a chunk that failed (or was retrying) keeps its own error: the
    one that failed the job says why."""
    now = store.now()
    for chunk in store.chunks(job_id):
        if chunk.state is ChunkState.DONE:
            continue
        failing = chunk.state in (ChunkState.FAILED, ChunkState.RETRYING) and chunk.error
        if not (keep_errors and failing):
            chunk.error = error
        chunk.state, chunk.finished_at = ChunkState.FAILED, now
        store.save_chunk(job_id, chunk, cancelling=True)


def _remove_objects(store: JobStore, job_id: str, fallback: str | None) -> None:
    """Delete everything the job wrote to its storage (the one its spec names)."""
    try:
        url = store.spec(job_id).get("storage_url") or fallback
        if url:
            open_storage(str(url)).delete_prefix(job_prefix(job_id))
    except (RenderError, JobNotFound, OSError) as exc:
        log.warning("job %s was cancelled; its objects were not removed: %s", job_id, exc)
