"""The Celery app as worker processes load it: the orchestrator's app plus what monitoring runs
beside the tasks (the Prometheus exporter, on when ``CLOUDRENDER_METRICS_PORT`` is set).

``celery -A cli.worker_app:app worker``; `cloudrender worker`, `cloudrender orchestrator` and the
local cluster of `cloudrender render` load it. Wiring lives here, at the top, so that the
orchestrator never imports monitoring.
"""

from __future__ import annotations

from common.settings import Settings
from orchestrator.celery_app import app


def install_monitoring(settings: Settings) -> bool:
    """Wire the exporter into this worker when its settings ask for metrics (a port, or
    credentials to check); whether they did."""
    if not settings.metrics_port and settings.metrics_auth is None:
        # Off: the exporter would serve nothing, and importing it (Prometheus's client, an
        # HTTP server, the autoscaler's records) cost every private render's worker 0.2-0.4 s.
        return False
    from monitoring import exporter

    exporter.install(app, settings)
    return True


install_monitoring(Settings.from_env())

__all__ = ["app", "install_monitoring"]
