"""The Celery app: Redis broker and backend, JSON only, reliability settings (DESIGN 5).

Workers start it with ``celery -A orchestrator.celery_app:app worker`` (or ``cloudrender
worker``); its broker comes from ``CLOUDRENDER_BROKER_URL``. Clients call ``configure(url)``
before submitting when they talk to a broker chosen at run time (the embedded cluster).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from typing import Any

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

from common.names import (
    PRIORITIES,
    QUEUE_AUDIO,
    QUEUE_MERGE,
    QUEUE_ORCHESTRATOR,
    QUEUE_RENDER,
    QUEUES,
    TASK_MERGE,
    TASK_RENDER_AUDIO,
    TASK_RENDER_CHUNK,
    TASK_TICK,
)
from common.settings import Settings
from monitoring.exporter import install as _exporter_install
from orchestrator import keys
from workers import hooks
from workers.job_spec import configure_runtime

#: Seconds between orchestrator ticks (deadline escalation, ETA refresh, dispatch, cleanup).
TICK_SECONDS = 2.0


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for these settings."""
    vt = settings.visibility_timeout
    transport = {
        "visibility_timeout": vt,
        # kombu keeps one Redis list per priority step (0 = urgent .. 9 = low) and serves the
        # lowest step first across all queues a worker consumes.
        "priority_steps": sorted(set(PRIORITIES.values())),
    }
    return {
        "broker_url": settings.broker_url or "redis://127.0.0.1:6379/0",
        "result_backend": settings.result_backend or settings.broker_url,
        "broker_transport_options": transport,
        "result_backend_transport_options": {"visibility_timeout": vt},
        "broker_connection_retry_on_startup": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_track_started": True,
        "task_soft_time_limit": int(vt * 0.8),
        "task_time_limit": int(vt * 0.9),
        "result_expires": 24 * 3600,
        "result_extended": True,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "task_default_queue": QUEUE_RENDER,
        "task_default_priority": PRIORITIES["normal"],
        "task_routes": {
            TASK_RENDER_CHUNK: {"queue": QUEUE_RENDER},
            TASK_RENDER_AUDIO: {"queue": QUEUE_AUDIO},
            TASK_MERGE: {"queue": QUEUE_MERGE},
        },
        # Queues (settings.QUEUES) are declared on first use; workers pick theirs with -Q.
        "task_create_missing_queues": True,
        "beat_schedule": {
            "tick": {
                "task": TASK_TICK,
                "schedule": TICK_SECONDS,
                "options": {"queue": QUEUE_ORCHESTRATOR, "priority": 0, "expires": 30},
            },
        },
        "beat_scheduler": "orchestrator.beat:ResilientScheduler",
        "redbeat_redis_url": settings.broker_url,
        "redbeat_key_prefix": keys.PREFIX + "redbeat:",
        "redbeat_lock_timeout": 30,
        "redbeat_redis_options": {"socket_timeout": 10},
        "worker_hijack_root_logger": False,
        "cloudrender_encoder_threads": settings.encoder_threads,
        "cloudrender_job_ttl": settings.job_ttl,
        "cloudrender_spot": {
            "provider": settings.spot_provider,
            "endpoint": settings.spot_endpoint,
            "interval": settings.spot_interval,
        },
    }


def make_app(settings: Settings | None = None) -> Celery:
    """A Celery app with our tasks and configuration."""
    celery = Celery("cloudrender", include=["workers.tasks", "orchestrator.tasks"])
    celery.conf.update(celery_config(settings or Settings.from_env()))
    return celery


def configure(url: str) -> Celery:
    """Point the shared app at a broker chosen at run time (also its result backend)."""
    settings = Settings.from_env()
    app.conf.update(
        celery_config(
            Settings(
                broker_url=url,
                result_backend=url,
                storage_url=settings.storage_url,
                visibility_timeout=settings.visibility_timeout,
                encoder_threads=settings.encoder_threads,
            )
        )
    )
    return app


