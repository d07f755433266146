"""The Celery configuration (DESIGN 5): Redis broker and backend, JSON only, acks late,
one prefetch, priority steps, routes, the orchestrator's beat schedule. Pure: settings in, dict out.

Two options harden the Redis link (docs/security.md):

- TLS: a ``rediss://`` URL verifies the server's certificate by default (the system's CAs, or
  the URL's ``ssl_ca_certs``); Celery's own backend would refuse such a URL unless it spelled
  out ``ssl_cert_reqs``. The URL's ``ssl_*`` query parameters are what the broker, the result
  backend and redbeat all get, so one URL means the same everywhere:
  ``rediss://USER:PASSWORD@HOST:6380/0?ssl_ca_certs=/etc/cloudrender/ca.crt``.
- Message signing: with ``security_key``, ``security_certificate`` and ``security_cert_store``
  set, tasks are sent signed (Celery's ``auth`` serializer) and only signed tasks from a
  certificate in the store are accepted; results stay JSON. ``celery_app`` then calls
  ``setup_security``.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from common.errors import RenderError
from common.names import (
    PRIORITIES,
    QUEUE_AUDIO,
    QUEUE_MERGE,
    QUEUE_ORCHESTRATOR,
    QUEUE_RENDER,
    TASK_AUTOSCALE,
    TASK_MERGE,
    TASK_RENDER_AUDIO,
    TASK_RENDER_CHUNK,
    TASK_SWEEP,
    TASK_TICK,
)
from common.settings import Settings
from orchestrator import keys

#: Seconds between orchestrator ticks (deadline escalation, ETA refresh, dispatch, cleanup).
TICK_SECONDS = 2.0
#: Seconds between sweeps of lost jobs' objects in storage (orchestrator.storage_sweep): a
#: listing of every job prefix is too costly for each tick, and nothing there is urgent.
SWEEP_SECONDS = 300.0

#: ``ssl_cert_reqs`` values a ``rediss://`` URL may give (the spellings Celery and redis-py take).
_CERT_REQS = {
    "required": ssl.CERT_REQUIRED,
    "optional": ssl.CERT_OPTIONAL,
    "none": ssl.CERT_NONE,
    "cert_required": ssl.CERT_REQUIRED,
    "cert_optional": ssl.CERT_OPTIONAL,
    "cert_none": ssl.CERT_NONE,
}
#: The certificate files a ``rediss://`` URL may name in its query.
_TLS_FILES = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile")


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for these settings."""
    vt = settings.visibility_timeout
    broker = settings.broker_url or "redis://127.0.0.1:6379/0"
    backend = settings.result_backend or settings.broker_url
    transport = {
        "visibility_timeout": vt,
        # kombu keeps one Redis list per priority step (0 = urgent .. 9 = low) and serves the
        # lowest step first across all queues a worker consumes.
        "priority_steps": sorted(set(PRIORITIES.values())),
    }
    return {
        "broker_url": broker,
        "result_backend": backend,
        # Set whatever the URL: configure() updates a configuration that may have had TLS.
        # redbeat takes broker_use_ssl too (its URL is the broker's).
        "broker_use_ssl": tls_options(broker) or False,
        "redis_backend_use_ssl": tls_options(backend),
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
            # A task of its own: engines' APIs can be slow, and dispatch must not wait on them.
            "autoscale": {
                "task": TASK_AUTOSCALE,
                "schedule": settings.autoscale_interval,
                "options": {"queue": QUEUE_ORCHESTRATOR, "priority": 0, "expires": 60},
            },
            "sweep": {
                "task": TASK_SWEEP,
                "schedule": SWEEP_SECONDS,
                "options": {"queue": QUEUE_ORCHESTRATOR, "priority": 0, "expires": 120},
            },
        },
        "beat_scheduler": "orchestrator.beat:ResilientScheduler",
        "redbeat_redis_url": settings.broker_url,
        "redbeat_key_prefix": keys.REDBEAT_PREFIX,
        "redbeat_lock_timeout": 30,
        # How long beat sleeps at most, and between attempts at a lock another beat holds:
        # a restarted or standby orchestrator ticks within seconds of the lock lapsing.
        "beat_max_loop_interval": 5,
        "redbeat_redis_options": {"socket_timeout": 10},
        "worker_hijack_root_logger": False,
        "cloudrender_encoder_threads": settings.encoder_threads,
        "cloudrender_job_ttl": settings.job_ttl,
        "cloudrender_redis_timeout": settings.redis_timeout,
        "cloudrender_redis_patience": settings.redis_patience,
        "cloudrender_spot": {
            "provider": settings.spot_provider,
            "endpoint": settings.spot_endpoint,
            "interval": settings.spot_interval,
        },
        **signing_options(settings),
    }


def tls_options(url: str | None) -> dict[str, Any] | None:
    """SSL options for a ``rediss://`` URL (None for any other): certificates required unless
    its ``ssl_cert_reqs`` says otherwise, plus the certificate files its query names."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme != "rediss":
        return None
    query = dict(parse_qsl(parts.query))
    options: dict[str, Any] = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    reqs = query.get("ssl_cert_reqs")
    if reqs:
        if reqs.lower() not in _CERT_REQS:
            raise RenderError(
                f"ssl_cert_reqs={reqs} in the Redis URL: use required, optional or none"
            )
        options["ssl_cert_reqs"] = _CERT_REQS[reqs.lower()]
    options.update({name: query[name] for name in _TLS_FILES if query.get(name)})
    return options


def signing_options(settings: Settings) -> dict[str, Any]:
    """Celery's message-signing settings when the settings name a key, else nothing."""
    parts = (settings.security_key, settings.security_certificate, settings.security_cert_store)
    if not any(parts):
        return {}
    if not all(parts):
        raise RenderError(
            "message signing needs a key, a certificate and a certificate store "
            "(CLOUDRENDER_SECURITY_KEY, _CERTIFICATE, _CERT_STORE)"
        )
    return {
        # Tasks signed with this node's key; only tasks signed by a certificate in the store
        # are accepted. Results and events stay JSON: they carry no instructions.
        "task_serializer": "auth",
        "accept_content": ["auth"],
        "security_key": settings.security_key,
        "security_certificate": settings.security_certificate,
        "security_cert_store": settings.security_cert_store,
        "security_digest": "sha256",
    }
