"""The typed results and errors of the Python API (orchestrator.api)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common.errors import RenderError


class CostLimitExceeded(RenderError):
    """A job's estimated cost is above the ceiling its submitter set."""


class JobLost(RenderError):
    """A job vanished from the job store while it was running."""


@dataclass(frozen=True)
class NodeInfo:
    """A live worker node, from its heartbeat."""

    name: str
    concurrency: int
    pid: int
    since: float
    last_heartbeat: float


@dataclass(frozen=True)
class ClusterStatus:
    """What the cluster has now."""

    nodes: list[NodeInfo]
    slots: int
    queued_chunks: int
    active_jobs: int


@dataclass(frozen=True)
class Billing:
    """Money spent, from measured node-seconds."""

    total: float
    by_day: dict[str, float]
    jobs: dict[str, float] = field(default_factory=dict)


class Subscription:
    """A live progress subscription: a thread calling back for each event; stop() ends it."""

    def __init__(
        self, pubsub: Any, callback: Callable[[dict[str, Any]], None], job_id: str | None
    ) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._listen, args=(pubsub, callback, job_id), name="progress", daemon=True
        )
        self._thread.start()

    def _listen(
        self, pubsub: Any, callback: Callable[[dict[str, Any]], None], job_id: str | None
    ) -> None:
        try:
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=0.2)
                if message is None or message.get("type") != "message":
                    continue
                event = json.loads(message["data"])
                if job_id is None or event.get("job") == job_id:
                    callback(event)
        finally:
            pubsub.close()

    def stop(self) -> None:
        """Stop delivering events and wait for the listener thread."""
        self._stop.set()
        self._thread.join(timeout=5)
