"""Failover decisions, as pure functions (orchestrator.failover applies them each tick).

A running chunk whose node stopped heartbeating is requeued at once, without waiting for the
broker's visibility timeout; a chunk running much longer than its job's median gets a
speculative copy on an idle slot (the first copy to finish wins, the other stops).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from orchestrator.job_record import ChunkRecord, ChunkState, JobState

#: A chunk is a straggler after this many times its job's median chunk time.
STRAGGLER_FACTOR = 3.0
#: Finished chunks needed before the median means anything.
STRAGGLER_MIN_DONE = 3
#: Seconds after which an audio task that has not reported is sent again.
AUDIO_STALE = 30.0
#: Seconds after every part is done without the merge starting before it is sent again.
TASK_STALE = 10.0
#: Seconds without a heartbeat from a running merge before it is presumed lost and sent again
#: (the merge task renews its lease every workers.merge_task.MERGE_HEARTBEAT seconds).
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


#: Seconds a job may wait for its plan task before it is sent again (lost with an orchestrator
#: that died holding it: the broker would give it back only after its visibility timeout).
PLAN_STALE = 60.0
#: Seconds a job may stay in planning before its planning counts as abandoned (its orchestrator
#: died while planning it) and another copy takes over, for a planning that renews no lease (one
#: begun before the lease existed).
PLANNING_STALE = 300.0
#: Seconds between a planning's lease renewals (orchestrator.tasks.plan_job)...
PLAN_HEARTBEAT = 5.0
#: ... and seconds without one after which the planning counts as abandoned: an orchestrator
#: killed mid-plan left its job in "planning" for PLANNING_STALE (5 minutes), however short the
#: planning itself.
PLANNING_LEASE = 30.0


def lost_plan(
    state: JobState, sent: float, started: float, now: float, alive: float = 0.0
) -> str | None:
    """Whether a job's plan task is to be sent again: "again" (it never started), "takeover"
    (its planning was abandoned: no lease renewal, ``alive``, for PLANNING_LEASE; without any,
    PLANNING_STALE after its start) or None."""
    if state is JobState.QUEUED and sent and now - sent > PLAN_STALE:
        return "again"
    if state is JobState.PLANNING and started:
        if alive and now - max(started, alive) > PLANNING_LEASE:
            return "takeover"
        if not alive and now - started > PLANNING_STALE:
            return "takeover"
    return None


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
