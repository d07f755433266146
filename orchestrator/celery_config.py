"""The Celery configuration (DESIGN 5): Redis broker and backend, JSON only, acks late,
one prefetch, priority steps, routes, the orchestrator's beat schedule. Pure: settings in, dict out.
"""

from __future__ import annotations

from typing import Any

from common.names import (
    PRIORITIES,
    QUEUE_AUDIO,
    QUEUE_MERGE,
    QUEUE_ORCHESTRATOR,
    QUEUE_RENDER,
    TASK_MERGE,
    TASK_RENDER_AUDIO,
    TASK_RENDER_CHUNK,
    TASK_TICK,
)
from common.settings import Settings
from orchestrator import keys

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
        "redbeat_key_prefix": keys.REDBEAT_PREFIX,
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
