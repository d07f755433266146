"""Hands chunks from the job store to the broker, a few per worker slot at a time.

Keeping the broker shallow is what makes priorities and fair share work: decisions are made
here, by `scheduling.choose_dispatch`, at the last moment, not when a job is submitted.

Each job is pinned to one render fingerprint (`scheduling.choose_renderer`, kept in the job's
``renderer`` field) and its chunks go to that fingerprint's queue (``render.<fingerprint>``),
which only nodes of that fingerprint consume: nodes that may differ in a pixel never share a
job, so its lossless segments join exactly.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from common.errors import RenderError
from common.names import PRIORITIES, QUEUE_RENDER, TASK_RENDER_CHUNK, render_queue
from orchestrator import keys
from orchestrator.job_record import ChunkRecord, ChunkState, JobNotFound, JobState
from orchestrator.job_store import JobStore
from orchestrator.node_roles import takes_work
from orchestrator.scheduling import (
    Candidate,
    choose_dispatch,
    choose_renderer,
    idle_renderer_slots,
    rank,
    renderer_groups,
    stray_chunks,
)
from workers.job_spec import JobSpec

log = logging.getLogger(__name__)

#: Chunks allowed to wait in the broker per live worker slot.
DEPTH_PER_SLOT = 1
#: Seconds a dispatched chunk may wait in the broker, with slots idle, before it counts as lost.
STALE_QUEUED = 10.0
#: Milliseconds the dispatch lock outlives its holder's last renewal (a crashed dispatcher
#: cannot block others); a live holder renews it every third of this.
LOCK_MS = 5000
#: Renders of one chunk after which a fingerprint that still differs from its job's fails the
#: job (a node whose fingerprint changed under it would otherwise render the chunk for ever).
MAX_RENDERER_ATTEMPTS = 4
#: Deletes the dispatch lock only while it holds the caller's token.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
#: Extends the dispatch lock only while it holds the caller's token.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


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

    def peers(self, job_id: str, node: str) -> list[str]:
        """Live render nodes other than `node` that take the job's chunks: those of the
        fingerprint it is pinned to (every render node while it is pinned to none)."""
        renderer = self._renderer(job_id)
        return sorted(
            name
            for name, beat in self.nodes().items()
            if name != node
            and _renders(beat)
            and beat.get("scratch_room", True)  # a node on a full disk too would fail it too
            and (not renderer or str(beat.get("fingerprint") or "") == renderer)
        )

    def idle_taker(self, job_id: str, node: str, refused: Callable[[str], bool]) -> bool:
        """Whether a live render node other than `node` that takes the job's chunks (peers())
        and does not refuse them (``refused``: blocklisted) has a slot idle, as its heartbeat
        tells. A chunk a blocklisted node handed back is sent again at once only then: sent
        while none is idle, the idle refuser took it straight back, hundreds of times a
        second, until a healthy node freed up (the tick sends it meanwhile, every 2 s)."""
        renderer = self._renderer(job_id)
        for name, beat in self.nodes().items():
            if name == node or not _renders(beat) or refused(name):
                continue
            if renderer and str(beat.get("fingerprint") or "") != renderer:
                continue
            if int(beat.get("concurrency", 1)) > int(beat.get("busy") or 0):
                return True
        return False

    def slots(self) -> int:
        """Render worker processes that take work now, from their heartbeats (at least 1)."""
        return _slots(self.nodes())

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
        if not held:
            yield False
            return
        # Renewed while the block runs: a pass slower than LOCK_MS (a slow Redis, a stalled
        # send) let a second dispatcher take the lapsed lock and fill the broker beside it.
        done = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(token, done), name="dispatch-lock", daemon=True
        )
        renewer.start()
        try:
            yield True
        finally:
            done.set()
            renewer.join(timeout=LOCK_MS / 1000)
            # Checked and deleted in one step: a lock that lapsed and was taken between a
            # check and a delete was deleted from under its new holder.
            self.redis.eval(_RELEASE, 1, keys.DISPATCH_LOCK, token)

    def _renew(self, token: str, done: threading.Event) -> None:
        """Extend the lock every third of LOCK_MS until `done` (or until it is not ours)."""
        while not done.wait(LOCK_MS / 3000):
            try:
                if not self.redis.eval(_RENEW, 1, keys.DISPATCH_LOCK, token, LOCK_MS):
                    return  # lapsed and taken over: renewing another's lock would be worse
            except Exception:  # noqa: BLE001 - Redis away a moment: the next try may reach it
                continue

    def reconcile(
        self,
        job_id: str,
        chunks: list[ChunkRecord],
        now: float,
        idle: int,
        heartbeats: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> int:
        """Put back chunks that fell through the cracks; call with the lock held.

        A chunk is lost if it is neither done, running, waiting in the job store nor queued
        (a crash between taking it off the pending list and queueing it), or if it sat in the
        broker longer than STALE_QUEUED seconds while slots were idle (a message lost when
        Redis or a worker died after receiving it).

        Idle means idle in the job's render group: only nodes of its fingerprint take its
        chunks, so another group's idle slots say nothing of them. This matters because a
        worker runs a resent chunk's old message too (it does not compare task ids): counting
        chunks of a busy group as lost would queue copy after copy of them.
        """
        renderer = self._renderer(job_id)
        if renderer:
            beats = self.nodes() if heartbeats is None else heartbeats
            idle = min(idle, idle_renderer_slots(beats, renderer))
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
                if chunk.index in queued:
                    # Waiting in the job store, not in the broker: a message handed back
                    # unrun (a blocklisted node took it) kept its place in the broker's
                    # budget, and places held so by nothing stopped the job's dispatch.
                    self.redis.zrem(keys.QUEUED, f"{job_id}:{chunk.index}")
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
        pins: dict[str, str] = {}
        candidates = []
        last = self.redis.hgetall(keys.LAST_DISPATCH)
        heartbeats = self.nodes()
        groups = renderer_groups(heartbeats)
        for job_id in self.store.active():
            try:
                job = self.store.get_fields(
                    job_id, "state", "effective_priority", "submitted_at", "renderer"
                )
            except JobNotFound:  # expired meanwhile
                continue
            priorities[job_id] = str(job["effective_priority"])
            if job["state"] != JobState.RENDERING:
                continue
            # Every rendering job, not only those with chunks to send: one whose chunks all
            # wait in a vanished group's queue must move on too (pin sends them again).
            pins[job_id] = self.pin(job_id, str(job["renderer"] or ""), groups, heartbeats)
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
        depth = _slots(heartbeats) * DEPTH_PER_SLOT
        for job_id, level in choose_dispatch(candidates, queued, depth):
            index = self.store.pop_pending(job_id)
            if index is None:
                continue
            self.send_chunk(job_id, index, level, renderer=pins[job_id])
            sent += 1
        return sent

    def pin(
        self,
        job_id: str,
        current: str,
        groups: Mapping[str, int],
        heartbeats: Mapping[str, Mapping[str, Any]],
    ) -> str:
        """The render fingerprint the job's chunks go to now (scheduling.choose_renderer over
        ``current``, its planned fingerprint and the live groups of its kind, GPU or CPU),
        saved when it changes."""
        if current and groups.get(current, 0) > 0:
            return current  # the usual case, decided without reading the job's document
        planned, gpu = self._planned(job_id) if groups else ("", False)
        chosen = choose_renderer(current, planned, renderer_groups(heartbeats, gpu))
        if not chosen or chosen == current:
            # No render node is live: keep the pin, so a group that comes back gets its job back.
            return current
        self.store.update(job_id, renderer=chosen)
        if current:
            log.warning(
                "job %s: no live render node has fingerprint %s any more; its chunks go to "
                "nodes of %s now, and those rendered before render again before the merge",
                job_id,
                current,
                chosen,
            )
            self._requeue_stranded(job_id)
        return chosen

    def _requeue_stranded(self, job_id: str) -> None:
        """Dispatch again the job's chunks that wait in the broker: in a vanished group's queue
        nobody takes them (a stale copy that does run is caught by the merge check)."""
        waiting = {
            int(str(m).rsplit(":", 1)[1])
            for m in self.redis.zrange(keys.QUEUED, 0, -1)
            if str(m).startswith(job_id + ":")
        }
        todo = (ChunkState.PENDING, ChunkState.RETRYING)
        stranded = [
            c.index for c in self.store.chunks(job_id) if c.index in waiting and c.state in todo
        ]
        for index in stranded:
            self.redis.zrem(keys.QUEUED, f"{job_id}:{index}")
        self.store.push_pending(job_id, stranded)

    def _planned(self, job_id: str) -> tuple[str, bool]:
        """The fingerprint the job's content keys were made with ("" when none), and whether
        it was exported with hardware acceleration (it prefers GPU nodes)."""
        try:
            spec = self.store.spec(job_id)
            export = spec.get("export") or {}
            return str(spec.get("fingerprint") or ""), export.get("hardware_acceleration") is True
        except (JobNotFound, ValueError, AttributeError):
            return "", False

    def _renderer(self, job_id: str) -> str:
        """The fingerprint the job is pinned to ("" when none)."""
        try:
            return str(self.store.get_fields(job_id, "renderer")["renderer"] or "")
        except JobNotFound:
            return ""

    def send_chunk(
        self, job_id: str, index: int, level: str, *, renderer: str | None = None
    ) -> None:
        """Put one chunk task on its job's render queue at this priority: the queue of the
        fingerprint it is pinned to (``renderer``; read from the job when not given), or the
        shared render queue while it has none."""
        if renderer is None:
            renderer = self._renderer(job_id)
        task_id = f"{job_id}-c{index}-{uuid.uuid4().hex[:8]}"
        now = self.store.now()
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
            queue=render_queue(renderer) if renderer else QUEUE_RENDER,
            priority=PRIORITIES[level],
        )

    def rerender_strays(
        self, job_id: str, spec: JobSpec, chunks: list[ChunkRecord], pin: str
    ) -> list[int] | None:
        """Before a merge: put back to rendering the chunks rendered under another fingerprint
        than the job's (its pin, else the one most of its chunks have, which becomes its pin),
        their segments removed. Returns them (empty: the merge may go), or None when their
        segments could not be removed (nothing changed, the merge waits). RenderError when a
        chunk was rendered MAX_RENDERER_ATTEMPTS times without its fingerprint matching: it
        never will (the job fails rather than render for ever)."""
        pin, stray = stray_chunks(pin, {c.index: c.renderer for c in chunks})
        if not stray:
            return stray
        worn = [c for c in chunks if c.index in stray and c.attempts >= MAX_RENDERER_ATTEMPTS]
        if worn:
            raise RenderError(
                f"chunk {worn[0].index} was rendered {worn[0].attempts} times, each time under "
                f"another render fingerprint ({worn[0].renderer}) than the job's ({pin}): a "
                "node's code or libraries changed while it ran (an in-place upgrade?); restart "
                "its workers and submit again"
            )
        self.store.update(job_id, renderer=pin)
        try:
            storage = spec.storage()
            for index in stray:
                # Or the new attempt would take the old segment for its own (workers.tasks).
                storage.delete(spec.segment_key(index))
        except RenderError as exc:
            # The chunks stay done: the tick's check for a lost merge brings us back here.
            log.warning("job %s: segments to render again not removed: %s", job_id, exc)
            return None
        self.store.undo_parts(job_id, stray)
        self.store.push_pending(job_id, stray)
        log.warning(
            "job %s: %d chunks were rendered on nodes of another render fingerprint than %s; "
            "they render again so that the joins stay exact",
            job_id,
            len(stray),
            pin,
        )
        return stray

    def forget(self, job_id: str) -> None:
        """Drop a finished job's dispatch bookkeeping."""
        pipe = self.redis.pipeline()
        pipe.hdel(keys.LAST_DISPATCH, job_id)
        for member in self.redis.zrange(keys.QUEUED, 0, -1):
            if str(member).startswith(job_id + ":"):
                pipe.zrem(keys.QUEUED, member)
        pipe.execute()


def _renders(heartbeat: dict[str, Any]) -> bool:
    """Whether a node takes render chunks: a render node that is not draining and has room
    on its scratch disk."""
    return takes_work(heartbeat)


def _slots(heartbeats: Mapping[str, dict[str, Any]]) -> int:
    """Render worker processes that take work now, from these heartbeats (at least 1)."""
    return max(1, sum(int(d.get("concurrency", 1)) for d in heartbeats.values() if _renders(d)))
