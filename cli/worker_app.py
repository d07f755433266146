"""The Celery app as worker processes load it: the orchestrator's app plus what monitoring runs
beside the tasks (the Prometheus exporter, on when ``CLOUDRENDER_METRICS_PORT`` is set).

``celery -A cli.worker_app:app worker``; `cloudrender worker`, `cloudrender orchestrator` and the
local cluster of `cloudrender render` load it. Wiring lives here, at the top, so that the
orchestrator never imports monitoring.
"""

from __future__ import annotations

from common.settings import Settings
from monitoring import exporter
from orchestrator.celery_app import app

exporter.install(app, Settings.from_env())

__all__ = ["app"]
