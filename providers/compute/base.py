"""The interface every compute engine implements, and its one error type.

A pool is a group of identical nodes that the engine itself keeps at a *desired* size (an EC2
Auto Scaling group, a GCP managed instance group, an Azure scale set, a Kubernetes Deployment,
or processes on this machine). The autoscaler only ever sets that size, protects busy nodes
from the engine's own scale-in, and removes the exact nodes it drained; it never builds a fleet
of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from common.errors import RenderError

if TYPE_CHECKING:
    from providers.compute.pools import Pool

#: Provider node states: asked for and not yet running, running, on its way out.
PENDING = "pending"
RUNNING = "running"
TERMINATING = "terminating"
NODE_STATES = (PENDING, RUNNING, TERMINATING)


class ComputeError(RenderError):
    """A compute engine refused or failed a call; ``transient`` says whether retrying may help.

    The message names the pool and the engine's own reason (quota, permissions, missing group).
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient

    def __reduce__(self) -> tuple[type[ComputeError], tuple[str]]:
        return (type(self), (str(self),))


@dataclass(frozen=True)
class ProviderNode:
    """One node as its engine reports it."""

    #: the engine's id: EC2 instance id, GCE instance name, VMSS instance id, pod name, or the
    #: local node id; workers report the same id in their heartbeat (CLOUDRENDER_INSTANCE_ID)
    id: str
    pool: str
    #: PENDING, RUNNING or TERMINATING (terminated nodes are not listed)
    state: str
    #: epoch seconds the engine launched it, when it says
    launched_at: float | None = None
    #: "spot" or "on-demand"
    market: str = "on-demand"
    #: protected from the engine's own scale-in (it runs chunks)
    protected: bool = False


@runtime_checkable
class ComputeProvider(Protocol):
    """Sets a pool's size and removes chosen nodes on one compute engine."""

    #: "local", "aws", "gcp", "azure" or "kubernetes"
    name: str

    def ensure_pool(self, pool: Pool) -> None:
        """Create the pool's group if it is missing and align its bounds (idempotent)."""
        ...

    def desired(self, pool: Pool) -> int:
        """The size the engine is asked to hold now."""
        ...

    def set_desired(self, pool: Pool, count: int) -> None:
        """Ask the engine to hold `count` nodes (it launches or, if shrinking, picks victims
        itself: shrink only by removing drained nodes with ``terminate``)."""
        ...

    def nodes(self, pool: Pool) -> list[ProviderNode]:
        """The pool's nodes that are not yet terminated."""
        ...

    def protect(self, pool: Pool, node_ids: Sequence[str], protected: bool) -> None:
        """Shield nodes from (or expose them to) the engine's own scale-in."""
        ...

    def terminate(self, pool: Pool, node_id: str, *, replace: bool = False) -> None:
        """Remove one node; the desired size drops by one unless `replace` (a node that never
        booted is replaced by a fresh one)."""
        ...
