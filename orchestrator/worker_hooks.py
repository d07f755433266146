"""The job service as the workers see it: job store updates, dispatch, progress events.

Installed into `workers.hooks` when the Celery app loads, so task bodies stay free of
orchestrator imports. Every method is safe to call from several worker processes at once.

Every event sent through `publish` also moves the render counters it stands for
(`orchestrator.render_counters`: chunk outcomes, frames, job ends and their seconds), on the
counters of the Celery node whose task sends it, so each event counts once however many pool
processes the node has.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis

from common.errors import RenderError
from common.names import PRIORITIES, QUEUE_AUDIO, QUEUE_MERGE, TASK_MERGE, TASK_RENDER_AUDIO
from common.settings import Settings
from orchestrator import keys
from orchestrator.autoscaler.ledger import Ledger
from orchestrator.budgets import charge_job, cost_so_far, settle_job
from orchestrator.costing import record_throughput
from orchestrator.dispatcher import Dispatcher
from orchestrator.health import MERGE_LEASE
from orchestrator.job_cancel import end_chunks
from orchestrator.job_events import publish_event
from orchestrator.job_record import ChunkState, InvalidTransition, JobNotFound, JobState
from orchestrator.job_store import JobStore
from orchestrator.node_class import class_of, node_heartbeat
from orchestrator.render_counters import CLUSTER, event_counts, record
from orchestrator.segment_cache import SegmentCache
from providers.storage.base import Storage
from workers.job_policy import JobRefused
from workers.job_spec import JobSpec, job_prefix

log = logging.getLogger(__name__)

#: Unexpected failures on one node after which it gets no more chunks of that job.
BLOCKLIST_AFTER = 2
#: Distinct nodes a chunk may crash on before the job fails with its error.
CHUNK_NODE_LIMIT = 3
#: Seconds between progress events of one chunk.
PROGRESS_INTERVAL = 0.25


#: The error of a failed job's chunks that had not finished (stopped, or never started).
CHUNK_STOPPED = "stopped: the job failed"


class WorkerHooks:
    """Implements workers.hooks.Hooks on the job store."""

    def __init__(self, store: JobStore, app: Any, *, cache_max_bytes: int | None = None) -> None:
        self.store = store
        self.app = app
        self.dispatcher = Dispatcher(store, app)
        self._last_event: dict[tuple[str, int], float] = {}
        if cache_max_bytes is None:
            cache_max_bytes = Settings.from_env().cache_max_bytes
        #: the segment cache's cap (Settings.cache_max_bytes)
        self.cache_max_bytes = cache_max_bytes

    # -- hooks --------------------------------------------------------------------------------

    def job_spec(self, job_id: str) -> dict[str, Any]:
        """The job document; refused when it names another job (a rewritten document)."""
        spec = self.store.spec(job_id)
        if spec.get("id") != job_id:
            raise JobRefused(f"job {job_id}: its document names job {spec.get('id')!r}")
        return spec

    def chunk_started(self, job_id: str, index: int, task_id: str | None, node: str) -> bool:
        """Record the start; refuse when the job is over, the chunk done, `node` blocklisted,
        or the message is not the chunk's latest (a stale copy)."""
        try:
            state = self.store.state(job_id)
            chunk = self.store.chunk(job_id, index)
        except JobNotFound:
            return False
        if state.finished or self.store.cancel_requested(job_id) or chunk.state is ChunkState.DONE:
            self.store.redis.zrem(keys.QUEUED, f"{job_id}:{index}")  # no longer waiting
            return False
        if task_id and chunk.task_id and task_id != chunk.task_id:
            # The chunk was sent again since (its node died, its group vanished): this older
            # message, redelivered by the broker, would render it a second time beside the
            # newer one. The newer message, or a straggler's copy, carries the chunk's id.
            log.info(
                "job %s chunk %d: message %s is stale (the chunk's is %s); not rendered",
                job_id,
                index,
                task_id,
                chunk.task_id,
            )
            return False
        if self.blocklisted(job_id, node):
            # Hand the chunk to someone else; fail the job if nobody else is left.
            self.store.push_pending(job_id, [index])
            if not self._nobody_left(job_id, chunk.error):
                self.dispatcher.fill()
            return False
        if chunk.state is ChunkState.RUNNING and chunk.node not in (None, node):
            chunk.speculative = True  # a second copy of a straggler: both run, first wins
            self.store.save_chunk(job_id, chunk)
        chunk = self.store.chunk_started(job_id, index, node, task_id)
        self.publish(job_id, "chunk_started", chunk=index, node=node, attempt=chunk.attempts)
        self.dispatcher.fill()  # keep the next chunk waiting in the broker
        return True

    def _nobody_left(self, job_id: str, error: str | None) -> bool:
        """Fail the job when every live render node is blocklisted for it (the dispatcher sends
        them nothing, so it would wait in "rendering" for ever); whether it was failed."""
        live = self.dispatcher.live_nodes()
        if not live or not all(self.blocklisted(job_id, n) for n in live):
            return False
        self.job_failed(
            job_id,
            RenderError(f"every live worker failed chunks of this job; last error: {error}"),
        )
        return True

    def blocklisted(self, job_id: str, node: str) -> bool:
        """Whether `node` failed too many chunks of this job to get more of them."""
        count = self.store.redis.hget(keys.failures(job_id), node)
        return count is not None and int(count) >= BLOCKLIST_AFTER

    def should_stop(self, job_id: str, index: int, node: str) -> str | None:
        """Why a running chunk must stop now, or None (also while Redis cannot be reached: a
        broker outage of a few seconds must not cost the frames rendered so far)."""
        pipe = self.store.redis.pipeline()
        pipe.exists(keys.cancel(job_id))
        pipe.exists(keys.evict(node))
        pipe.sismember(keys.done(job_id), str(index))
        pipe.exists(keys.job(job_id))
        try:
            cancelled, evicted, done, known = pipe.execute()
        except redis.RedisError:
            return None
        if cancelled or not known:
            # No record: Redis lost its data (restarted without persistence). Nothing will
            # ever merge the job, so its chunks stop rather than store orphan segments.
            return "cancelled"
        if done:
            return "done"
        return "evicted" if evicted else None

    def chunk_progress(self, job_id: str, index: int, done: int, total: int) -> None:
        """Record frames done, at most a few times a second per chunk."""
        now = time.monotonic()
        key = (job_id, index)
        if done < total and now - self._last_event.get(key, 0.0) < PROGRESS_INTERVAL:
            return
        self._last_event[key] = now
        try:
            self.store.chunk_progress(job_id, index, done)
            self.publish(job_id, "progress", chunk=index, done=done, total=total)
        except redis.RedisError:
            pass  # the broker is away: the render goes on, the next report may get through
        except JobNotFound:
            pass  # the job's record is gone: the chunk's next poll (should_stop) stops it

    def cancelled(self, job_id: str) -> bool:
        """Whether the job wants no more work: being cancelled, or already ended (a task that
        resumes after its job completed without it must not store anything)."""
        if self.store.cancel_requested(job_id):
            return True
        try:
            return self.store.state(job_id).finished
        except JobNotFound:
            return True

    def chunk_finished(self, job_id: str, index: int, result: dict[str, Any]) -> None:
        """Count the chunk, charge its time, merge when everything is in, dispatch more."""
        self._last_event.pop((job_id, index), None)
        seconds = float(result.get("seconds") or 0.0)
        # A speculative copy finishing second is no new chunk (two finishing in the same
        # instant may both count as first: rare, and only the counters would notice).
        first = not self.store.redis.sismember(keys.done(job_id), str(index))
        renderer = str(result.get("renderer") or "")
        digest = str(result.get("digest") or "")
        last = self.store.chunk_done(job_id, index, seconds, renderer, digest)
        beat = node_heartbeat(self.store.redis, result.get("node"))
        self.charge(job_id, result.get("node"), seconds, beat=beat)
        frames = int(result["end"]) - int(result["start"])
        # Each node teaches its own class (its pool's); one without a heartbeat teaches none.
        node_class = class_of(beat)
        if seconds > 0 and not result.get("reused") and node_class is not None:
            units = float(self.store.get_fields(job_id, "complexity")["complexity"] or 1.0)
            record_throughput(self.store.redis, node_class, seconds, frames, units)
        if result.get("encoder"):
            self.store.update(job_id, encoder=result["encoder"])
        if result.get("compositor"):
            self.store.update(job_id, compositor=str(result["compositor"]))
        for note in result.get("notes", []):
            self.store.redis.sadd(keys.notes(job_id), note)
        outcome = "reused" if result.get("reused") else "done" if first else "duplicate"
        self.publish(
            job_id, "chunk_done", chunk=index, seconds=seconds, frames=frames, outcome=outcome
        )
        if last:
            self.start_merge(job_id)
        self.dispatcher.fill()

    def charge(
        self, job_id: str, node: Any, seconds: float, *, beat: dict[str, Any] | None = None
    ) -> None:
        """Add a chunk's seconds to its job; on an autoscaled pool's node, also to the node's
        ledger record and to the job's cost at that node's price per slot. The chunk's cost
        counts against the job's budgets now, so a long job meets the hard stop mid-render.
        ``beat``: the node's heartbeat when the caller has read it already."""
        self.store.add_node_seconds(job_id, seconds)
        if seconds <= 0:
            return
        try:
            rate = self.store.get_fields(job_id, "hourly_rate")["hourly_rate"]
        except JobNotFound:
            return  # expired meanwhile: nobody to bill
        cost = seconds * float(rate or 0.0) / 3600  # not a pool node: the cluster's flat rate
        if beat is None:
            beat = node_heartbeat(self.store.redis, node)
        instance = (beat or {}).get("instance")
        ledger = Ledger(self.store.redis)
        record = ledger.get(str(instance)) if instance else None
        if record is not None:
            ledger.add_busy(record.id, seconds)
            cost = seconds * record.price_per_hour / max(record.slots, 1) / 3600
            pipe = self.store.redis.pipeline()
            pipe.hincrbyfloat(keys.job(job_id), "pool_seconds", seconds)
            pipe.hincrbyfloat(keys.job(job_id), "pool_cost", cost)
            pipe.execute()
        charge_job(self.store.redis, job_id, cost, self.store.now(), app=self.app)

    def chunk_retrying(self, job_id: str, index: int, error: RenderError, delay: float) -> None:
        """Record a transient failure; Celery re-runs the task after `delay` seconds."""
        self.store.chunk_failed(job_id, index, str(error), retrying=True)
        # Queued again, from when the retry is due: the reconciler leaves it alone till then.
        self.store.redis.zadd(keys.QUEUED, {f"{job_id}:{index}": self.store.now() + delay})
        self.publish(job_id, "chunk_retrying", chunk=index, error=str(error), delay=delay)

    def chunk_crashed(self, job_id: str, index: int, node: str, error: str) -> None:
        """Count the failure against `node`; requeue, or fail the job after three nodes."""
        self.store.redis.hincrby(keys.failures(job_id), node, 1)
        chunk = self.store.chunk(job_id, index)
        if node not in chunk.failed_nodes:
            chunk.failed_nodes.append(node)
        chunk.state, chunk.error = ChunkState.RETRYING, f"{error} (on {node})"
        self.store.save_chunk(job_id, chunk)
        if len(chunk.failed_nodes) >= CHUNK_NODE_LIMIT:
            self.publish(job_id, "chunk_failed", chunk=index, error=chunk.error)
            self.job_failed(
                job_id,
                RenderError(
                    f"chunk {index} (frames {chunk.start}-{chunk.end - 1}) failed on "
                    f"{len(chunk.failed_nodes)} workers; last error: {error}"
                ),
            )
            return
        self.store.push_pending(job_id, [index])
        if self._nobody_left(job_id, chunk.error):
            return
        self.publish(job_id, "chunk_requeued", chunk=index, reason="crashed", node=node)
        self.dispatcher.fill()

    def chunk_released(self, job_id: str, index: int, node: str) -> None:
        """Put a pre-empted node's chunk back first in line; it does not count as a failure."""
        chunk = self.store.chunk(job_id, index)
        if chunk.state is ChunkState.DONE:
            return
        chunk.state, chunk.frames_done = ChunkState.PENDING, 0
        chunk.attempts = max(0, chunk.attempts - 1)
        self.store.save_chunk(job_id, chunk)
        self.store.push_pending(job_id, [index])
        self.publish(job_id, "chunk_requeued", chunk=index, reason="evicted", node=node)
        self.dispatcher.fill()

    def chunk_failed(self, job_id: str, index: int, error: RenderError) -> None:
        """A deterministic failure fails the job at once (retrying would fail the same way)."""
        self.store.chunk_failed(job_id, index, str(error))
        self.publish(job_id, "chunk_failed", chunk=index, error=str(error))
        self.job_failed(job_id, error)

    def audio_finished(self, job_id: str, result: dict[str, Any] | None) -> None:
        """Keep the audio result for the merge; merge if it was the last part."""
        self.store.update(job_id, audio=result)
        if result is not None:
            self.store.add_node_seconds(job_id, float(result.get("seconds", 0.0)))
        if self.store.part_done(job_id, "audio"):
            self.start_merge(job_id)

    def segment_digests(self, job_id: str) -> dict[int, str]:
        """The sha256 of each chunk's segment as its worker stored it, where known."""
        try:
            return {c.index: c.digest for c in self.store.chunks(job_id) if c.digest}
        except JobNotFound:
            return {}

    def chunk_renders(self, job_id: str) -> dict[int, int]:
        """How many times each chunk was started (its attempts), where known."""
        try:
            return {c.index: c.attempts for c in self.store.chunks(job_id)}
        except JobNotFound:
            return {}

    def merge_started(self, job_id: str) -> bool:
        """Move the job to merging; False if it ended, or another merge of it holds the lease."""
        now = self.store.now()
        try:
            if self.store.state(job_id) is JobState.MERGING:
                # A duplicate (resent while the first waited in the queue) must not merge
                # alongside a live merge; one resent because the lease lapsed takes over.
                alive = self.store.get_fields(job_id, "merge_alive_at")["merge_alive_at"]
                if alive is not None and now - float(alive) < MERGE_LEASE:
                    return False
                self.store.update(job_id, merge_alive_at=now)
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

    def job_failed(self, job_id: str, error: RenderError) -> None:
        """Fail the job with this error and stop its other chunks."""
        try:
            changed = self.store.transition(job_id, JobState.FAILED, error=str(error))
        except JobNotFound:
            return
        if changed:
            self.store.request_cancel(job_id)  # running chunks stop between frames
            # Those chunks stop without a word: recorded failed now, or `status` showed them
            # running (and the rest pending) under the failed job for ever.
            end_chunks(self.store, job_id, CHUNK_STOPPED, keep_errors=True)
            # What it consumed is spent even though it failed: chunks recorded theirs as they
            # finished, the rest (the audio's time) is recorded now.
            cost = cost_so_far(self.store.redis, job_id)
            self.store.update(job_id, actual_cost=cost)  # `status` showed $0 for it
            settle_job(self.store.redis, job_id, cost, self.store.now(), app=self.app)
            self.dispatcher.forget(job_id)
            self._remove_objects(job_id)
            self.publish(job_id, "failed", error=str(error), seconds=self.job_seconds(job_id))
            self.dispatcher.fill()

    def _remove_objects(self, job_id: str) -> None:
        """Remove a failed job's segments and audio from its storage (as a cancel does): they
        would stay for ever, and after a full disk failed the job, keep the disk full."""
        try:
            JobSpec.from_dict(self.store.spec(job_id)).storage().delete_prefix(job_prefix(job_id))
        except (RenderError, JobNotFound, OSError) as exc:
            log.warning("job %s failed; its objects were not removed: %s", job_id, exc)

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

    # -- helpers ------------------------------------------------------------------------------

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

    def send_audio(self, job_id: str) -> None:
        """Send the job's audio task (again, if an earlier one was lost)."""
        level = self.store.get_fields(job_id, "effective_priority")["effective_priority"]
        self.store.update(job_id, audio_sent_at=self.store.now())
        self.app.send_task(
            TASK_RENDER_AUDIO, args=[job_id], queue=QUEUE_AUDIO, priority=PRIORITIES[level]
        )

    def publish(self, job_id: str, event: str, **data: Any) -> None:
        """Send a progress event (channel and the job's event log) and count what it stands for
        on this node's render counters."""
        publish_event(self.store.redis, job_id, event, **data)
        counts = event_counts(event, data)
        if counts:
            record(self.store.redis, self.node_name(), counts)

    def node_name(self) -> str:
        """The Celery node whose task calls now (its exporter serves its counters); outside a
        worker's task, the cluster's pseudo node, which the orchestrator's exporter serves."""
        task = getattr(self.app, "current_worker_task", None)
        hostname = getattr(getattr(task, "request", None), "hostname", None)
        return hostname if isinstance(hostname, str) and hostname else CLUSTER

    def job_seconds(self, job_id: str) -> float | None:
        """Seconds from the job's submission to its end (None when the record lacks them)."""
        try:
            fields = self.store.get_fields(job_id, "submitted_at", "finished_at")
        except JobNotFound:
            return None
        submitted, finished = fields["submitted_at"], fields["finished_at"]
        if not submitted or finished is None:
            return None
        return round(max(float(finished) - float(submitted), 0.0), 3)
