"""Failover, acted out each orchestrator tick: requeue the chunks of lost nodes, copy
stragglers onto idle slots, and resend plan, audio or merge tasks that were lost. The decisions are
pure functions in orchestrator.health; this module applies them to the job store.

A chunk silent on a live node counts as a stall against that node, unless its silence began
before its node lost Redis and got it back, which the node's heartbeat says (``reconnected``,
orchestrator.beat_link: its beats see every outage, a restart, a freeze or a partition). Such a
chunk gets STALLED_SECONDS after the outage to report again, and is then requeued for free: a
Redis restart used up the node attempts of every chunk that was running, and failed their jobs.

A gap in the orchestrator's own looks at the jobs is no outage of Redis: an orchestrator killed,
restarted or stalled (or ticks slowed by load) for over OUTAGE_GAP seconds was taken for one, so
each such gap excused every silent chunk in the cluster, and a chunk hung on a live node was
requeued for free after each gap instead of counting against its node (with frequent gaps, for
ever). The workers' chunks and beats went on through such a gap; it is only logged. What the
gap does excuse is a forward jump of the cluster's clock (Redis's ``TIME``), told from an
absence by this machine's monotonic clock: it makes every report before it look that much
older, so each chunk that last reported before a jump gets STALLED_SECONDS after it.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Mapping
from typing import Any

from common.names import PRIORITIES, QUEUE_ORCHESTRATOR, TASK_PLAN_JOB
from orchestrator import keys
from orchestrator.health import (
    STALLED_SECONDS,
    lost_chunks,
    lost_plan,
    lost_tasks,
    stragglers,
)
from orchestrator.job_record import ChunkRecord, ChunkState, JobNotFound, JobState
from orchestrator.job_store import JobStore
from orchestrator.worker_hooks import WorkerHooks

log = logging.getLogger(__name__)

#: Seconds between two looks at the jobs (the tick runs every 2 s) beyond which the
#: orchestrator says it was away (killed, stalled or overloaded; or Redis was), and seconds the
#: cluster's clock may run ahead of this machine's monotonic clock between two looks before it
#: counts as jumped.
OUTAGE_GAP = 10.0


def machine_id() -> str:
    """This machine and boot: monotonic clock readings compare only within one."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as handle:
            boot = handle.read().strip()
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot}"


def clock_jump(cluster_gap: float, mono_gap: float | None) -> float:
    """Seconds the cluster's clock (Redis's TIME) jumped forward between two looks that
    ``cluster_gap`` apart by it were ``mono_gap`` apart by this machine's monotonic clock
    (None: the looks came from different machines, which cannot tell); 0.0 for none."""
    if mono_gap is None:
        return 0.0
    return max(cluster_gap - mono_gap, 0.0)


def look(client: Any, now: float, mono: float, machine: str) -> tuple[float | None, float]:
    """Record this look at the jobs; return (seconds the looks stopped for, when over
    OUTAGE_GAP and not a jump of the clock, else None; when the cluster's clock last jumped
    forward by over OUTAGE_GAP, 0.0 for never)."""
    raw = client.hmget(keys.FAILOVER, "checked", "mono", "machine", "jumped")
    checked, last_mono, jumped = (float(v) if v else 0.0 for v in (raw[0], raw[1], raw[3]))
    seen_on = raw[2].decode() if isinstance(raw[2], bytes) else raw[2]
    same = seen_on == machine and bool(last_mono)
    gap = now - checked if checked else 0.0
    jump = clock_jump(gap, mono - last_mono if same else None)
    if jump > OUTAGE_GAP:
        jumped = now
        log.warning("the cluster's clock (Redis's TIME) jumped %.0f s forward", jump)
    client.hset(
        keys.FAILOVER, mapping={"checked": now, "mono": mono, "machine": machine, "jumped": jumped}
    )
    away = gap - jump
    if away > OUTAGE_GAP:
        client.hset(keys.FAILOVER, mapping={"away": away, "back": now})
        return away, jumped
    return None, jumped


def excused_until(
    chunk: ChunkRecord, beat: Mapping[str, Any] | None, jumped: float = 0.0
) -> float | None:
    """When the event that explains a chunk's silence ended, if its last report came before
    it: its node's last lost connection to Redis, or a forward jump of the cluster's clock
    (which made every report before it look that much older); else None."""
    seen = chunk.updated_at or chunk.started_at or 0.0
    ended = max(float((beat or {}).get("reconnected") or 0.0), jumped)
    return ended if ended and seen < ended else None


