"""An engine that keeps its nodes in memory: for simulations, dry runs and tests of the
autoscaler's shell, the way ``LocalStorage`` stands in for a bucket. Nodes boot when the caller
says (``boot``), or after ``boot_seconds`` of the clock it is given; nothing runs on them.

It keeps the rules of the real engines that the autoscaler relies on: a size outside the
pool's ``min_nodes``..``max_nodes`` is refused (as an Auto Scaling group refuses it), scale-in
passes protected nodes over, and ``capacity`` caps the nodes it makes (spot capacity refused,
a quota): it then holds a size it does not fill, as a real group does. A node killed under it
(``kill``: a spot reclaim) is replaced, and a terminate never takes the size below
``min_nodes``: the group launches a replacement instead, as AWS does.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Self

from providers.compute.base import PENDING, RUNNING, ComputeError, ProviderNode
from providers.compute.pools import Pool


@dataclass
class _Group:
    desired: int = 0
    nodes: dict[str, ProviderNode] = field(default_factory=dict)


class MemoryCompute:
    """Pools as dictionaries; every call is recorded in ``calls`` (what a dry run prints)."""

    name = "memory"

    def __init__(self, clock: Callable[[], float] = time.time, capacity: int | None = None) -> None:
        self.clock = clock
        #: the most nodes it makes over all its pools (None: no limit)
        self.capacity = capacity
        self.groups: dict[str, _Group] = {}
        self.calls: list[str] = []
        #: set to make the next calls fail (an engine outage)
        self.failing: str | None = None
        self._ids = itertools.count(1)

    @classmethod
    def for_pool(cls, pool: Pool, **context: Any) -> Self:
        """A fresh engine (state lives in the object: share one across pools to simulate)."""
        return cls()

    def _group(self, pool: Pool) -> _Group:
        if self.failing:
            raise ComputeError(f"pool {pool.name}: {self.failing}", transient=True)
        group = self.groups.setdefault(pool.name, _Group())
        return group

    def ensure_pool(self, pool: Pool) -> None:
        """Create the pool's group if missing."""
        self._group(pool)

    def desired(self, pool: Pool) -> int:
        """The size the group holds."""
        return self._group(pool).desired

    def set_desired(self, pool: Pool, count: int) -> None:
        """Launch nodes (pending) up to `count` (within ``capacity``); shrinking removes the
        newest unprotected ones, as engines do. A size outside min..max is refused."""
        if not pool.min_nodes <= count <= pool.max_nodes:
            raise ComputeError(
                f"pool {pool.name}: cannot hold {count} nodes, the group allows "
                f"{pool.min_nodes} to {pool.max_nodes}"
            )
        group = self._group(pool)
        self.calls.append(f"set_desired {pool.name} {count}")
        group.desired = count
        self._fill(pool, group)
        newest = sorted(group.nodes.values(), key=lambda n: -(n.launched_at or 0.0))
        victims = [n for n in newest if not n.protected][: max(len(group.nodes) - count, 0)]
        for node in victims:
            del group.nodes[node.id]

    def _fill(self, pool: Pool, group: _Group) -> None:
        """Launch nodes (pending) until the group holds its size or ``capacity`` runs out."""
        while len(group.nodes) < group.desired and self._can_launch():
            node_id = f"{pool.name}-{next(self._ids)}"
            group.nodes[node_id] = ProviderNode(
                node_id, pool.name, PENDING, self.clock(), pool.market
            )

    def _can_launch(self) -> bool:
        """Whether ``capacity`` leaves room for one more node."""
        made = sum(len(group.nodes) for group in self.groups.values())
        return self.capacity is None or made < self.capacity

    def nodes(self, pool: Pool) -> list[ProviderNode]:
        """The group's nodes; pending ones older than boot_seconds are running."""
        group = self._group(pool)
        now = self.clock()
        for node_id, node in list(group.nodes.items()):
            if node.state == PENDING and now - (node.launched_at or now) >= pool.boot_seconds:
                group.nodes[node_id] = replace(node, state=RUNNING)
        return sorted(group.nodes.values(), key=lambda n: n.id)

    def protect(self, pool: Pool, node_ids: Sequence[str], protected: bool) -> None:
        """Flag nodes as protected from scale-in."""
        group = self._group(pool)
        self.calls.append(f"{'protect' if protected else 'unprotect'} {pool.name} {len(node_ids)}")
        for node_id in node_ids:
            if node_id in group.nodes:
                group.nodes[node_id] = replace(group.nodes[node_id], protected=protected)

    def terminate(self, pool: Pool, node_id: str, *, replace: bool = False) -> None:
        """Remove one node; lower the size unless `replace` or the size is the pool's
        min_nodes (an Auto Scaling group refuses to go below its minimum: it replaces)."""
        group = self._group(pool)
        self.calls.append(f"terminate {pool.name} {node_id}{' replace' if replace else ''}")
        if group.nodes.pop(node_id, None) is None:
            return
        if not replace and group.desired > pool.min_nodes:
            group.desired -= 1
        self._fill(pool, group)

    def kill(self, pool: Pool, node_id: str) -> None:
        """A node vanishes without being asked (a spot reclaim): as an Auto Scaling group, the
        group keeps its size and launches a replacement (within ``capacity``)."""
        group = self._group(pool)
        if group.nodes.pop(node_id, None) is not None:
            self._fill(pool, group)
