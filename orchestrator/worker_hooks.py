"""The job service as the workers see it: job store updates, dispatch, progress events.

Installed into `workers.hooks` when the Celery app loads, so task bodies stay free of
orchestrator imports. Every method is safe to call from several worker processes at once.
The chunks' hooks are here; the merge's and the segment cache's are in
`orchestrator.merge_hooks`, events (and the render counters they move) and a job's failure in
`orchestrator.hook_base`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis

from common.errors import RenderError
from orchestrator import keys
from orchestrator.autoscaler.ledger import Ledger
from orchestrator.budgets import charge_job
from orchestrator.costing import record_throughput
from orchestrator.job_record import ChunkRecord, ChunkState, JobNotFound
from orchestrator.merge_hooks import MergeHooks
from orchestrator.node_class import class_of, node_heartbeat
from workers.job_policy import JobRefused

log = logging.getLogger(__name__)

#: Unexpected failures on one node after which it gets no more chunks of that job.
BLOCKLIST_AFTER = 2
#: Distinct nodes a chunk may crash on before the job fails with its error.
CHUNK_NODE_LIMIT = 3
#: Seconds between progress events of one chunk.
PROGRESS_INTERVAL = 0.25


class WorkerHooks(MergeHooks):
    """Implements workers.hooks.Hooks on the job store: the chunks' hooks here, the merge's and
    the segment cache's in MergeHooks, events and job failure in HookBase."""

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
            if not self._nobody_left(job_id, chunk) and self.dispatcher.idle_taker(
                job_id, node, lambda other: self.blocklisted(job_id, other)
            ):
                self.dispatcher.fill()  # else the tick's: at once, this node takes it back
            return False
        running = chunk.state is ChunkState.RUNNING
        # The chunk's own message handed out again while its record says running, and no copy
        # of it was sent: the process that ran it died without a word (a pool process killed,
        # out of memory) and Celery gave the message back (task_reject_on_worker_lost). A
        # re-run like any requeue. (A straggler's copy carries the chunk's task id too, but
        # the tick marked the chunk speculative before sending it.)
        redelivered = running and bool(task_id) and task_id == chunk.task_id
        redelivered = redelivered and not chunk.speculative
        if running and chunk.node not in (None, node):
            chunk.speculative = True  # a second copy of a straggler: both run, first wins
            self.store.save_chunk(job_id, chunk)
        # A copy beside a running one keeps the progress the first one made.
        copy = running and chunk.speculative and not redelivered
        chunk = self.store.chunk_started(job_id, index, node, task_id, copy=copy)
        if redelivered:
            self.publish(job_id, "chunk_requeued", chunk=index, reason="redelivered", node=node)
        self.publish(job_id, "chunk_started", chunk=index, node=node, attempt=chunk.attempts)
        self.dispatcher.fill()  # keep the next chunk waiting in the broker
        return True

    def _nobody_left(self, job_id: str, chunk: ChunkRecord) -> bool:
        """Fail the job when every live render node is blocklisted for it (the dispatcher sends
        them nothing, so it would wait in "rendering" for ever); whether it was failed."""
        live = self.dispatcher.live_nodes()
        if not live or not all(self.blocklisted(job_id, n) for n in live):
            return False
        self.job_failed(
            job_id,
            RenderError(
                "every live worker failed chunks of this job; last error: chunk "
                f"{chunk.index} (frames {chunk.start}-{chunk.end - 1}): {chunk.error}"
            ),
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
        if not known:
            # No record: Redis lost its data (restarted without persistence). Nothing will
            # ever merge the job, so its chunks stop rather than store orphan segments.
            return "gone"
        if cancelled:
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
        self.drop_late_segment(job_id, index)
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

    def chunk_node_trouble(self, job_id: str, index: int, node: str, error: RenderError) -> bool:
        """Hand a chunk that failed on `node`'s own disk (full, read-only, failing) to another
        node at once, counting it against `node`; False when no other live node of the job's
        fingerprint may take it (the chunk then waits for room on this one, with backoff)."""
        others = [n for n in self.dispatcher.peers(job_id, node) if not self.blocklisted(job_id, n)]
        if not others:
            return False
        # Not a Celery retry: its message, due after a backoff, went back to whichever node
        # asked first, and an idle node whose every chunk fails at once asks first.
        self.chunk_crashed(job_id, index, node, str(error), reason="node trouble")
        return True

    def chunk_crashed(
        self, job_id: str, index: int, node: str, error: str, *, reason: str = "crashed"
    ) -> None:
        """Count the failure against `node`; requeue, or fail the job after three nodes. A
        copy of the chunk that crashed after another finished it, or while another runs it,
        only counts against its node: the chunk is not sent again, nor its job failed."""
        self.store.redis.hincrby(keys.failures(job_id), node, 1)
        chunk = self.store.chunk(job_id, index)
        if chunk.state is ChunkState.DONE:
            return  # another copy (a straggler's, a redelivery) finished it
        if node not in chunk.failed_nodes:
            chunk.failed_nodes.append(node)
        elsewhere = chunk.state is ChunkState.RUNNING and chunk.node not in (None, node)
        if not elsewhere:
            chunk.state, chunk.error = ChunkState.RETRYING, f"{error} (on {node})"
        if not self.store.save_chunk(job_id, chunk) or elsewhere:
            # Finished (or its job ended) meanwhile; or the copy on chunk.node goes on, and its
            # own end (done, or a crash that counts toward the node limit) decides.
            return
        if len(chunk.failed_nodes) >= CHUNK_NODE_LIMIT:
            self._fail_chunk(job_id, chunk)
            return
        self.store.push_pending(job_id, [index])
        if self._nobody_left(job_id, chunk):
            return
        self.publish(job_id, "chunk_requeued", chunk=index, reason=reason, node=node)
        self.dispatcher.fill()

    def given_up(self, job_id: str, chunk: ChunkRecord) -> bool:
        """Fail the job when `chunk` failed on too many nodes or no live node may take it
        again; whether it was failed."""
        if len(chunk.failed_nodes) >= CHUNK_NODE_LIMIT or self._nobody_left(job_id, chunk):
            if not self.store.state(job_id).finished:
                self._fail_chunk(job_id, chunk)
            return True
        return False

    def _fail_chunk(self, job_id: str, chunk: ChunkRecord) -> None:
        """Fail the job over a chunk that failed on too many workers, naming it."""
        self.publish(job_id, "chunk_failed", chunk=chunk.index, error=chunk.error)
        self.job_failed(
            job_id,
            RenderError(
                f"chunk {chunk.index} (frames {chunk.start}-{chunk.end - 1}) failed on "
                f"{len(chunk.failed_nodes)} workers; last error: {chunk.error}"
            ),
        )

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

    def chunk_lost(self, job_id: str, index: int, task_id: str, node: str, reason: str) -> None:
        """Show a chunk whose process died as retrying now, not as running until its message
        comes back (seconds later). Only this very run: a later start, another copy or a chunk
        that finished meanwhile is left alone."""
        try:
            chunk = self.store.chunk(job_id, index)
        except JobNotFound:
            return
        if chunk.state is not ChunkState.RUNNING or chunk.speculative:
            return
        if chunk.task_id != task_id or chunk.node != node:
            return
        chunk.state, chunk.frames_done = ChunkState.RETRYING, 0
        chunk.error = f"its render process died: {reason} (on {node})"
        # Counted like a crashed render: a chunk that takes its pool process down on every
        # run (the OOM killer, a crash in the worker itself) was handed out again for ever.
        self.store.redis.hincrby(keys.failures(job_id), node, 1)
        if node not in chunk.failed_nodes:
            chunk.failed_nodes.append(node)
        self.store.save_chunk(job_id, chunk)
        if len(chunk.failed_nodes) >= CHUNK_NODE_LIMIT or self._nobody_left(job_id, chunk):
            if not self.store.state(job_id).finished:
                self._fail_chunk(job_id, chunk)
            return
        # Its message is back in the broker: the reconciler leaves it there (STALE_QUEUED).
        self.store.redis.zadd(keys.QUEUED, {f"{job_id}:{index}": self.store.now()})
        self.publish(job_id, "chunk_requeued", chunk=index, reason="process died", node=node)

    def chunk_failed(self, job_id: str, index: int, error: RenderError) -> None:
        """A deterministic failure fails the job at once (retrying would fail the same way);
        not that of a copy whose chunk another copy finished (it was no failure of the chunk's:
        its node's own, say a storage mount that refused the upload)."""
        try:
            if self.store.chunk(job_id, index).state is ChunkState.DONE:
                log.warning("job %s chunk %d: a copy failed after another finished it: %s",
                            job_id, index, error)  # fmt: skip
                return
            self.store.chunk_failed(job_id, index, str(error))
        except JobNotFound:
            # Redis lost the job between the chunk's start and its document being read: there
            # is nothing left to fail, and the task ended in a JobNotFound traceback.
            return
        self.publish(job_id, "chunk_failed", chunk=index, error=str(error))
        self.job_failed(job_id, error)

    def audio_finished(self, job_id: str, result: dict[str, Any] | None) -> None:
        """Keep the audio result for the merge; merge if it was the last part."""
        self.store.update(job_id, audio=result)
        if result is not None:
            self.store.add_node_seconds(job_id, float(result.get("seconds", 0.0)))
            for note in result.get("notes", []):
                self.store.redis.sadd(keys.notes(job_id), note)  # the mix clipped
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
