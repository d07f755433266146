"""The Celery app the service runs on (configuration in orchestrator.celery_config).

Workers start it with ``celery -A orchestrator.celery_app:app worker`` (or ``cloudrender
worker``, which adds the Prometheus exporter); its broker comes from ``CLOUDRENDER_BROKER_URL``.
Clients call ``configure(url)`` before submitting when they talk to a broker chosen at run time
(the embedded cluster). Loading this module installs the job service into ``workers.hooks`` and
the node heartbeat into the worker's signals.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from celery import Celery

from common.errors import RenderError
from common.settings import Settings
from orchestrator import node_signals
from orchestrator.celery_config import celery_config
from orchestrator.job_store import JobStore
from orchestrator.worker_hooks import WorkerHooks
from workers import hooks
from workers.job_spec import configure_runtime

#: Celery remote-control commands a node refuses. Anyone who may publish on the control
#: channel sends them, clients included (a cancel revokes chunk tasks there): shutdown would
#: stop the farm from a client's credentials. Nothing of ours sends these.
REFUSED_CONTROL = (
    "shutdown", "pool_restart", "autoscale", "rate_limit", "time_limit", "terminate",
    "election", "memdump", "memsample", "objgraph",
)  # fmt: skip


def refuse_control_commands() -> None:
    """Take REFUSED_CONTROL out of the commands this process's worker node answers."""
    from celery.worker import control

    for name in REFUSED_CONTROL:
        control.Panel.data.pop(name, None)
        control.Panel.meta.pop(name, None)


def make_app(settings: Settings | None = None) -> Celery:
    """A Celery app with our tasks and configuration (message signing if the settings say so)."""
    celery = Celery(
        "cloudrender", include=["workers.tasks", "workers.merge_task", "orchestrator.tasks"]
    )
    celery.conf.update(celery_config(settings or Settings.from_env()))
    if celery.conf.task_serializer == "auth":
        _setup_signing(celery)
    return celery


def _setup_signing(celery: Celery) -> None:
    """Register Celery's ``auth`` serializer with this node's key, certificate and store."""
    # Imported here: it needs cryptography, which only signing deployments must have.
    from celery.exceptions import ImproperlyConfigured, SecurityError

    try:
        # A process-wide registration (kombu's serializer registry). JSON stays decodable for
        # results and events; tasks are accepted as "auth" only (accept_content).
        celery.setup_security(allowed_serializers=["json"], serializer="json")
    except (OSError, ImproperlyConfigured, SecurityError) as exc:
        raise RenderError(f"message signing cannot start: {exc}") from None


def configure(url: str) -> Celery:
    """Point the shared app at a broker chosen at run time (also its result backend)."""
    settings = dataclasses.replace(Settings.from_env(), broker_url=url, result_backend=url)
    app.conf.update(celery_config(settings))
    return app


_settings = Settings.from_env()
app = make_app(_settings)
configure_runtime(
    encryption_key=_settings.encryption_key,
    cache_dir=_settings.cache_dir,
    cache_bytes=_settings.cache_bytes,
)
_service: tuple[int, WorkerHooks] | None = None


def worker_hooks() -> WorkerHooks:
    """This process's job service, built on first use in each worker process (after fork)."""
    global _service
    if _service is None or _service[0] != os.getpid():
        store = JobStore.from_url(
            app.conf.broker_url,
            finished_ttl=app.conf.cloudrender_job_ttl,
            timeout=app.conf.cloudrender_redis_timeout,
            patience=app.conf.cloudrender_redis_patience,
        )
        _service = (os.getpid(), WorkerHooks(store, app))
    return _service[1]


class _LazyHooks:
    """Forwards the task bodies' calls to this process's WorkerHooks."""

    def __getattr__(self, name: str) -> Any:
        return getattr(worker_hooks(), name)


hooks.install(_LazyHooks())
node_signals.connect(app)
refuse_control_commands()
