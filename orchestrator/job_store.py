"""The job store: job and chunk records in Redis, shared by clients, workers and the orchestrator.

Records survive orchestrator and worker restarts (they live in Redis, not in any process);
finished jobs expire after a configurable time. Chunk completion is counted in a set, so a chunk
that finishes twice (a retry, a speculative copy) is counted once. The chunks' side (records,
parts, the pending list, the cancel flag) is `orchestrator.chunk_store.ChunkStore`, which
`JobStore` extends.
"""

from __future__ import annotations

import json
import re
from typing import Any

import redis

from common.settings import DEFAULT_REDIS_PATIENCE, DEFAULT_REDIS_TIMEOUT
from common.urls import check_redis_url
from orchestrator import keys
from orchestrator.chunk_store import FINISHED_TTL, ChunkStore
from orchestrator.job_events import publish_event
from orchestrator.job_record import (
    ChunkRecord,
    ChunkState,
    JobNotFound,
    JobRecord,
    JobState,
    check_transition,
    settled_eta,
)
from orchestrator.store_retry import PatientRetry

#: What a job id may be: ours are 16 hex digits. Anything with a ':' would name another of the
#: job's keys (``<id>:events`` is its stream), so Redis answered WRONGTYPE for a typo.
_JOB_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def check_job_id(job_id: str) -> str:
    """`job_id` if it can be a job's id; JobNotFound (as for an unknown job) if not."""
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise JobNotFound(f"no job {job_id!r}: not a job id")
    return job_id


