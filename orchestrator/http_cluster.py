"""The HTTP client's operator and accounting methods (a part of HTTPRenderingAPI, as
``orchestrator.api_cluster`` is of CloudRenderingAPI): billing, metrics, cluster status,
pools and scaling, pausing and the emergency stop, and the helpers the command line asks the
cluster with (paused, render_nodes, orchestrator_running). All but billing need an operator
key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

from orchestrator.api_pools import PoolStatus
from orchestrator.api_results import Billing, ClusterStatus
from orchestrator.stats import NodeMetrics, RenderMetrics
from orchestrator.wire import from_wire


class HTTPClusterControl:
    """Cluster methods of HTTPRenderingAPI; they need its ``_call``."""

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        job: bool = False,
    ) -> Any:
        """Implemented by HTTPRenderingAPI."""
        raise NotImplementedError

    def get_billing(self, days: int = 30) -> Billing:
        """Spend per day over the last ``days`` days and per job (a user key: their jobs)."""
        return from_wire(Billing, self._call("GET", "/v1/billing", params={"days": days}))

    def get_metrics(self) -> RenderMetrics:
        """The spec's RenderMetrics, measured by the service now."""
        return from_wire(RenderMetrics, self._call("GET", "/v1/metrics"))

    def get_node_metrics(self) -> list[NodeMetrics]:
        """The spec's NodeMetrics for every live worker node."""
        answer = self._call("GET", "/v1/nodes")
        nodes = answer.get("nodes", []) if isinstance(answer, dict) else answer
        return [from_wire(NodeMetrics, node) for node in nodes]

    def get_cluster_status(self) -> ClusterStatus:
        """Live nodes, render slots, queued chunks, active jobs and the autoscaled pools."""
        status = from_wire(ClusterStatus, self._call("GET", "/v1/cluster"))
        pools = [from_wire(PoolStatus, pool) for pool in status.pools]
        return ClusterStatus(
            status.nodes, status.slots, status.queued_chunks, status.active_jobs, pools
        )

    def get_pools(self) -> list[PoolStatus]:
        """The autoscaled pools as the autoscaler last left them."""
        answer = self._call("GET", "/v1/cluster/pools")
        return [from_wire(PoolStatus, pool) for pool in answer.get("pools", [])]

    def scale_pool(self, pool: str, nodes: int | None, duration: float | None = None) -> PoolStatus:
        """Hold an autoscaled pool at ``nodes`` nodes for ``duration`` seconds (None: hand it
        back to the autoscaler)."""
        body = {"pool": pool, "nodes": nodes, "duration": duration}
        return from_wire(PoolStatus, self._call("POST", "/v1/cluster/scale", json=body))

    @overload
    def scale_cluster(self, slots: int, nodes: None = None) -> dict[str, int]: ...

    @overload
    def scale_cluster(self, slots: str, nodes: int | None = None) -> PoolStatus: ...

    def scale_cluster(
        self, slots: int | str, nodes: int | None = None
    ) -> dict[str, int] | PoolStatus:
        """``scale_cluster("gpu-spot", 4)``: scale_pool; ``scale_cluster(8)``: resize the
        render workers' process pools to 8 slots in all; the change per node, as over Redis."""
        if isinstance(slots, str):
            return self.scale_pool(slots, nodes)
        answer = self._call("POST", "/v1/cluster/scale", json={"slots": slots})
        return {str(node): int(change) for node, change in answer.get("changes", {}).items()}

    def paused(self) -> bool:
        """Whether dispatching is paused."""
        return bool(self._call("GET", "/v1/cluster/paused")["paused"])

    def render_nodes(self) -> list[str]:
        """Names of the live render nodes (those whose slots render chunks)."""
        return [str(name) for name in self._call("GET", "/v1/cluster/render-nodes")["nodes"]]

    def orchestrator_running(self) -> bool:
        """Whether a live node consumes the orchestrator queue (someone plans submitted jobs)."""
        return bool(self._call("GET", "/v1/cluster/orchestrator")["running"])

    def pause_all(self) -> None:
        """Stop handing out chunks: running ones finish, queued jobs wait."""
        self._call("POST", "/v1/cluster/pause")

    def resume_all(self) -> None:
        """Hand out chunks again after pause_all()."""
        self._call("POST", "/v1/cluster/resume")

    def cancel_all(self) -> list[str]:
        """Emergency stop: cancel every unfinished job (and pause); return their ids."""
        answer = self._call("POST", "/v1/cluster/emergency-stop")
        return [str(job) for job in answer.get("cancelled", [])]
