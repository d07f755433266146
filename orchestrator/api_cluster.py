"""The Python API's cluster controls (a part of CloudRenderingAPI): nodes, slots and pools,
scaling, pausing and the emergency stop."""

from __future__ import annotations

from typing import Any

from common.errors import RenderError
from common.settings import Settings
from orchestrator import keys
from orchestrator.api_pools import PoolStatus, override_pool, pool_statuses
from orchestrator.api_results import ClusterStatus, NodeInfo
from orchestrator.autoscaler.model import Policy
from orchestrator.dispatcher import Dispatcher
from orchestrator.job_record import JobRecord
from orchestrator.job_store import JobStore
from orchestrator.node_signals import ROLE_RENDER, orchestrates, renders
from orchestrator.scheduling import pool_changes
from providers.compute.pools import load_pools

#: Seconds an operator's pool override lasts unless told otherwise.
DEFAULT_OVERRIDE_SECONDS = Policy().override_seconds
#: The most worker processes ``scale_cluster`` puts on one render node.
MAX_SLOTS_PER_NODE = 256


class ClusterControl:
    """Cluster methods of CloudRenderingAPI; they need its store, app, settings and dispatcher."""

    store: JobStore
    app: Any
    settings: Settings
    dispatcher: Dispatcher

    def cancel_job(self, job_id: str, reason: str = "cancelled by request") -> JobRecord:
        """Implemented by CloudRenderingAPI."""
        raise NotImplementedError

    def get_cluster_status(self) -> ClusterStatus:
        """Live nodes (from heartbeats), render slots, queued chunks, active jobs and the
        autoscaled pools (desired, booting, running, draining, spend)."""
        nodes = [NodeInfo.from_heartbeat(b) for _, b in sorted(self.store.heartbeats().items())]
        return ClusterStatus(
            nodes,
            sum(n.concurrency for n in nodes if n.role == ROLE_RENDER),
            int(self.store.redis.zcard(keys.QUEUED)),
            len(self.store.active()),
            self.get_pools(),
        )

    def get_pools(self) -> list[PoolStatus]:
        """The autoscaled pools as the orchestrator's autoscaler last left them (and those of
        this machine's pools file, CLOUDRENDER_POOLS_FILE, it has not seen yet)."""
        config = None
        if self.settings.pools_file:
            config = load_pools(self.settings.pools_file, self.settings.pool_overrides)
        return pool_statuses(self.store.redis, config)

    def orchestrator_running(self) -> bool:
        """Whether a live node consumes the orchestrator queue (someone plans submitted jobs)."""
        return any(orchestrates(beat) for beat in self.store.heartbeats().values())

    def render_nodes(self) -> list[str]:
        """Names of the live render nodes (those whose slots render chunks)."""
        return sorted(name for name, beat in self.store.heartbeats().items() if renders(beat))

    def scale_pool(self, pool: str, nodes: int | None, duration: float | None = None) -> PoolStatus:
        """Hold an autoscaled pool at `nodes` nodes for `duration` seconds (default: the
        policy's override_seconds, one hour), whatever the autoscaler would decide; None hands
        the pool back to the autoscaler. Scale-in still drains nodes before removing them."""
        seconds = DEFAULT_OVERRIDE_SECONDS if duration is None else duration
        return override_pool(self.store.redis, pool, nodes, seconds, self.get_pools())

    def scale_cluster(self, slots: int | str, nodes: int | None = None) -> Any:
        """``scale_cluster("gpu-spot", 4)``: hold a pool at 4 nodes (scale_pool).
        ``scale_cluster(8)``: grow or shrink the running workers' process pools to 8 slots in
        all, spread evenly over the render nodes (an orchestrator's pool is left alone); returns
        the change per node; heartbeats show the new sizes within a few seconds.
        """
        if isinstance(slots, str):
            return self.scale_pool(slots, nodes)
        if slots < 1:
            raise RenderError(f"a cluster needs at least one worker slot, not {slots}")
        pools = {
            node.name: node.concurrency
            for node in self.get_cluster_status().nodes
            if node.role == ROLE_RENDER
        }
        most = MAX_SLOTS_PER_NODE * max(len(pools), 1)
        if slots > most:
            # Each slot is a process a node forks: a typo of a few zeros would fork millions.
            raise RenderError(
                f"{slots} worker slots is more than the {len(pools)} render node(s) can hold: "
                f"at most {MAX_SLOTS_PER_NODE} a node ({most} in all)"
            )
        changes = pool_changes(pools, slots)
        for node, change in changes.items():
            if change > 0:
                self.app.control.pool_grow(change, destination=[node])
            else:
                self.app.control.pool_shrink(-change, destination=[node])
        return changes

    def pause_all(self) -> None:
        """Stop handing out chunks: running ones finish, queued jobs wait."""
        self.store.redis.set(keys.PAUSED, "1")

    def resume_all(self) -> None:
        """Hand out chunks again after pause_all()."""
        self.store.redis.delete(keys.PAUSED)
        self.dispatcher.fill()

    def paused(self) -> bool:
        """Whether dispatching is paused."""
        return bool(self.store.redis.exists(keys.PAUSED))

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
