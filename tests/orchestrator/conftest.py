"""An in-process Celery worker for unit tests of the orchestrator's task bodies and signals.

Celery's own fixtures (``celery.contrib.pytest``, registered by the pytest-celery plugin): the
``celery_app`` they build is configured here with our real configuration on the session's
private Redis, and its ``celery_worker`` (a thread of this process, ``solo`` pool) consumes the
orchestrator's queue and announces itself through our node signals, as ``celery worker`` does.
End-to-end tests use real worker processes instead (``cluster`` in tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from celery import Celery
from celery.contrib.testing.worker import TestWorkController
from celery.signals import worker_ready, worker_shutdown
from celery.worker.consumer import Consumer

from common.names import QUEUE_ORCHESTRATOR
from common.settings import Settings
from orchestrator import node_signals
from orchestrator.celery_config import celery_config as our_celery_config


class SignallingWorker(TestWorkController):  # type: ignore[misc]
    """Celery's in-process test worker, with the worker signals ``celery worker`` sends.

    ``celery worker`` (``celery.apps.worker.Worker``) sends ``worker_ready`` once it consumes;
    the test worker sends only its own ``test_worker_started``. And the test worker ends with a
    cold shutdown, which sends nothing, where ``celery worker`` stopped by SIGTERM (as
    LocalWorkers stops its workers) shuts down warm and sends ``worker_shutdown``. Our node
    heartbeat starts and stops on these two signals.
    """

    def on_consumer_ready(self, consumer: Consumer) -> None:
        worker_ready.send(sender=consumer)
        super().on_consumer_ready(consumer)  # the test goes on from here

    def terminate(self, in_sighandler: bool = False) -> None:
        self.stop(in_sighandler=in_sighandler)


@pytest.fixture
def celery_config(redis_url: str) -> dict[str, Any]:
    """Our Celery configuration (``orchestrator.celery_config``) on the private Redis."""
    return our_celery_config(Settings(broker_url=redis_url, result_backend=redis_url))


@pytest.fixture(scope="session")
def celery_includes() -> list[str]:
    """The task modules the worker imports: the orchestrator's ``plan_job`` and ``tick``."""
    return ["orchestrator.tasks"]


@pytest.fixture
def node_signals_connected(celery_app: Celery, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our node signals (heartbeat on ``worker_ready``, withdrawal on ``worker_shutdown``) for
    ``celery_app``, and no other receivers of these two signals, for this test.

    ``orchestrator.celery_app`` connects its shared app's signals when imported, and that app
    would beat to the broker of the environment; fresh receiver lists, restored afterwards, keep
    it out and keep this test's handlers from outliving the test.
    """
    for signal in (worker_ready, worker_shutdown):
        monkeypatch.setattr(signal, "receivers", [])
    node_signals.connect(celery_app)


@pytest.fixture
def celery_worker_parameters(node_signals_connected: None) -> dict[str, Any]:
    """The worker consumes the orchestrator's queue and sends the worker signals (node
    heartbeat).

    No ping check: Celery's ping task would go to the default queue (render), which this
    worker does not consume.
    """
    return {
        "queues": [QUEUE_ORCHESTRATOR],
        "perform_ping_check": False,
        "WorkController": SignallingWorker,
    }