class JobStore(ChunkStore):
    """Reads and writes job records in Redis (their chunks' through ChunkStore)."""

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        finished_ttl: int = FINISHED_TTL,
        timeout: float = DEFAULT_REDIS_TIMEOUT,
        patience: float = DEFAULT_REDIS_PATIENCE,
    ) -> JobStore:
        """A store on the Redis at this URL whose commands wait `timeout` s for an answer and
        whose calls retry for `patience` s in all."""
        check_redis_url(url)  # one line naming what is wrong, not redis-py's traceback
        # Ride out a Redis restart (a few seconds) instead of failing the task that was
        # reporting a finished chunk: retries with backoff on connection errors. The socket
        # timeouts bound each attempt, the patience all of them: a frozen Redis held a call
        # 77 s (twelve attempts of a 5 s timeout) and the CLI's 60 s wait four times as long.
        client = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=PatientRetry(patience),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        )
        return cls(client, finished_ttl=finished_ttl)

    # -- jobs ---------------------------------------------------------------------------------

    def create(self, record: JobRecord, spec: dict[str, Any]) -> None:
        """Store a new job (its chunks come later, from set_chunks)."""
        fields = _encode({k: v for k, v in record.to_json().items() if k != "chunks"})
        fields["spec"] = json.dumps(spec)
        pipe = self.redis.pipeline()
        pipe.hset(keys.job(record.id), mapping=fields)
        pipe.zadd(keys.ACTIVE, {record.id: record.submitted_at})
        pipe.zadd(keys.ALL, {record.id: record.submitted_at})
        if record.user:
            pipe.zadd(keys.user_jobs(record.user), {record.id: record.submitted_at})
        pipe.execute()

    def set_chunks(
        self,
        job_id: str,
        chunks: list[ChunkRecord],
        spec: dict[str, Any],
        *,
        planning: bool = False,
    ) -> bool:
        """Store a job's planned chunks and its updated document: chunks already done (reused
        from the segment cache) count as done parts, the others wait to be dispatched. False
        (nothing stored) when the job ended meanwhile: a job cancelled while it was planned got
        chunk records and a pending list that never expired. ``planning``: only while the job
        is still planning (a plan copy resuming after another copy planned it must not reset
        its chunks: done ones went back to pending, and a merging job merged pending ones)."""
        key = keys.job(job_id)
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    state = pipe.hget(key, "state")
                    current = None if state is None else JobState(json.loads(state))
                    if current is None or current.finished:
                        pipe.unwatch()
                        return False
                    if planning and current is not JobState.PLANNING:
                        pipe.unwatch()
                        return False
                    pipe.multi()
                    self._queue_chunks(pipe, job_id, chunks, spec)
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue  # its record changed (a cancel): look again

    def _queue_chunks(
        self, pipe: Any, job_id: str, chunks: list[ChunkRecord], spec: dict[str, Any]
    ) -> None:
        pipe.delete(keys.chunks(job_id), keys.pending(job_id), keys.done(job_id))
        if chunks:  # an audio-only job has none (HSET with nothing to set is an error)
            records = {str(c.index): json.dumps(c.to_json()) for c in chunks}
            pipe.hset(keys.chunks(job_id), mapping=records)
        pending = [c.index for c in chunks if c.state is not ChunkState.DONE]
        done = [str(c.index) for c in chunks if c.state is ChunkState.DONE]
        if pending:
            pipe.rpush(keys.pending(job_id), *pending)
        if done:
            pipe.sadd(keys.done(job_id), *done)
        pipe.hset(
            keys.job(job_id),
            mapping={"chunk_count": json.dumps(len(chunks)), "spec": json.dumps(spec)},
        )

    def get(self, job_id: str) -> JobRecord:
        """The job with its chunks; JobNotFound if it does not exist (or expired)."""
        raw = self.redis.hgetall(keys.job(check_job_id(job_id)))
        if not raw or "id" not in raw:
            # Without "id" the hash is a remnant: a late field update (a progress report, the
            # cost counter) recreated it after Redis lost the record itself.
            raise JobNotFound(f"no job {job_id!r} (unknown, or finished and expired)")
        data = {k: json.loads(v) for k, v in raw.items() if k != "spec"}
        record = JobRecord(**{k: v for k, v in data.items() if k in _JOB_FIELDS})
        record.state = JobState(record.state)
        # A tick that read the job just before it ended may write its ETA just after.
        record.eta_seconds = settled_eta(record.state, record.eta_seconds)
        if not record.state.finished:
            # The merge records the actual cost; until then `status --json`, the HTTP API and
            # the Python API showed $0 for a job that had been spending for an hour.
            record.actual_cost = record.cost_so_far
        record.chunks = self.chunks(job_id)
        record.frames_done = sum(c.frames_done for c in record.chunks)
        failures = self.redis.hgetall(keys.failures(job_id))
        record.node_failures = {str(node): int(count) for node, count in failures.items()}
        # The submit's notes are in the record; those of the render come as it runs (a set).
        told = self.redis.smembers(keys.notes(job_id))
        record.notes = [*record.notes, *sorted(set(told) - set(record.notes))]
        return record

    def spec(self, job_id: str) -> dict[str, Any]:
        """The job document the workers render from."""
        raw = self.redis.hget(keys.job(check_job_id(job_id)), "spec")
        if raw is None:
            raise JobNotFound(f"no job {job_id!r}")
        value: dict[str, Any] = json.loads(raw)
        return value

    def get_fields(self, job_id: str, *names: str) -> dict[str, Any]:
        """Some fields of a job's record, decoded; JobNotFound if the job does not exist."""
        # Every stored job has a state: a field that was never set is None, not a lost job.
        *values, state = self.redis.hmget(keys.job(check_job_id(job_id)), [*names, "state"])
        if state is None:
            raise JobNotFound(f"no job {job_id!r} (unknown, or finished and expired)")
        return {
            n: json.loads(v) if v is not None else None for n, v in zip(names, values, strict=True)
        }

    def state(self, job_id: str) -> JobState:
        """The job's current state."""
        raw = self.redis.hget(keys.job(check_job_id(job_id)), "state")
        if raw is None:
            raise JobNotFound(f"no job {job_id!r} (unknown, or finished and expired)")
        return JobState(json.loads(raw))

    def update(self, job_id: str, **fields: Any) -> None:
        """Set fields of a job's record (not its state: use transition)."""
        if "state" in fields:
            raise ValueError("use transition() to change a job's state")
        self.redis.hset(keys.job(job_id), mapping=_encode(fields))

    def transition(self, job_id: str, target: JobState, **fields: Any) -> bool:
        """Move the job to `target` if allowed; False if it is already finished."""
        key = keys.job(check_job_id(job_id))
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)
                    raw = pipe.hget(key, "state")
                    if raw is None:
                        raise JobNotFound(f"no job {job_id!r}")
                    current = JobState(json.loads(raw))
                    if current == target:
                        pipe.unwatch()
                        return False
                    if current.finished:
                        pipe.unwatch()
                        return False
                    check_transition(current, target)
                    now = self.now()
                    if target is JobState.RENDERING:
                        fields.setdefault("started_at", now)
                    if target.finished:
                        fields.setdefault("finished_at", now)
                        fields.setdefault("eta_seconds", settled_eta(target, None))
                    pipe.multi()
                    pipe.hset(key, mapping=_encode({**fields, "state": str(target)}))
                    pipe.execute()
                    break
                except redis.WatchError:
                    continue
        if target.finished:
            self._finish(job_id)
        publish_event(self.redis, job_id, "state", state=str(target))
        return True

    def _finish(self, job_id: str) -> None:
        pipe = self.redis.pipeline()
        pipe.zrem(keys.ACTIVE, job_id)
        pipe.delete(keys.pending(job_id))
        for key in (
            keys.job(job_id),
            keys.chunks(job_id),
            keys.done(job_id),
            keys.cancel(job_id),
            keys.notes(job_id),
            keys.events(job_id),
        ):
            pipe.expire(key, self.finished_ttl)
        pipe.execute()

    def heartbeats(self) -> dict[str, dict[str, Any]]:
        """Live worker nodes by name: their heartbeat payloads (torn or foreign values skipped)."""
        found: dict[str, dict[str, Any]] = {}
        for key in self.redis.scan_iter(match=keys.NODE.format(name="*"), count=100):
            raw = self.redis.get(key)
            if not raw:
                continue  # expired between the scan and the read
            try:
                data = json.loads(raw)
            except ValueError:
                continue
            if isinstance(data, dict) and {"name", "concurrency", "since", "time"} <= data.keys():
                found[str(data["name"])] = data
        return found

    def has_record(self, job_id: str) -> bool:
        """Whether Redis holds the job's record (not just a remnant a late update recreated)."""
        return bool(self.redis.hexists(keys.job(check_job_id(job_id)), "id"))

    def active(self) -> list[str]:
        """Ids of unfinished jobs, oldest first."""
        return [str(i) for i in self.redis.zrange(keys.ACTIVE, 0, -1)]

    def recent(self, limit: int = 100) -> list[str]:
        """Ids of stored jobs, newest first."""
        return [str(i) for i in self.redis.zrevrange(keys.ALL, 0, limit - 1)]

    def recent_of(self, user: str, limit: int = 100) -> list[str]:
        """Ids of ``user``'s stored jobs, newest first, from the user's own index; for a user
        whose jobs were all stored before the index was kept, the newest ``limit`` of every
        job (the caller keeps the user's)."""
        own = self.redis.zrevrange(keys.user_jobs(user), 0, limit - 1)
        if not own:
            return self.recent(limit)
        pipe = self.redis.pipeline(transaction=False)
        for job_id in own:
            pipe.exists(keys.job(str(job_id)))
        there = pipe.execute()
        gone = [str(i) for i, found in zip(own, there, strict=True) if not found]
        if gone:  # expired records: their index entries go too
            self.redis.zrem(keys.user_jobs(user), *gone)
        return [str(i) for i, found in zip(own, there, strict=True) if found]

    def cleanup(self) -> int:
        """Forget ids of jobs whose records expired; return how many."""
        gone = [i for i in self.redis.zrange(keys.ALL, 0, -1) if not self.redis.exists(keys.job(i))]
        if gone:
            self.redis.zrem(keys.ALL, *gone)
            self.redis.zrem(keys.ACTIVE, *gone)
        return len(gone)


_JOB_FIELDS = {f for f in JobRecord.__dataclass_fields__ if f != "chunks"}


def _encode(fields: dict[str, Any]) -> dict[str, str]:
    return {k: json.dumps(v) for k, v in fields.items()}