def check_jobs(
    service: WorkerHooks, now: float | None = None, mono: float | None = None
) -> dict[str, int]:
    """Requeue chunks of lost nodes and copy stragglers onto idle slots; return counts.
    ``now`` is cluster time, ``mono`` this machine's monotonic clock (tests give both)."""
    now = service.store.now() if now is None else now
    mono = time.monotonic() if mono is None else mono
    store, dispatcher = service.store, service.dispatcher
    gap, jumped = look(store.redis, now, mono, machine_id())
    if gap is not None:
        # The chunks' own reports say whether they went on meanwhile: nothing is excused.
        log.warning("the orchestrator looked at no job for %.0f s (stopped, or overloaded)", gap)
    beats = dispatcher.nodes()  # read once: every job's reconcile looks at them
    live = set(beats)
    requeued = copied = 0
    # Slots with nothing running: a chunk queued for long while slots sit idle was lost.
    idle = dispatcher.slots() - _running(store)
    for job_id in store.active():
        try:
            state = store.state(job_id)
            if state in (JobState.QUEUED, JobState.PLANNING):
                resend_lost_plan(service, job_id, state, now)
                continue
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
                requeued += dispatcher.reconcile(job_id, chunks, now, idle, beats)
        for index in lost_chunks(chunks, live, now):
            chunk = store.chunk(job_id, index)
            if chunk.state is not ChunkState.RUNNING:
                continue  # it finished (or moved on) since the snapshot
            # A live node whose chunk makes no progress (a hung decode, a stuck mount) counts
            # against the chunk as a crash does: requeued for free, it looped for ever.
            stalled = chunk.node in live
            excused = excused_until(chunk, beats.get(str(chunk.node)), jumped)
            if stalled and excused is not None:
                if now - excused <= STALLED_SECONDS:
                    continue  # Redis is back: give the chunk time to report again
                stalled = False  # its task died with the outage: no fault of its node's
            chunk.state, chunk.frames_done = ChunkState.RETRYING, 0
            if stalled:
                chunk.error = f"chunk made no progress for {STALLED_SECONDS:.0f} s on {chunk.node}"
                if chunk.node not in chunk.failed_nodes:
                    chunk.failed_nodes.append(str(chunk.node))
            elif excused is not None and excused == jumped:
                chunk.error = f"chunk stopped reporting on {chunk.node} when the clock jumped"
            elif excused is not None and chunk.node in live:
                chunk.error = f"chunk stopped reporting on {chunk.node} while Redis was away"
            else:
                chunk.error = f"chunk stopped reporting on {chunk.node}"
            if not store.save_chunk(job_id, chunk):
                continue  # finished in the meantime: nothing to requeue
            if stalled:
                store.redis.hincrby(keys.failures(job_id), str(chunk.node), 1)
                if service.given_up(job_id, chunk):
                    continue
            store.push_pending(job_id, [index])
            reason = "stalled" if stalled else "lost"
            service.publish(job_id, "chunk_requeued", chunk=index, reason=reason, node=chunk.node)
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


def resend_lost_tasks(
    service: WorkerHooks, job_id: str, state: JobState, chunk_count: int, now: float
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


def resend_lost_plan(service: WorkerHooks, job_id: str, state: JobState, now: float) -> None:
    """Send a job's plan task again when the one sent was lost or its planning abandoned."""
    store = service.store
    fields = store.get_fields(
        job_id, "plan_sent_at", "plan_started_at", "plan_alive_at", "effective_priority"
    )
    sent, started = fields["plan_sent_at"] or 0.0, fields["plan_started_at"] or 0.0
    how = lost_plan(state, sent, started, now, fields["plan_alive_at"] or 0.0)
    if how is None:
        return
    store.update(job_id, plan_sent_at=now)
    service.app.send_task(
        TASK_PLAN_JOB,
        args=[job_id],
        kwargs={"takeover": how == "takeover"},
        queue=QUEUE_ORCHESTRATOR,
        priority=PRIORITIES[fields["effective_priority"] or "normal"],
    )
    service.publish(job_id, "task_resent", task="plan")


def _running(store: JobStore) -> int:
    """Chunks running now, over all active jobs."""
    running = 0
    for job_id in store.active():
        try:
            running += sum(1 for c in store.chunks(job_id) if c.state is ChunkState.RUNNING)
        except JobNotFound:
            continue
    return running