app = make_app()
_settings = Settings.from_env()
configure_runtime(
    encryption_key=_settings.encryption_key,
    cache_dir=_settings.cache_dir,
    cache_bytes=_settings.cache_bytes,
)


class _LazyService:
    """The job service, built on first use in each worker process (after fork)."""

    def __init__(self) -> None:
        self._service: Any = None
        self._pid = 0

    def __getattr__(self, name: str) -> Any:
        if self._service is None or self._pid != os.getpid():
            from orchestrator.job_store import JobStore
            from orchestrator.worker_hooks import WorkerHooks

            store = JobStore.from_url(
                app.conf.broker_url, finished_ttl=app.conf.cloudrender_job_ttl
            )
            self._service, self._pid = WorkerHooks(store, app), os.getpid()
        return getattr(self._service, name)


hooks.install(_LazyService())
# Prometheus exporter in each worker's main process (and the orchestrator's), values computed
# from the job store at scrape time: safe with prefork pools. Port 0 (default): none.
_exporter_install(app, port=_settings.metrics_port)
_heartbeat_stop = threading.Event()


@worker_ready.connect
def _start_heartbeat(sender: Any = None, **_: Any) -> None:
    """Advertise this worker node and its pool size every few seconds while it runs."""
    import redis

    client = redis.Redis.from_url(app.conf.broker_url)
    name = getattr(sender, "hostname", None) or socket.gethostname()
    since = time.time()
    draining = threading.Event()

    from monitoring.metrics import HostSampler

    sampler = HostSampler()
    consumer = getattr(sender, "task_consumer", None)
    queues = sorted(q.name for q in getattr(consumer, "queues", []) or [])

    def beat() -> None:
        while not _heartbeat_stop.is_set():
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
            _heartbeat_stop.wait(keys.HEARTBEAT_SECONDS)

    threading.Thread(target=beat, name="heartbeat", daemon=True).start()
    spot = app.conf.get("cloudrender_spot") or {}
    if spot.get("provider"):
        from workers.spot import DEFAULT_ENDPOINTS, SpotWatcher

        def evacuate(notice: str) -> None:
            _evacuate(client, name, notice, draining)

        endpoint = spot.get("endpoint") or DEFAULT_ENDPOINTS[spot["provider"]]
        SpotWatcher(spot["provider"], endpoint, evacuate, float(spot.get("interval", 2))).start()


#: Seconds a pre-empted worker waits for its chunks to hand themselves back before exiting.
EVACUATE_SECONDS = 20


def _evacuate(client: Any, name: str, notice: str, draining: threading.Event) -> None:
    """Stop taking work, make running chunks hand themselves back, then shut down."""
    import signal

    draining.set()
    client.set(keys.evict(name), notice, ex=600)
    for queue in QUEUES:
        app.control.cancel_consumer(queue, destination=[name])
    deadline = time.monotonic() + EVACUATE_SECONDS
    from orchestrator.job_store import JobStore

    store = JobStore.from_url(app.conf.broker_url)
    while time.monotonic() < deadline and _running_here(store, name):
        time.sleep(0.2)
    os.kill(os.getpid(), signal.SIGTERM)  # warm shutdown: nothing of ours is running now


def _running_here(store: Any, name: str) -> bool:
    from orchestrator.job_record import ChunkState, JobNotFound

    for job_id in store.active():
        try:
            if any(c.state is ChunkState.RUNNING and c.node == name for c in store.chunks(job_id)):
                return True
        except JobNotFound:
            continue
    return False


@worker_shutdown.connect
def _stop_heartbeat(sender: Any = None, **_: Any) -> None:
    """Withdraw this node's heartbeat so dispatch stops counting its slots at once."""
    import redis

    _heartbeat_stop.set()
    name = getattr(sender, "hostname", None) or socket.gethostname()
    try:
        redis.Redis.from_url(app.conf.broker_url).delete(keys.node(name))
    except redis.RedisError:
        pass
