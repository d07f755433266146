"""A node's role from the queues its heartbeat lists: pure, so that what only reads
heartbeats (``cluster status``) loads no Celery."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from common.names import QUEUE_ORCHESTRATOR, QUEUE_RENDER

#: Roles a node's heartbeat can carry.
ROLE_RENDER = "render"
ROLE_ORCHESTRATOR = "orchestrator"
ROLE_SERVICE = "service"  # audio or merge queues only


def node_role(queues: Sequence[str]) -> str:
    """A node's role from the queues it consumes (no queue known: a render node, as before)."""
    if not queues or QUEUE_RENDER in queues:
        return ROLE_RENDER
    return ROLE_ORCHESTRATOR if QUEUE_ORCHESTRATOR in queues else ROLE_SERVICE


def renders(heartbeat: Mapping[str, Any]) -> bool:
    """Whether a heartbeat is a render node's: its pool processes are the cluster's slots."""
    return node_role(heartbeat.get("queues") or ()) == ROLE_RENDER


def takes_work(heartbeat: Mapping[str, Any]) -> bool:
    """Whether a heartbeat is a render node's that takes work now: not draining, and room on
    its scratch disk (``orchestrator.scratch_pause``)."""
    return (
        renders(heartbeat) and not heartbeat.get("draining") and not heartbeat.get("scratch_full")
    )


def orchestrates(heartbeat: Mapping[str, Any]) -> bool:
    """Whether a heartbeat is a node that plans jobs (consumes the orchestrator queue)."""
    return QUEUE_ORCHESTRATOR in (heartbeat.get("queues") or ())
