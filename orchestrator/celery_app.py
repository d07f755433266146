"""The Celery app: Redis broker and backend, JSON only, reliability settings (DESIGN 5).

Workers start it with ``celery -A orchestrator.celery_app:app worker`` (or ``cloudrender
worker``); its broker comes from ``CLOUDRENDER_BROKER_URL``. Clients call ``configure(url)``
before submitting when they talk to a broker chosen at run time (the embedded cluster).
"""

from __future__ import annotations

from typing import Any

from celery import Celery

from orchestrator.settings import PRIORITIES, Settings


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for these settings."""
    vt = settings.visibility_timeout
    transport = {
        "visibility_timeout": vt,
        # kombu keeps one Redis list per priority step; ours are 0 (urgent) .. 9 (low).
        "priority_steps": sorted(set(PRIORITIES.values())),
        "queue_order_strategy": "priority",
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
        "task_default_queue": "render",
        "task_default_priority": PRIORITIES["normal"],
        "task_routes": {
            "cloudrender.render_chunk": {"queue": "render"},
            "cloudrender.render_audio": {"queue": "audio"},
            "cloudrender.merge": {"queue": "merge"},
        },
        # Queues (settings.QUEUES) are declared on first use; workers pick theirs with -Q.
        "task_create_missing_queues": True,
        "worker_hijack_root_logger": False,
        "cloudrender_encoder_threads": settings.encoder_threads,
    }


def make_app(settings: Settings | None = None) -> Celery:
    """A Celery app with our tasks and configuration."""
    celery = Celery("cloudrender", include=["workers.tasks"])
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
