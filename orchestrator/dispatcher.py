"""Hands chunks from the job store to the broker, a few per worker slot at a time.

Keeping the broker shallow is what makes priorities and fair share work: decisions are made
here, by `scheduling.choose_dispatch`, at the last moment, not when a job is submitted.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from typing import Any

from common.names import PRIORITIES, QUEUE_RENDER, TASK_RENDER_CHUNK
from orchestrator import keys
from orchestrator.job_record import ChunkRecord, ChunkState, JobNotFound, JobState
from orchestrator.job_store import JobStore
from orchestrator.node_signals import renders
from orchestrator.scheduling import Candidate, choose_dispatch, rank

#: Chunks allowed to wait in the broker per live worker slot.
DEPTH_PER_SLOT = 1
#: Seconds a dispatched chunk may wait in the broker, with slots idle, before it counts as lost.
STALE_QUEUED = 10.0
#: Milliseconds the dispatch lock is held at most (a crashed dispatcher cannot block others).
LOCK_MS = 5000


class Dispatcher:
    """Feeds the broker from the job store under a Redis lock."""

    def __init__(self, store: JobStore, app: Any) -> None:
        self.store = store
        self.redis = store.redis
        self.app = app

    def nodes(self) -> dict[str, dict[str, Any]]:
        """Live worker nodes by name, from their heartbeats."""
        return self.store.heartbeats()

    def live_nodes(self) -> list[str]:
        """Names of nodes that take render work (alive, render queue, not being pre-empted)."""
        return sorted(n for n, d in self.nodes().items() if _renders(d))

    def slots(self) -> int:
        """Render worker processes that take work now, from their heartbeats (at least 1)."""
        total = sum(int(d.get("concurrency", 1)) for d in self.nodes().values() if _renders(d))
        return max(1, total)

    def fill(self) -> int:
        """Dispatch as many chunks as the broker should hold now; return how many."""
        if self.redis.exists(keys.PAUSED):
            return 0  # paused: running chunks finish, nothing new starts
        with self.locked() as held:
            return self.fill_locked() if held else 0  # not held: another dispatcher is at it

    @contextlib.contextmanager
    def locked(self, wait: float = 0.0) -> Iterator[bool]:
        """Hold the dispatch lock (waiting up to `wait` seconds); yields whether it is held."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + wait
        held = bool(self.redis.set(keys.DISPATCH_LOCK, token, nx=True, px=LOCK_MS))
        while not held and time.monotonic() < deadline:
            time.sleep(0.05)
            held = bool(self.redis.set(keys.DISPATCH_LOCK, token, nx=True, px=LOCK_MS))
        try:
            yield held
        finally:
            if held and self.redis.get(keys.DISPATCH_LOCK) == token:
                self.redis.delete(keys.DISPATCH_LOCK)

    def reconcile(self, job_id: str, chunks: list[ChunkRecord], now: float, idle: int) -> int:
        """Put back chunks that fell through the cracks; call with the lock held.

        A chunk is lost if it is neither done, running, waiting in the job store nor queued
        (a crash between taking it off the pending list and queueing it), or if it sat in the
        broker longer than STALE_QUEUED seconds while slots were idle (a message lost when
        Redis or a worker died after receiving it).
        """
        pending = {int(i) for i in self.redis.lrange(keys.pending(job_id), 0, -1)}
        queued = {
            int(str(m).rsplit(":", 1)[1]): float(score)
            for m, score in self.redis.zrange(keys.QUEUED, 0, -1, withscores=True)
            if str(m).startswith(job_id + ":")
        }
        lost = []
        for chunk in chunks:
            if chunk.state not in (ChunkState.PENDING, ChunkState.RETRYING):
                if chunk.index in queued:
                    # A copy of a chunk that already ran (a redelivery or a resend): it must
                    # not hold a place in the broker's budget.
                    self.redis.zrem(keys.QUEUED, f"{job_id}:{chunk.index}")
                continue
            if chunk.index in pending:
                continue
            if chunk.index in queued and (idle <= 0 or now - queued[chunk.index] < STALE_QUEUED):
                continue
            lost.append(chunk.index)
            self.redis.zrem(keys.QUEUED, f"{job_id}:{chunk.index}")
        self.store.push_pending(job_id, lost)
        return len(lost)

    def fill_locked(self) -> int:
        """fill() for a caller that already holds the dispatch lock."""
        priorities: dict[str, str] = {}
        candidates = []
        last = self.redis.hgetall(keys.LAST_DISPATCH)
        for job_id in self.store.active():
            try:
                job = self.store.get_fields(job_id, "state", "effective_priority", "submitted_at")
            except JobNotFound:  # expired meanwhile
                continue
            priorities[job_id] = str(job["effective_priority"])
            if job["state"] != JobState.RENDERING:
                continue
            pending = self.store.pending_count(job_id)
            if pending:
                candidates.append(
                    Candidate(
                        job_id,
                        priorities[job_id],
                        pending,
                        float(last.get(job_id, 0.0)),
                        float(job["submitted_at"]),
                    )
                )
        queued = [0, 0, 0, 0]
        for member in self.redis.zrange(keys.QUEUED, 0, -1):
            job_id = str(member).rsplit(":", 1)[0]
            if job_id in priorities:
                queued[rank(priorities[job_id])] += 1
            else:
                self.redis.zrem(keys.QUEUED, member)  # its job ended
        sent = 0
        for job_id, level in choose_dispatch(candidates, queued, self.slots() * DEPTH_PER_SLOT):
            index = self.store.pop_pending(job_id)
            if index is None:
                continue
            self.send_chunk(job_id, index, level)
            sent += 1
        return sent

    def send_chunk(self, job_id: str, index: int, level: str) -> None:
        """Put one chunk task on the render queue at this priority."""
        task_id = f"{job_id}-c{index}-{uuid.uuid4().hex[:8]}"
        now = time.time()
        pipe = self.redis.pipeline()
        pipe.zadd(keys.QUEUED, {f"{job_id}:{index}": now})
        pipe.hset(keys.LAST_DISPATCH, job_id, now)
        pipe.execute()
        chunk = self.store.chunk(job_id, index)
        chunk.task_id = task_id
        self.store.save_chunk(job_id, chunk)
        self.app.send_task(
            TASK_RENDER_CHUNK,
            args=[job_id, index],
            task_id=task_id,
            queue=QUEUE_RENDER,
            priority=PRIORITIES[level],
        )

    def forget(self, job_id: str) -> None:
        """Drop a finished job's dispatch bookkeeping."""
        pipe = self.redis.pipeline()
        pipe.hdel(keys.LAST_DISPATCH, job_id)
        for member in self.redis.zrange(keys.QUEUED, 0, -1):
            if str(member).startswith(job_id + ":"):
                pipe.zrem(keys.QUEUED, member)
        pipe.execute()


def _renders(heartbeat: dict[str, Any]) -> bool:
    """Whether a node takes render chunks: a render node that is not draining."""
    return not heartbeat.get("draining") and renders(heartbeat)
