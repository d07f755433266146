"""Where a GCP pool's managed instance group lives and how its instances' states read, from the
pool's options and the group's answers (pure: no API call), for ``providers.compute.gcp``.
"""

from __future__ import annotations

from dataclasses import dataclass

from providers.compute.base import PENDING, RUNNING, TERMINATING, ComputeError
from providers.compute.pools import Pool

_LEAVING_ACTIONS = frozenset({"DELETING", "ABANDONING"})
_STARTING_ACTIONS = frozenset({"CREATING", "CREATING_WITHOUT_RETRIES", "RECREATING", "VERIFYING"})
_STARTING_STATUS = frozenset({"PROVISIONING", "STAGING", "PENDING", "REPAIRING", "RESUMING"})


@dataclass(frozen=True)
class Scope:
    """Where one pool's group lives."""

    pool: str
    project: str
    zone: str
    region: str
    group: str
    template: str

    @property
    def regional(self) -> bool:
        """A regional MIG (the pool names no zone)."""
        return not self.zone

    @property
    def location(self) -> dict[str, str]:
        """The request fields that place a group call: ``zone`` or ``region``."""
        return {"region": self.region} if self.regional else {"zone": self.zone}

    @property
    def where(self) -> str:
        """The pool and group, for messages."""
        return (
            f"pool {self.pool!r} (MIG {self.group!r} in {self.project}/{self.zone or self.region})"
        )


def pool_scope(pool: Pool) -> Scope:
    """The project, location and names of `pool`'s group from its options."""
    project = pool.options.get("project", "")
    if not project:
        raise ComputeError(f"pool {pool.name!r}: options.project is required for provider 'gcp'")
    group = pool.options.get("group") or f"cloudrender-{pool.name}"
    return Scope(
        pool=pool.name,
        project=project,
        zone=pool.zone,
        region=pool.region,
        group=group,
        template=pool.options.get("template") or group,
    )


def node_state(current_action: str, instance_status: str) -> str:
    """A managed instance's PENDING/RUNNING/TERMINATING from the group's action and its status."""
    if current_action in _LEAVING_ACTIONS:
        return TERMINATING
    if current_action in _STARTING_ACTIONS or instance_status in _STARTING_STATUS:
        return PENDING
    if instance_status == "RUNNING":
        return RUNNING
    if instance_status:
        # STOPPING, STOPPED, SUSPENDED, TERMINATED...: it runs no worker now.
        return TERMINATING
    return PENDING


def option_seconds(pool: Pool, key: str, default: float) -> float:
    """A non-negative number of seconds from the pool's options."""
    raw = pool.options.get(key, str(default))
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ComputeError(f"pool {pool.name!r}: options.{key} must be seconds, not {raw!r}")
    return value
