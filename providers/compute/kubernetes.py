"""Kubernetes: one worker Deployment per pool, sized through the API or by KEDA.

The Deployments (``deploy/k8s/``) are the operator's; this engine only reads and scales them.
Pool options (``[pools.NAME.options]``):

- ``namespace`` (default ``cloudrender``), ``deployment`` (default ``cloudrender-worker-NAME``);
  the Deployment's pods carry the label ``cloudrender.io/pool=NAME``.
- ``mode``: ``deployment`` (default): the autoscaler sets the Deployment's replicas through its
  scale subresource. ``keda``: KEDA scales the Deployment from the ``cloudrender_desired_nodes``
  gauge the orchestrator exports (``deploy/k8s/keda-scaledobject.yaml``); ``set_desired`` then
  makes no API call, and ``desired`` reads what KEDA set.
- ``endpoint``: an API server URL used as is, without credentials (tests, ``kubectl proxy``);
  else ``kubeconfig`` and/or ``context``; else the pod's service account (in the cluster), else
  the default kubeconfig (the ``kubernetes`` package's own loaders find it).
- ``timeout``: seconds per API call (default 30).

Scale-in without losing work (deploy/k8s/README.md, "Scale-in"): busy pods get a high
``controller.kubernetes.io/pod-deletion-cost`` so the ReplicaSet's own scale-in takes idle ones
first; ``terminate`` gives the drained pod the lowest cost, lowers the replicas by one and
deletes the pod itself, since the controller prefers a pending or unready pod over any running
one whatever the costs. In ``keda`` mode ``terminate`` only marks the pod (reported as
terminating from then on); KEDA's next scale-in, following the lowered gauge, removes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

from kubernetes import client

from providers.compute.base import PENDING, RUNNING, TERMINATING, ComputeError, ProviderNode
from providers.compute.kubernetes_client import KubernetesApiError, api_errors, configuration
from providers.compute.pools import Pool

MODES = ("deployment", "keda")
#: Label every worker pod of a pool carries (deploy/k8s/worker-*.yaml).
POOL_LABEL = "cloudrender.io/pool"
#: The ReplicaSet controller removes pods with a lower cost first (Kubernetes >= 1.22).
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
#: Costs: a pod running chunks, an idle one, and one the autoscaler asked to remove (int32 min).
BUSY_COST = 1000
IDLE_COST = 0
DOOMED_COST = -(2**31)
#: Attempts at lowering the replicas by one when someone else changes them meanwhile.
SCALE_ATTEMPTS = 3
DEFAULT_TIMEOUT = 30.0
#: Where the manifests the engine expects live, for error messages.
MANIFESTS = "deploy/k8s/"


@dataclass(frozen=True)
class PoolTarget:
    """Where one pool lives in the cluster."""

    namespace: str
    deployment: str
    mode: str

    @property
    def where(self) -> str:
        """The Deployment as ``namespace/name``, for messages."""
        return f"{self.namespace}/{self.deployment}"


def pool_target(pool: Pool) -> PoolTarget:
    """The namespace, Deployment and mode of `pool` from its options."""
    mode = pool.options.get("mode", "deployment")
    if mode not in MODES:
        raise ComputeError(
            f"pool {pool.name!r}: options.mode {mode!r} is not one of {', '.join(MODES)}"
        )
    return PoolTarget(
        namespace=pool.options.get("namespace", "cloudrender"),
        deployment=pool.options.get("deployment", f"cloudrender-worker-{pool.name}"),
        mode=mode,
    )


class KubernetesCompute:
    """Scales one worker Deployment per pool and removes the exact pods the autoscaler drained."""

    name = "kubernetes"

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        kubeconfig: str | None = None,
        context: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._endpoint = endpoint
        self._kubeconfig = kubeconfig
        self._context = context
        self._timeout = timeout
        self._client: Any = None

    @classmethod
    def for_pool(cls, pool: Pool, **context: Any) -> Self:
        """The engine for `pool`, configured from its options (other context is not needed)."""
        pool_target(pool)  # a wrong mode is a config error: say so before any call
        raw_timeout = pool.options.get("timeout", str(DEFAULT_TIMEOUT))
        try:
            timeout = float(raw_timeout)
        except ValueError:
            raise ComputeError(
                f"pool {pool.name!r}: options.timeout must be seconds, not {raw_timeout!r}"
            ) from None
        return cls(
            endpoint=pool.options.get("endpoint") or None,
            kubeconfig=pool.options.get("kubeconfig") or None,
            context=pool.options.get("context") or None,
            timeout=timeout,
        )

    def close(self) -> None:
        """Close the API connections (the engine reconnects if used again)."""
        if self._client is not None:
            self._client.close()
            self._client.rest_client.pool_manager.clear()
            self._client = None

    def __enter__(self) -> Self:
        """The engine itself; its connections close at the end of the block."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the connections."""
        self.close()

    # -- the ComputeProvider protocol ------------------------------------------------------------

    def ensure_pool(self, pool: Pool) -> None:
        """Check the pool's Deployment exists and labels its pods with the pool (it is the
        operator's to create: deploy/k8s/)."""
        target = pool_target(pool)
        try:
            with api_errors(pool, target.where, "read Deployment"):
                deployment = self._apps().read_namespaced_deployment(
                    target.deployment, target.namespace, _request_timeout=self._timeout
                )
        except KubernetesApiError as exc:
            if exc.status != 404:
                raise
            raise ComputeError(
                f"pool {pool.name!r}: no Deployment {target.where} in the cluster; apply the "
                f"worker manifests of {MANIFESTS} or set options.deployment/namespace"
            ) from None
        labels = (deployment.spec.template.metadata.labels or {}) if deployment.spec else {}
        if labels.get(POOL_LABEL) != pool.name:
            raise ComputeError(
                f"pool {pool.name!r}: Deployment {target.where}'s pods are not labelled "
                f"{POOL_LABEL}={pool.name} (spec.template.metadata.labels; see {MANIFESTS})"
            )

    def desired(self, pool: Pool) -> int:
        """The Deployment's replicas (set by us, or by KEDA in keda mode)."""
        target = pool_target(pool)
        with api_errors(pool, target.where, "read scale of"):
            scale = self._apps().read_namespaced_deployment_scale(
                target.deployment, target.namespace, _request_timeout=self._timeout
            )
        return int(scale.spec.replicas or 0) if scale.spec else 0

    def set_desired(self, pool: Pool, count: int) -> None:
        """Set the Deployment's replicas; in keda mode KEDA sets them from the exported gauge,
        so nothing is sent."""
        if count < 0:
            raise ComputeError(f"pool {pool.name!r}: desired size {count} is negative")
        target = pool_target(pool)
        if target.mode == "keda":
            return
        with api_errors(pool, target.where, "scale"):
            self._apps().patch_namespaced_deployment_scale(
                target.deployment,
                target.namespace,
                {"spec": {"replicas": count}},
                _request_timeout=self._timeout,
            )

    def nodes(self, pool: Pool) -> list[ProviderNode]:
        """The pool's pods that have not finished: pending, running, or on their way out."""
        target = pool_target(pool)
        return [node for pod in self._pods(pool, target) if (node := _node(pool, pod)) is not None]

    def protect(self, pool: Pool, node_ids: Sequence[str], protected: bool) -> None:
        """Give busy pods a high deletion cost (idle ones 0) so the ReplicaSet's own scale-in
        takes idle pods first; pods gone or marked for removal are left alone."""
        target = pool_target(pool)
        wanted = set(node_ids)
        cost = BUSY_COST if protected else IDLE_COST
        for pod in self._pods(pool, target):
            name = pod.metadata.name
            if name not in wanted or pod.metadata.deletion_timestamp is not None:
                continue
            current = _cost(pod)
            if current != cost and current != DOOMED_COST:
                self._set_cost(pool, target, name, cost, missing_ok=True)

    def terminate(self, pool: Pool, node_id: str, *, replace: bool = False) -> None:
        """Remove pod `node_id`: lowest deletion cost, replicas minus one, then delete it
        (keda mode: only the mark; KEDA's next scale-in takes it). With `replace`, delete it
        and let the ReplicaSet start a fresh one."""
        target = pool_target(pool)
        pod = self._pod(pool, target, node_id)
        if pod.metadata.deletion_timestamp is not None:
            return  # already on its way out (a retried call)
        if replace:
            self._delete(pool, target, node_id)
            return
        self._set_cost(pool, target, node_id, DOOMED_COST, missing_ok=False)
        if target.mode == "keda":
            return
        self._decrement(pool, target)
        # The controller may have chosen a pending or unready pod over ours (those rank first
        # whatever their cost): deleting ours makes the result exact either way.
        self._delete(pool, target, node_id, missing_ok=True)

    # -- API calls -------------------------------------------------------------------------------

    def _pods(self, pool: Pool, target: PoolTarget) -> list[Any]:
        with api_errors(pool, target.where, "list pods of"):
            listing = self._core().list_namespaced_pod(
                target.namespace,
                label_selector=f"{POOL_LABEL}={pool.name}",
                _request_timeout=self._timeout,
            )
        return list(listing.items or [])

    def _pod(self, pool: Pool, target: PoolTarget, name: str) -> Any:
        try:
            with api_errors(pool, target.where, f"read pod {name} of"):
                pod = self._core().read_namespaced_pod(
                    name, target.namespace, _request_timeout=self._timeout
                )
        except KubernetesApiError as exc:
            if exc.status != 404:
                raise
            raise ComputeError(
                f"pool {pool.name!r}: no pod {name} in namespace {target.namespace} "
                f"(Deployment {target.where})"
            ) from None
        if (pod.metadata.labels or {}).get(POOL_LABEL) != pool.name:
            raise ComputeError(
                f"pool {pool.name!r}: pod {name} is not labelled {POOL_LABEL}={pool.name}; "
                "refusing to remove another pool's pod"
            )
        return pod

    def _set_cost(
        self, pool: Pool, target: PoolTarget, name: str, cost: int, *, missing_ok: bool
    ) -> None:
        body = {"metadata": {"annotations": {DELETION_COST: str(cost)}}}
        with api_errors(pool, target.where, f"annotate pod {name} of", missing_ok=missing_ok):
            self._core().patch_namespaced_pod(
                name, target.namespace, body, _request_timeout=self._timeout
            )

    def _decrement(self, pool: Pool, target: PoolTarget) -> None:
        """Replicas minus one, conditional on nobody changing them since we read them."""
        for attempt in range(SCALE_ATTEMPTS):
            with api_errors(pool, target.where, "read scale of"):
                scale = self._apps().read_namespaced_deployment_scale(
                    target.deployment, target.namespace, _request_timeout=self._timeout
                )
            replicas = int(scale.spec.replicas or 0) if scale.spec else 0
            if replicas == 0:
                return
            body = {
                "metadata": {"resourceVersion": scale.metadata.resource_version},
                "spec": {"replicas": replicas - 1},
            }
            try:
                with api_errors(pool, target.where, "scale"):
                    self._apps().patch_namespaced_deployment_scale(
                        target.deployment, target.namespace, body, _request_timeout=self._timeout
                    )
                return
            except KubernetesApiError as exc:
                if exc.status != 409 or attempt == SCALE_ATTEMPTS - 1:
                    raise

    def _delete(
        self, pool: Pool, target: PoolTarget, name: str, *, missing_ok: bool = False
    ) -> None:
        with api_errors(pool, target.where, f"delete pod {name} of", missing_ok=missing_ok):
            self._core().delete_namespaced_pod(
                name, target.namespace, _request_timeout=self._timeout
            )

    def _api(self) -> Any:
        if self._client is None:
            self._client = client.ApiClient(
                configuration(self._endpoint, self._kubeconfig, self._context)
            )
        return self._client

    def _apps(self) -> Any:
        return client.AppsV1Api(self._api())

    def _core(self) -> Any:
        return client.CoreV1Api(self._api())


def _node(pool: Pool, pod: Any) -> ProviderNode | None:
    """A pod as a provider node, or None once it has finished (Succeeded/Failed)."""
    phase = pod.status.phase if pod.status else None
    if pod.metadata.deletion_timestamp is not None or _cost(pod) == DOOMED_COST:
        state = TERMINATING
    elif phase == "Pending" or phase is None:
        state = PENDING
    elif phase in ("Running", "Unknown"):
        state = RUNNING
    else:
        return None
    created = pod.metadata.creation_timestamp
    return ProviderNode(
        id=pod.metadata.name,
        pool=pool.name,
        state=state,
        launched_at=created.timestamp() if created is not None else None,
        market=pool.market,
        protected=_cost(pod) > IDLE_COST,
    )


def _cost(pod: Any) -> int:
    """The pod's deletion cost (0 when unset or not a number, as the controller reads it)."""
    raw = (pod.metadata.annotations or {}).get(DELETION_COST)
    try:
        return int(raw) if raw is not None else IDLE_COST
    except ValueError:
        return IDLE_COST
