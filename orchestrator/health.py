"""Failover decisions (pure) and the tick step that applies them.

A running chunk whose node stopped heartbeating is requeued at once, without waiting for the
broker's visibility timeout; a chunk running much longer than its job's median gets a
speculative copy on an idle slot (the first copy to finish wins, the other stops).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

from orchestrator import keys
from orchestrator.job_record import ChunkRecord, ChunkState, JobNotFound, JobState

#: A chunk is a straggler after this many times its job's median chunk time.
STRAGGLER_FACTOR = 3.0
#: Finished chunks needed before the median means anything.
STRAGGLER_MIN_DONE = 3
#: Seconds after which an audio task that has not reported is sent again.
AUDIO_STALE = 30.0
#: Seconds after every part is done without the merge starting before it is sent again.
TASK_STALE = 10.0
#: Seconds without a heartbeat from a running merge before it is presumed lost and sent again
#: (the merge task renews its lease every workers.tasks.MERGE_HEARTBEAT seconds).
MERGE_LEASE = 30.0
#: Seconds without progress after which a running chunk on a live node counts as lost.
STALLED_SECONDS = 60.0
#: Seconds a running chunk is given before its node's missing heartbeat counts as lost.
LOST_GRACE = 2.0


def lost_chunks(chunks: Sequence[ChunkRecord], live: set[str], now: float) -> list[int]:
    """Running chunks whose node no longer heartbeats, or that stopped reporting progress
    (the task died without telling, e.g. while Redis was away)."""
    lost = []
    for c in chunks:
        if c.state is not ChunkState.RUNNING or c.node is None:
            continue
        seen = c.updated_at or c.started_at
        if seen is not None and now - seen <= LOST_GRACE:
            continue
        if c.node not in live or (seen is not None and now - seen > STALLED_SECONDS):
            lost.append(c.index)
    return lost


def stragglers(
    chunks: Sequence[ChunkRecord], now: float, factor: float = STRAGGLER_FACTOR
) -> list[int]:
    """Running chunks (not yet copied) slower than `factor` times the median finished chunk."""
    done = [c.seconds for c in chunks if c.state is ChunkState.DONE and c.seconds]
    if len(done) < STRAGGLER_MIN_DONE:
        return []
    limit = factor * statistics.median(done)
    return [
        c.index
        for c in chunks
        if c.state is ChunkState.RUNNING
        and not c.speculative
        and c.started_at is not None
        and now - c.started_at > limit
    ]


def check_jobs(service: Any, now: float | None = None) -> dict[str, int]:
    """Requeue chunks of lost nodes and copy stragglers onto idle slots; return counts."""
    now = time.time() if now is None else now
    store, dispatcher = service.store, service.dispatcher
    live = set(dispatcher.nodes())
    requeued = copied = 0
    # Slots with nothing running: a chunk queued for long while slots sit idle was lost.
    idle = dispatcher.slots() - _running(store)
    for job_id in store.active():
        try:
            state = store.state(job_id)
            if state not in (JobState.RENDERING, JobState.MERGING):
                continue
            chunks = store.chunks(job_id)
            resend_lost_tasks(service, job_id, state, len(chunks), now)
        except JobNotFound:
            continue
        if state is not JobState.RENDERING:
            continue
        with dispatcher.locked(wait=2.0) as held:
            if held:
                requeued += dispatcher.reconcile(job_id, chunks, now, idle)
        for index in lost_chunks(chunks, live, now):
            chunk = store.chunk(job_id, index)
            if chunk.state is not ChunkState.RUNNING:
                continue  # it finished (or moved on) since the snapshot
            chunk.state, chunk.frames_done = ChunkState.RETRYING, 0
            chunk.error = f"chunk stopped reporting on {chunk.node}"
            if not store.save_chunk(job_id, chunk):
                continue  # finished in the meantime: nothing to requeue
            store.push_pending(job_id, [index])
            service.publish(job_id, "chunk_requeued", chunk=index, reason="lost", node=chunk.node)
            requeued += 1
        for index in stragglers(chunks, now):
            if idle <= 0 or store.redis.zcard(keys.QUEUED) > 0:
                break
            chunk = store.chunk(job_id, index)
            chunk.speculative = True
            if chunk.state is not ChunkState.RUNNING or not store.save_chunk(job_id, chunk):
                continue  # it finished since the snapshot
            level = store.get_fields(job_id, "effective_priority")["effective_priority"]
            dispatcher.send_chunk(job_id, index, level)
            service.publish(job_id, "chunk_speculative", chunk=index, node=chunk.node)
            idle -= 1
            copied += 1
    return {"requeued": requeued, "speculative": copied}


def lost_tasks(
    state: JobState,
    done: set[str],
    chunk_count: int,
    sent: dict[str, float],
    merge_alive: float,
    now: float,
) -> list[str]:
    """Which of the job's audio and merge tasks to send again: "audio", "merge" or both.

    ``done`` holds the finished parts (chunk indexes and "audio"), ``sent`` when each task was
    last sent. A merge that started renews a lease (``merge_alive``); one that died with its
    worker, or with Redis mid-merge, stops renewing it.
    """
    lost = []
    if state is JobState.RENDERING and "audio" not in done and now - sent["audio"] > AUDIO_STALE:
        lost.append("audio")
    if len(done) == chunk_count + 1:
        if state is JobState.MERGING:
            stale = now - max(sent["merge"], merge_alive) > MERGE_LEASE
        else:
            stale = now - sent["merge"] > TASK_STALE
        if stale:
            lost.append("merge")
    return lost


def resend_lost_tasks(
    service: Any, job_id: str, state: JobState, chunk_count: int, now: float
) -> None:
    """Send the audio or merge task again when one was lost (a crash of Redis or a worker)."""
    store = service.store
    done = {str(p) for p in store.redis.smembers(keys.done(job_id))}
    fields = store.get_fields(job_id, "audio_sent_at", "merge_sent_at", "merge_alive_at")
    sent = {"audio": fields["audio_sent_at"] or 0.0, "merge": fields["merge_sent_at"] or 0.0}
    for task in lost_tasks(state, done, chunk_count, sent, fields["merge_alive_at"] or 0.0, now):
        if task == "audio":
            service.send_audio(job_id)
        else:
            service.start_merge(job_id)
        service.publish(job_id, "task_resent", task=task)


def _running(store: Any) -> int:
    """Chunks running now, over all active jobs."""
    running = 0
    for job_id in store.active():
        try:
            running += sum(1 for c in store.chunks(job_id) if c.state is ChunkState.RUNNING)
        except JobNotFound:
            continue
    return running
