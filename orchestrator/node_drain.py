"""A worker node's drain (scale-in) and spot evacuation (``NodeDrain``), followed by the
heartbeat thread of ``orchestrator.node_signals``.

Drain (scale-in): while the key ``keys.drain(name)`` exists the node is draining: it stops
consuming its queues, lets running chunks finish, and once the key's hand-back time has passed
sets its own eviction key so that chunks still running hand themselves back. It never exits on
its own: the compute engine terminates it once its heartbeat says "drained". When the key goes
away before that (the drain was called off), it consumes its queues again.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from typing import Any

import redis
from celery import Celery
from celery.worker import state as worker_state
from kombu.exceptions import OperationalError

from common.names import QUEUES
from orchestrator import keys
from orchestrator.cluster_clock import ClusterClock
from orchestrator.job_record import ChunkState, JobNotFound
from orchestrator.job_store import JobStore

log = logging.getLogger(__name__)

#: Seconds a pre-empted worker waits for its chunks to hand themselves back before exiting.
EVACUATE_SECONDS = 20
#: Seconds after it stops consuming before a draining node may say it is drained: the control
#: message that stops the consumer is handled by the worker's own loop, a moment later.
DRAIN_SETTLE_SECONDS = 1.0
#: Seconds the eviction key set at a drain's hand-back time lasts (as a spot eviction's).
EVICT_SECONDS = 600


def busy_tasks() -> int:
    """Tasks this worker process runs now (chunks, audio, merges: each holds a slot)."""
    return len(worker_state.active_requests)


def holding_tasks() -> bool:
    """Whether this worker holds any task: running, received but not started, or due later."""
    held = (worker_state.reserved_requests, worker_state.active_requests)
    scheduled = getattr(worker_state, "scheduled_requests", ())
    return any(len(requests) for requests in (*held, scheduled))


class NodeDrain:
    """This node's drain and spot evacuation: stop consuming, finish or hand back, report."""

    def __init__(self, app: Celery, client: Any, name: str, queues: Sequence[str]) -> None:
        self.app = app
        self.client = client
        self._clock = ClusterClock(client)  # hand-back times are the autoscaler's, cluster time
        self.name = name
        self.queues = list(queues) or list(QUEUES)
        #: set while the node takes no new work (a drain or a spot evacuation)
        self.draining = threading.Event()
        self._drain_on = False
        self._evacuating = False
        self._evicted = False
        self._stopped_at: float | None = None

    def check(self) -> None:
        """Follow the drain key: start, hand back at its time, or call the drain off."""
        try:
            raw = self.client.get(keys.drain(self.name))
        except redis.RedisError:
            return  # the broker is away: keep doing what we do
        if self._evacuating:
            return  # a spot notice rules: the node leaves whatever the key says
        if raw is not None and not self._drain_on:
            self._drain_on = self._stop_consuming()
        elif raw is None and self._drain_on:
            self._drain_on = not self._resume()
            return
        if (
            self._drain_on
            and not self._evicted
            and busy_tasks()
            and self._clock.now() >= _when(raw)
        ):
            # Chunks still running at the hand-back time stop between frames and go back to
            # the queue (workers.tasks: "evicted"); they are not failures.
            try:
                self.client.set(keys.evict(self.name), "drain", ex=EVICT_SECONDS)
                self._evicted = True
            except redis.RedisError:
                pass

    def drained(self) -> bool:
        """Whether the node takes no work and holds none: it may be terminated now."""
        settled = self._stopped_at is not None and (
            time.monotonic() - self._stopped_at >= DRAIN_SETTLE_SECONDS
        )
        return self.draining.is_set() and settled and not holding_tasks()

    def evacuate(self, notice: str) -> None:
        """Spot notice: stop taking work, make running chunks hand themselves back, then shut
        down (from the spot watcher's thread)."""
        self._evacuating = True
        self.draining.set()  # no new chunk starts here, whatever Redis says from now on
        deadline = time.monotonic() + EVACUATE_SECONDS
        flagged = stopped = False
        try:
            store = JobStore.from_url(self.app.conf.broker_url)
            # Redis may be away right now (a failover, a blip): keep trying until the notice's
            # time is nearly up, then leave anyway. A notice lost to one error kept the node
            # taking new chunks until the cloud took it away mid-render.
            while time.monotonic() < deadline:
                try:
                    if not flagged:
                        self.client.set(keys.evict(self.name), notice, ex=EVICT_SECONDS)
                        flagged = True
                    if not stopped:
                        stopped = self._stop_consuming(sorted({*QUEUES, *self.queues}))
                    if stopped and not _running_here(store, self.name):
                        break
                except (redis.RedisError, OSError) as exc:
                    log.warning("spot notice: Redis unreachable (%s); trying again", exc)
                time.sleep(0.2)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # warm shutdown: nothing of ours runs now

    def _stop_consuming(self, queues: Sequence[str] | None = None) -> bool:
        """Stop consuming (the worker's own loop handles the control message); whether the
        messages went out (if not, the next look tries again)."""
        try:
            for queue in queues or self.queues:
                self.app.control.cancel_consumer(queue, destination=[self.name])
        except (OperationalError, redis.RedisError, OSError):
            return False
        self.draining.set()
        self._stopped_at = time.monotonic()
        return True

    def _resume(self) -> bool:
        """Consume the queues again and clear draining; whether that went out to the worker."""
        try:
            if self._evicted:
                self.client.delete(keys.evict(self.name))
                self._evicted = False
            for queue in self.queues:
                self.app.control.add_consumer(queue, destination=[self.name])
        except (OperationalError, redis.RedisError, OSError):
            return False
        self._stopped_at = None
        self.draining.clear()
        return True


def _when(raw: Any) -> float:
    """A drain key's hand-back time (epoch seconds); a value that is none hands back now."""
    try:
        return float(raw)
    except (TypeError, ValueError):
        return 0.0


def _running_here(store: JobStore, name: str) -> bool:
    for job_id in store.active():
        try:
            if any(c.state is ChunkState.RUNNING and c.node == name for c in store.chunks(job_id)):
                return True
        except JobNotFound:
            continue
    return False
