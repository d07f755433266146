"""Celery remote control as anyone who may publish on the control channel sends it (a client's
credentials, which a cancel needs to revoke chunk tasks): a node refuses to be shut down or
reconfigured from there, and still answers what the cluster uses."""

from __future__ import annotations

import time

from celery import Celery

from common.settings import Settings
from orchestrator.celery_app import make_app
from orchestrator.embedded import EmbeddedCluster


def _answers(client: Celery, seconds: float) -> bool:
    """Whether a worker answers a ping within `seconds` (asked again every 5 s: a worker that
    is still starting under load joins the control channel late)."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if client.control.ping(timeout=5):
            return True
    return False


def test_a_broadcast_shutdown_does_not_stop_a_worker(embedded_cluster: EmbeddedCluster) -> None:
    url = embedded_cluster.broker_url
    client: Celery = make_app(Settings(broker_url=url, result_backend=url))
    try:
        assert _answers(client, 30), "no worker answered before the broadcast"
        client.control.broadcast("shutdown")
        client.control.broadcast("pool_restart", arguments={"reload": True})
        time.sleep(2)
        assert _answers(client, 15), "the worker stopped"
        assert embedded_cluster.lost() is None
    finally:
        client.close()
