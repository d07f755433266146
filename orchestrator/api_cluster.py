"""The Python API's cluster controls (a part of CloudRenderingAPI): nodes, slots and pools,
scaling, pausing and the emergency stop."""

from __future__ import annotations

import json
from typing import Any, overload

from common.errors import RenderError
from orchestrator import keys
from orchestrator.api_pools import PoolStatus, override_pool
from orchestrator.api_view import ClusterView
from orchestrator.autoscaler.model import Policy
from orchestrator.dispatcher import Dispatcher
from orchestrator.job_record import JobRecord
from orchestrator.node_roles import renders
from orchestrator.pool_size import MAX_SLOTS_PER_NODE
from orchestrator.scheduling import pool_changes

#: Seconds an operator's pool override lasts unless told otherwise.
DEFAULT_OVERRIDE_SECONDS = Policy().override_seconds


class ClusterControl(ClusterView):
    """Cluster methods of CloudRenderingAPI that change the cluster; they need its app and
    dispatcher besides the view's store and settings."""

    app: Any
    dispatcher: Dispatcher

    def cancel_job(self, job_id: str, reason: str = "cancelled by request") -> JobRecord:
        """Implemented by CloudRenderingAPI."""
        raise NotImplementedError

    def scale_pool(self, pool: str, nodes: int | None, duration: float | None = None) -> PoolStatus:
        """Hold an autoscaled pool at `nodes` nodes for `duration` seconds (default: the
        policy's override_seconds, one hour), whatever the autoscaler would decide; None hands
        the pool back to the autoscaler. Scale-in still drains nodes before removing them."""
        seconds = DEFAULT_OVERRIDE_SECONDS if duration is None else duration
        return override_pool(self.store.redis, pool, nodes, seconds, self.get_pools())

    @overload
    def scale_cluster(self, slots: int, nodes: None = None) -> dict[str, int]: ...

    @overload
    def scale_cluster(self, slots: str, nodes: int | None = None) -> PoolStatus: ...

    def scale_cluster(
        self, slots: int | str, nodes: int | None = None
    ) -> dict[str, int] | PoolStatus:
        """``scale_cluster("gpu-spot", 4)``: hold a pool at 4 nodes (scale_pool).
        ``scale_cluster(8)``: grow or shrink the running workers' process pools to 8 slots in
        all, spread evenly over the render nodes (an orchestrator's pool is left alone); returns
        the change per node from the sizes last asked for; heartbeats show the new sizes within
        a few seconds, and calls in quick succession end at the last size asked for.
        """
        if isinstance(slots, str):
            return self.scale_pool(slots, nodes)
        if slots < 1:
            raise RenderError(f"a cluster needs at least one worker slot, not {slots}")
        pools = self._asked_sizes()
        most = MAX_SLOTS_PER_NODE * len(pools)
        # Without a node there is nothing to hold any slot: said as such (pool_changes), not
        # as "more than the 0 render node(s) can hold: (256 in all)".
        if pools and slots > most:
            # Each slot is a process a node forks: a typo of a few zeros would fork millions.
            raise RenderError(
                f"{slots} worker slots is more than the {len(pools)} render node(s) can hold: "
                f"at most {MAX_SLOTS_PER_NODE} a node ({most} in all)"
            )
        changes = pool_changes(pools, slots)
        # Each node gets its size, not a step: it follows the key (orchestrator.pool_size), so
        # a step counted from a stale heartbeat can no longer repeat or cancel the last call's.
        pipe = self.store.redis.pipeline(transaction=True)
        for node, size in pools.items():
            pipe.set(keys.slots(node), size + changes.get(node, 0), ex=keys.SLOTS_TTL)
        pipe.execute()
        return changes

    def _asked_sizes(self) -> dict[str, int]:
        """Each live render node's pool size: the one last asked for while the node has not
        reached it, else its heartbeat's (read together, as the node removes the one after
        telling the other)."""
        names = [name for name, beat in self.store.heartbeats().items() if renders(beat)]
        pipe = self.store.redis.pipeline(transaction=True)
        for name in names:
            pipe.get(keys.slots(name))
            pipe.get(keys.node(name))
        found = pipe.execute()
        sizes: dict[str, int] = {}
        for name, asked, beat in zip(names, found[::2], found[1::2], strict=True):
            try:
                sizes[name] = (
                    int(asked) if asked is not None else int(json.loads(beat)["concurrency"])
                )
            except (TypeError, ValueError, KeyError):
                continue  # the node left meanwhile (no heartbeat now)
        return sizes

    def pause_all(self) -> None:
        """Stop handing out chunks: running ones finish, queued jobs wait."""
        self.store.redis.set(keys.PAUSED, "1")

    def resume_all(self) -> None:
        """Hand out chunks again after pause_all()."""
        self.store.redis.delete(keys.PAUSED)
        self.dispatcher.fill()

    def cancel_all(self) -> list[str]:
        """Emergency stop: cancel every unfinished job; return their ids."""
        cancelled = []
        for job_id in self.store.active():
            try:
                self.cancel_job(job_id)
                cancelled.append(job_id)
            except RenderError:
                continue  # it finished meanwhile
        return cancelled
