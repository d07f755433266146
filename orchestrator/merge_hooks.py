"""The merge and the segment cache as the workers see them: the merge's lease, its start once
every chunk is in, the job's completion with its cost, and cached parts kept, fetched or lost.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from common.errors import RenderError
from common.names import PRIORITIES, QUEUE_MERGE, TASK_MERGE
from orchestrator import keys
from orchestrator.budgets import settle_job
from orchestrator.health import MERGE_LEASE
from orchestrator.hook_base import HookBase
from orchestrator.job_record import InvalidTransition, JobNotFound, JobState
from orchestrator.segment_cache import SegmentCache
from providers.storage.base import Storage
from workers.job_spec import JobSpec

log = logging.getLogger(__name__)

#: Takes over a merging job's merge lease only if it lapsed (ARGV: now, the lease's seconds,
#: the merging state and now as stored): read and renewed in one step, or two copies of a
#: merge that both read the lapsed lease both took it over.
_TAKE_OVER = """
if redis.call('hget', KEYS[1], 'state') ~= ARGV[3] then
  return 0
end
local alive = tonumber(redis.call('hget', KEYS[1], 'merge_alive_at') or '') or 0
if tonumber(ARGV[1]) - alive < tonumber(ARGV[2]) then
  return 0
end
redis.call('hset', KEYS[1], 'merge_alive_at', ARGV[4])
return 1
"""


class MergeHooks(HookBase):
    """The merge's and the segment cache's hooks (part of workers.hooks.Hooks)."""

    def merge_started(self, job_id: str) -> bool:
        """Move the job to merging; False if it ended, or another merge of it holds the lease."""
        now = self.store.now()
        try:
            if self.store.state(job_id) is JobState.MERGING:
                # A duplicate (resent while the first waited in the queue) must not merge
                # alongside a live merge; one resent because the lease lapsed takes over.
                merging = json.dumps(JobState.MERGING.value)
                taken = self.store.redis.eval(
                    _TAKE_OVER, 1, keys.job(job_id), now, MERGE_LEASE, merging, json.dumps(now)
                )
                if not taken:
                    return False
                started = True
            else:
                started = self.store.transition(job_id, JobState.MERGING, merge_alive_at=now)
        except JobNotFound:
            return False
        if started:
            self.store.redis.hincrby(keys.job(job_id), "merge_attempts", 1)
        return started

    def merge_retry(self, job_id: str) -> int:
        """Give up the merge's lease so a retry may start it again; how many merges of the job
        have started."""
        key = keys.job(job_id)
        pipe = self.store.redis.pipeline()
        pipe.hset(key, "merge_alive_at", "0")
        pipe.hget(key, "merge_attempts")
        attempts = pipe.execute()[1]
        return int(attempts or 0)

    def merge_alive(self, job_id: str) -> None:
        """Renew the merge's lease: the health check resends a merge whose lease ran out."""
        self.store.update(job_id, merge_alive_at=self.store.now())

    def merge_finished(self, job_id: str, summary: dict[str, Any]) -> bool:
        """Complete the job with its measured cost; whether it is complete (False when it was
        cancelled or failed while the merge ran)."""
        record = self.store.get(job_id)
        for note in summary.get("notes", []) if not record.state.finished else ():
            # The cached mix's warnings (it clipped), before the job reads as complete (and
            # expires them with it: a late duplicate merge must not make them anew for ever).
            self.store.redis.sadd(keys.notes(job_id), note)
        node_seconds = record.node_seconds + float(summary.get("merge_seconds", 0.0))
        flat = max(node_seconds - record.pool_seconds, 0.0)
        cost = record.pool_cost + flat / 3600 * record.hourly_rate
        completed = self.store.transition(
            job_id,
            JobState.COMPLETED,
            node_seconds=node_seconds,
            actual_cost=cost,
            result=summary,
        )
        if not completed:
            # A duplicate merge (resent after a crash) finished second: bill once. Or the job
            # was cancelled (or failed) while this one delivered: the merge takes it back.
            return self.store.state(job_id) is JobState.COMPLETED
        # Chunks recorded their cost as they finished (charge); the rest (audio, merge) now.
        settle_job(self.store.redis, job_id, cost, self.store.now(), app=self.app)
        self.dispatcher.forget(job_id)
        self.publish(job_id, "completed", cost=cost, seconds=self.job_seconds(job_id))
        return True

    def start_merge(self, job_id: str) -> None:
        """Send the merge task with every chunk's segment and the audio, once every chunk was
        rendered under the job's fingerprint (those that were not render again first)."""
        fields = self.store.get_fields(job_id, "effective_priority", "audio", "renderer", "state")
        spec = JobSpec.from_dict(self.store.spec(job_id))
        records = self.store.chunks(job_id)
        again: list[int] | None = []
        if fields["state"] == JobState.RENDERING:  # merging: its chunks passed
            try:
                again = self.dispatcher.rerender_strays(
                    job_id, spec, records, fields["renderer"] or ""
                )
            except RenderError as exc:
                self.job_failed(job_id, exc)
                return
        if again is None or again:
            for index in again or ():
                self.publish(job_id, "chunk_requeued", chunk=index, reason="renderer")
            self.dispatcher.fill()
            return
        chunks = [
            {"index": c.index, "start": c.start, "end": c.end, "key": spec.segment_key(c.index)}
            for c in records
        ]
        self.store.update(job_id, merge_sent_at=self.store.now())
        self.app.send_task(
            TASK_MERGE,
            args=[job_id, chunks, fields["audio"]],
            queue=QUEUE_MERGE,
            priority=PRIORITIES[fields["effective_priority"]],
        )

    # -- segment cache ------------------------------------------------------------------------

    def segment_cache(self, storage: Storage) -> SegmentCache:
        """The segment cache in a job's (sealed) storage."""
        return SegmentCache(storage, self.store.redis, max_bytes=self.cache_max_bytes)

    def cache_put(self, storage: Storage, key: str, path: str) -> None:
        """Keep a finished segment (or audio mix) in the segment cache under its content key."""
        self.segment_cache(storage).put(key, path)

    def cache_get(self, storage: Storage, key: str, path: str) -> None:
        """Copy a cached segment to ``path``; ObjectNotFound when the cache lost it."""
        self.segment_cache(storage).get(key, path)

    def cache_discard(self, storage: Storage, key: str) -> None:
        """Drop a cached segment that turned out unusable, so no job takes it again."""
        self.segment_cache(storage).discard(key)

    def cache_lost(self, job_id: str, chunks: list[int], audio: bool) -> None:
        """Parts a merge was to take from the segment cache are gone: render them after all
        (back to rendering), and the merge runs again when they are in."""
        try:
            # Only while the job merges: a merge that finds the parts gone because the job was
            # cancelled or completed meanwhile (a paused merge resuming late) must not turn its
            # done chunks back to pending (the record showed 0 frames done).
            if not self.store.undo_parts(job_id, chunks, audio=audio, states=(JobState.MERGING,)):
                return
            moved = self.store.transition(job_id, JobState.RENDERING)
        except (JobNotFound, InvalidTransition):
            return
        if not moved:
            return  # cancelled or failed meanwhile
        self.store.push_pending(job_id, chunks)
        self.publish(job_id, "cache_lost", chunks=chunks, audio=audio)
        if audio:
            self.send_audio(job_id)
        self.dispatcher.fill()

    def chunks_reused(self, job_id: str, chunks: list[int], frames: int) -> None:
        """Tell subscribers which chunks came from the segment cache (done without rendering)."""
        self.publish(job_id, "chunks_reused", chunks=chunks, frames=frames)

    def drop_late_segment(self, job_id: str, index: int) -> None:
        """Remove chunk ``index``'s segment when the job ended before it was stored: cancelled
        or failed (its objects were removed then), or completed (the merge removed its parts,
        unless the job keeps them). Left, it stayed until the sweep's grace (an hour) at best,
        for ever in a prefix the sweep keeps (a completed job's, which holds the video) or in a
        job's own storage, which no sweep visits."""
        try:
            state = self.store.state(job_id)
            if not state.finished:
                return
            spec = JobSpec.from_dict(self.store.spec(job_id))
            if state is JobState.COMPLETED and spec.keep_segments:
                return
            spec.storage().delete(spec.segment_key(index))
        except (RenderError, JobNotFound, OSError) as exc:
            log.warning("job %s ended; chunk %d's late segment stays: %s", job_id, index, exc)
