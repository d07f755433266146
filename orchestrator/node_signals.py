"""What every worker node does beside its tasks: advertise itself with a heartbeat, and leave
cleanly when its cloud announces an interruption (spot pre-emption).

`connect(app)` hooks both onto Celery's worker_ready / worker_shutdown signals; they fire in the
worker's main process only.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from typing import Any

import redis
from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from common.names import QUEUES
from orchestrator import keys
from orchestrator.job_record import ChunkState, JobNotFound
from orchestrator.job_store import JobStore
from workers.host import HostSampler
from workers.spot import DEFAULT_ENDPOINTS, SpotWatcher

#: Seconds a pre-empted worker waits for its chunks to hand themselves back before exiting.
EVACUATE_SECONDS = 20


def connect(app: Celery) -> None:
    """Start the heartbeat (and the spot watcher, if configured) with each worker of `app`."""
    stop = threading.Event()
    beats: list[threading.Thread] = []

    def started(sender: Any = None, **_: Any) -> None:
        stop.clear()  # a worker started again in this process beats again
        beats.append(_start_node(app, sender, stop))

    def stopping(sender: Any = None, **_: Any) -> None:
        stop.set()
        while beats:
            beats.pop().join(timeout=2)  # a beat in flight must not rewrite the key below
        # Withdraw the heartbeat so dispatch stops counting this node's slots at once.
        try:
            redis.Redis.from_url(app.conf.broker_url).delete(keys.node(_name(sender)))
        except redis.RedisError:
            pass

    # weak=False: the closures have no other reference and would be collected at once.
    worker_ready.connect(started, weak=False)
    worker_shutdown.connect(stopping, weak=False)


def _name(sender: Any) -> str:
    return getattr(sender, "hostname", None) or socket.gethostname()


def _start_node(app: Celery, sender: Any, stop: threading.Event) -> threading.Thread:
    """Advertise this worker node and its pool size every few seconds while it runs."""
    client = redis.Redis.from_url(app.conf.broker_url)
    name = _name(sender)
    since = time.time()
    draining = threading.Event()
    sampler = HostSampler()
    consumer = getattr(sender, "task_consumer", None)
    queues = sorted(q.name for q in getattr(consumer, "queues", []) or [])

    def beat() -> None:
        while not stop.is_set():
            pool = getattr(sender, "pool", None)
            slots = getattr(pool, "num_processes", None) or app.conf.worker_concurrency or 1
            payload = {
                "name": name,
                "concurrency": int(slots),
                "pid": os.getpid(),
                "since": since,
                "time": time.time(),
                "draining": draining.is_set(),
                "queues": queues,
                # This node's CPU and memory, so NodeMetrics show each node's own resources.
                **sampler.fields(),
            }
            try:
                client.set(keys.node(name), json.dumps(payload), ex=keys.NODE_TTL)
            except redis.RedisError:
                pass  # the broker is away; the next beat tries again
            stop.wait(keys.HEARTBEAT_SECONDS)

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    spot = app.conf.get("cloudrender_spot") or {}
    if spot.get("provider"):

        def evacuate(notice: str) -> None:
            _evacuate(app, client, name, notice, draining)

        endpoint = spot.get("endpoint") or DEFAULT_ENDPOINTS[spot["provider"]]
        SpotWatcher(spot["provider"], endpoint, evacuate, float(spot.get("interval", 2))).start()
    return thread


def _evacuate(app: Celery, client: Any, name: str, notice: str, draining: threading.Event) -> None:
    """Stop taking work, make running chunks hand themselves back, then shut down."""
    draining.set()
    client.set(keys.evict(name), notice, ex=600)
    for queue in QUEUES:
        app.control.cancel_consumer(queue, destination=[name])
    deadline = time.monotonic() + EVACUATE_SECONDS
    store = JobStore.from_url(app.conf.broker_url)
    while time.monotonic() < deadline and _running_here(store, name):
        time.sleep(0.2)
    os.kill(os.getpid(), signal.SIGTERM)  # warm shutdown: nothing of ours is running now


def _running_here(store: JobStore, name: str) -> bool:
    for job_id in store.active():
        try:
            if any(c.state is ChunkState.RUNNING and c.node == name for c in store.chunks(job_id)):
                return True
        except JobNotFound:
            continue
    return False
