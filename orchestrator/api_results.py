"""The typed results and errors of the Python API (orchestrator.api)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from common.errors import RenderError
from orchestrator.costing import Estimate
from orchestrator.node_roles import ROLE_RENDER, node_role


class CostLimitExceeded(RenderError):
    """A job's estimated cost is above the ceiling its submitter set."""


class JobLost(RenderError):
    """A job vanished from the job store while it was running."""


@dataclass(frozen=True)
class NodeInfo:
    """A live node, from its heartbeat."""

    name: str
    concurrency: int
    pid: int
    since: float
    last_heartbeat: float
    #: "render" (its pool processes are worker slots), "orchestrator" or "service"
    role: str = ROLE_RENDER
    queues: tuple[str, ...] = ()
    #: the autoscaled pool it was launched in and its engine's id for it (None: started by hand)
    pool: str | None = None
    instance: str | None = None
    #: chunks it runs now; draining: takes no new chunk (scale-in or interruption)
    busy: int = 0
    draining: bool = False

    @classmethod
    def from_heartbeat(cls, beat: Mapping[str, Any]) -> NodeInfo:
        """A node as its heartbeat payload (orchestrator.node_signals) describes it."""
        queues = tuple(str(q) for q in beat.get("queues") or ())
        return cls(
            str(beat["name"]),
            int(beat["concurrency"]),
            int(beat.get("pid", 0)),
            float(beat["since"]),
            float(beat["time"]),
            node_role(queues),
            queues,
            beat.get("pool") or None,
            beat.get("instance") or None,
            int(beat.get("busy") or 0),
            bool(beat.get("draining")),
        )


@dataclass(frozen=True)
class ReuseEstimate(Estimate):
    """An estimate that knows the job's chunks and how many the segment cache already holds:
    its node time, wall time and cost count only the chunks still to render."""

    #: chunks the job is split into
    chunks: int
    #: of those, chunks whose segment is cached (not rendered, not billed)
    reused_chunks: int


@dataclass(frozen=True)
class ClusterStatus:
    """What the cluster has now."""

    nodes: list[NodeInfo]
    #: pool processes of the render nodes (an orchestrator's are not render slots)
    slots: int
    queued_chunks: int
    active_jobs: int
    #: autoscaled pools (empty without a pools file); orchestrator.api_pools.PoolStatus
    pools: list[Any] = field(default_factory=list)

    @property
    def spend_per_hour(self) -> float:
        """Dollars per hour the pools' live nodes cost now."""
        return float(sum(p.spend_per_hour for p in self.pools))


@dataclass(frozen=True)
class Billing:
    """Money spent, from measured node-seconds."""

    total: float
    by_day: dict[str, float]
    jobs: dict[str, float] = field(default_factory=dict)
    #: finished jobs' estimate against actual (time and cost, errors in %), by job id
    accuracy: dict[str, dict[str, Any]] = field(default_factory=dict)


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
