"""A tiny Celery app for testing the embedded cluster's process handling without our tasks."""

from __future__ import annotations

import gc
import os
import sys
import time

from celery import Celery  # type: ignore[import-untyped, unused-ignore]

from common.names import QUEUE_RENDER


def make_app(broker_url: str | None, result_backend: str | None = None) -> Celery:
    """Return an app with the ``fake_app.*`` tasks, JSON only, on our ``render`` queue."""
    app = Celery(
        "fake_app", broker=broker_url, backend=result_backend or broker_url, set_as_current=False
    )
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        # LocalWorkers consumes our named queues, never Celery's default "celery" queue.
        task_default_queue=QUEUE_RENDER,
        task_acks_late=True,
        task_track_started=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
    )

    @app.task(name="fake_app.add", shared=False)  # type: ignore[untyped-decorator, unused-ignore]
    def add(x: int, y: int) -> int:
        return x + y

    @app.task(name="fake_app.sleep", shared=False)  # type: ignore[untyped-decorator, unused-ignore]
    def sleep(seconds: float) -> float:
        time.sleep(seconds)
        return seconds

    @app.task(name="fake_app.loaded", shared=False)  # type: ignore[untyped-decorator, unused-ignore]
    def loaded(module: str) -> bool:
        return module in sys.modules

    @app.task(name="fake_app.frozen", shared=False)  # type: ignore[untyped-decorator, unused-ignore]
    def frozen() -> int:
        return gc.get_freeze_count()

    return app


# What the worker process loads: the same variables ``orchestrator.celery_app`` reads.
app = make_app(
    os.environ.get("CLOUDRENDER_BROKER_URL"), os.environ.get("CLOUDRENDER_RESULT_BACKEND")
)
