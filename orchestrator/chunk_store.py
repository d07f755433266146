"""A job's chunks in Redis: their records (a finished chunk stays finished whatever a stale
write tries), the set that counts finished parts once, the pending list the dispatcher draws
from, and the cancel flag running chunks poll. `JobStore` (orchestrator.job_store) adds the
jobs' own records on top.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable

import redis

from orchestrator import keys
from orchestrator.cluster_clock import ClusterClock
from orchestrator.job_record import (
    ChunkRecord,
    ChunkState,
    JobNotFound,
    JobState,
)

#: Default lifetime of a finished job's records (seconds).
FINISHED_TTL = 7 * 24 * 3600


#: Writes a chunk record unless the stored one is done: a finished chunk stays finished, whatever
#: a stale read-modify-write (a late progress report, a requeue decided on an old snapshot)
#: tries to put over it. Nor over the chunks of a cancelled or failed job (KEYS[2] its record), but
#: by the cancel or failure itself (ARGV[4] "1"): a worker stopping late must not show it running
#: for ever.
#: Returns 1 if written.
_SAVE_CHUNK = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and ARGV[3] ~= 'done' and cjson.decode(current)['state'] == 'done' then
    return 0
end
local job = redis.call('HGET', KEYS[2], 'state')
if ARGV[4] ~= '1' and (job == '"cancelled"' or job == '"failed"') then
    return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


class ChunkStore:
    """Reads and writes a job's chunk records, parts and dispatch bookkeeping in Redis."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        finished_ttl: int = FINISHED_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = client
        self.finished_ttl = finished_ttl
        self._save_chunk = client.register_script(_SAVE_CHUNK)
        self._time = ClusterClock(client, clock)

    def now(self) -> float:
        """The cluster's time (ClusterClock): what every node's timestamps in here are in."""
        return self._time.now()

    # -- chunks -------------------------------------------------------------------------------

    def chunks(self, job_id: str) -> list[ChunkRecord]:
        """Every chunk of the job, in order."""
        raw = self.redis.hgetall(keys.chunks(job_id))
        records = [ChunkRecord.from_json(json.loads(v)) for v in raw.values()]
        return sorted(records, key=lambda c: c.index)

    def chunk(self, job_id: str, index: int) -> ChunkRecord:
        """One chunk's record."""
        raw = self.redis.hget(keys.chunks(job_id), str(index))
        if raw is None:
            raise JobNotFound(f"job {job_id!r} has no chunk {index}")
        return ChunkRecord.from_json(json.loads(raw))

    def save_chunk(self, job_id: str, chunk: ChunkRecord, *, cancelling: bool = False) -> bool:
        """Write a chunk's record; False (nothing written) when the stored one is already done,
        or its job is cancelled or failed (``cancelling``: the cancel's or failure's own write)."""
        written = self._save_chunk(
            keys=[keys.chunks(job_id), keys.job(job_id)],
            args=[
                str(chunk.index),
                json.dumps(chunk.to_json()),
                chunk.state.value,
                int(cancelling),
            ],
        )
        return bool(written)

    def chunk_started(
        self, job_id: str, index: int, node: str, task_id: str | None, *, copy: bool = False
    ) -> ChunkRecord:
        """Mark a chunk running on `node` and count the attempt. ``copy``: a speculative copy
        beside a running one, which keeps the progress (and start) the first copy made."""
        chunk = self.chunk(job_id, index)
        chunk.state = ChunkState.RUNNING
        chunk.node = node
        chunk.task_id = task_id
        chunk.attempts += 1
        chunk.updated_at = self.now()
        if not copy:
            chunk.frames_done = 0
            chunk.started_at = chunk.updated_at
        chunk.error = None
        self.save_chunk(job_id, chunk)
        self.redis.zrem(keys.QUEUED, f"{job_id}:{index}")
        return chunk

    def chunk_progress(self, job_id: str, index: int, frames_done: int) -> None:
        """Record how many frames of a running chunk are done (and that it is alive). While
        two copies run, the chunk shows the one further on: their reports interleave, and
        the job's progress must not jump back and forth between them."""
        chunk = self.chunk(job_id, index)
        if chunk.state is ChunkState.RUNNING:
            chunk.frames_done = (
                max(chunk.frames_done, frames_done) if chunk.speculative else frames_done
            )
            chunk.updated_at = self.now()
            self.save_chunk(job_id, chunk)

    def chunk_done(
        self, job_id: str, index: int, seconds: float, renderer: str = "", digest: str = ""
    ) -> bool:
        """Mark a chunk done, made by a node of render fingerprint ``renderer`` ("" unknown),
        its segment's sha256 ``digest`` ("" unknown: the one recorded before stays, as a copy
        that found the segment stored already did not make it); True when this completed the
        job's last part (exactly once)."""
        chunk = self.chunk(job_id, index)
        chunk.state = ChunkState.DONE
        chunk.frames_done = chunk.frames
        chunk.finished_at = self.now()
        chunk.seconds = seconds
        chunk.renderer = renderer or chunk.renderer
        chunk.digest = digest or chunk.digest
        self.save_chunk(job_id, chunk)
        return self.part_done(job_id, str(index))

    def part_done(self, job_id: str, part: str) -> bool:
        """Count a part (a chunk index, or "audio") done; True when it was the last one."""
        done_key = keys.done(job_id)
        pipe = self.redis.pipeline()
        pipe.sadd(done_key, part)
        pipe.scard(done_key)
        pipe.hget(keys.job(job_id), "chunk_count")
        added, count, total = pipe.execute()
        # Every chunk plus the audio part must be in.
        return bool(added) and total is not None and int(count) == int(json.loads(total)) + 1

    def undo_parts(
        self,
        job_id: str,
        indices: Iterable[int],
        *,
        audio: bool = False,
        states: tuple[JobState, ...] | None = None,
    ) -> bool:
        """Make done parts (reused chunks whose cached segment is gone, chunks rendered under
        another fingerprint than the job's, the audio) to do again: pending, not reused, out of
        the done set. Does not queue them (push_pending). With ``states``, only while the job
        is in one of them (atomically: a cancel or completion in between wins); whether the
        parts were undone."""
        wanted = list(indices)
        parts = [str(i) for i in wanted] + (["audio"] if audio else [])
        with self.redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(keys.job(job_id))
                    if states is not None:
                        raw = pipe.hget(keys.job(job_id), "state")
                        if raw is None or JobState(json.loads(raw)) not in states:
                            pipe.unwatch()
                            return False
                    chunks = [self.chunk(job_id, index) for index in wanted]
                    pipe.multi()
                    for chunk in chunks:
                        chunk.state, chunk.reused, chunk.frames_done = ChunkState.PENDING, False, 0
                        chunk.finished_at = chunk.seconds = None
                        chunk.renderer = ""
                        # Straight over the record: the guard of save_chunk keeps done chunks
                        # done.
                        pipe.hset(
                            keys.chunks(job_id), str(chunk.index), json.dumps(chunk.to_json())
                        )
                    if parts:
                        pipe.srem(keys.done(job_id), *parts)
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue

    def chunk_failed(self, job_id: str, index: int, error: str, *, retrying: bool = False) -> None:
        """Mark a chunk failed (or retrying) with its error."""
        chunk = self.chunk(job_id, index)
        chunk.state = ChunkState.RETRYING if retrying else ChunkState.FAILED
        chunk.error = error
        chunk.finished_at = self.now()
        self.save_chunk(job_id, chunk)

    def add_node_seconds(self, job_id: str, seconds: float) -> float:
        """Add measured worker time to the job; return its total."""
        return float(self.redis.hincrbyfloat(keys.job(job_id), "node_seconds", seconds))

    # -- dispatch bookkeeping -----------------------------------------------------------------

    def pop_pending(self, job_id: str) -> int | None:
        """The next undispatched chunk of the job, removed from its pending list."""
        raw = self.redis.lpop(keys.pending(job_id))
        return int(raw) if raw is not None else None

    def push_pending(self, job_id: str, indices: Iterable[int], *, front: bool = True) -> None:
        """Put chunks back to be dispatched (first in line by default)."""
        items = list(indices)
        if items:
            if front:
                self.redis.lpush(keys.pending(job_id), *reversed(items))
            else:
                self.redis.rpush(keys.pending(job_id), *items)

    def pending_count(self, job_id: str) -> int:
        """How many chunks of the job wait to be dispatched."""
        return int(self.redis.llen(keys.pending(job_id)))

    def request_cancel(self, job_id: str) -> None:
        """Raise the job's cancel flag, which running chunks poll between frames."""
        self.redis.set(keys.cancel(job_id), "1", ex=self.finished_ttl)

    def withdraw_cancel(self, job_id: str) -> None:
        """Lower a cancel flag raised for a job that completed before the cancel took."""
        self.redis.delete(keys.cancel(job_id))

    def cancel_requested(self, job_id: str) -> bool:
        """Whether the job is being cancelled."""
        return bool(self.redis.exists(keys.cancel(job_id)))
