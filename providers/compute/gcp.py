"""GCP: a managed instance group (MIG) per pool, through ``google-cloud-compute`` (REST).

The pool's nodes come from an instance template (machine type, boot image, GPUs, Spot
provisioning, the worker's start-up script); the group holds ``targetSize`` of them. The
autoscaler resizes the group and removes the exact nodes it drained with ``deleteInstances``,
which lowers the target size by one per node.

Pool options (``[pools.NAME.options]``):

- ``project`` (required); the group lives in ``zone`` when the pool has one (a zonal MIG), else
  in ``region`` (a regional MIG; ``zones = "us-central1-a,us-central1-b"`` picks its zones).
- ``group`` (default ``cloudrender-NAME``), ``template`` (default: the group's name),
  ``base_instance_name`` (default: the group's name).
- ``vm_image`` (required): the boot image (Docker and, for GPU pools, the NVIDIA driver; see
  ``cloud_init``); ``disk_gb`` (50), ``disk_type`` (``pd-balanced``), ``network``
  (``global/networks/default``), ``subnetwork``, ``external_ip`` (``true``; ``false`` needs
  Cloud NAT), ``service_account`` (``default``), ``accelerator_type`` (else from ``gpu``).
- ``endpoint``: the Compute API's root URL (tests: ``http://127.0.0.1:PORT``, then without
  credentials); else Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``,
  ``gcloud auth application-default login``, or the metadata server).
- ``timeout`` (60): seconds per call; ``retry_seconds`` (60): how long throttled or failed
  calls are retried (0: never); ``operation_seconds`` (300): how long to wait for an operation.

An existing template or group is used as it is: ``ensure_pool`` creates what is missing and
changes nothing else (rolling a group to a new template is the operator's decision).

Scale-in protection: a MIG has none to set, and needs none here. The group removes nodes of its
own accord only when its target size is lowered by ``resize``, which the autoscaler never does
below what the group holds; it removes drained nodes by name with ``deleteInstances``. So
``protect`` is a no-op, and ``ProviderNode.protected`` is always False on this engine.

``terminate(..., replace=True)`` uses ``recreateInstances``: the node is deleted and created
again from the template under the same instance name, and the target size stays.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any, Self

from google.api_core import exceptions as api_exceptions
from google.api_core import retry as api_retry
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1

from providers.compute.base import ComputeError, ProviderNode
from providers.compute.cloud_init import worker_user_data
from providers.compute.gcp_errors import gcp_errors, operation_error
from providers.compute.gcp_scope import Scope, node_state, option_seconds, pool_scope
from providers.compute.gcp_template import group_body, template_body
from providers.compute.pools import Pool

__all__ = ["GcpCompute", "node_state"]

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRY_SECONDS = 60.0
DEFAULT_OPERATION_SECONDS = 300.0
#: The longest a zoneOperations.wait call blocks at the server.
_SERVER_WAIT = 120.0

_RETRIED = (
    api_exceptions.TooManyRequests,
    api_exceptions.InternalServerError,
    api_exceptions.BadGateway,
    api_exceptions.ServiceUnavailable,
    api_exceptions.GatewayTimeout,
)


class GcpCompute:
    """Sizes one managed instance group per pool and removes the exact nodes the autoscaler
    drained."""

    name = "gcp"

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        operation_seconds: float = DEFAULT_OPERATION_SECONDS,
        broker_url: str | None = None,
        storage_url: str | None = None,
    ) -> None:
        self._endpoint = endpoint
        self._timeout = timeout
        self._retry = (
            api_retry.Retry(
                predicate=api_retry.if_exception_type(*_RETRIED),
                initial=0.5,
                maximum=10.0,
                timeout=retry_seconds,
            )
            if retry_seconds > 0
            else None
        )
        self._operation_seconds = operation_seconds
        self._broker_url = broker_url
        self._storage_url = storage_url
        self._clients: dict[str, Any] = {}

    @classmethod
    def for_pool(cls, pool: Pool, **context: Any) -> Self:
        """The engine for `pool` from its options; uses the ``broker_url`` and ``storage_url``
        of `context` for the nodes' start-up script."""
        pool_scope(pool)  # a missing project is a config error: say so before any call
        return cls(
            endpoint=pool.options.get("endpoint") or None,
            timeout=option_seconds(pool, "timeout", DEFAULT_TIMEOUT),
            retry_seconds=option_seconds(pool, "retry_seconds", DEFAULT_RETRY_SECONDS),
            operation_seconds=option_seconds(pool, "operation_seconds", DEFAULT_OPERATION_SECONDS),
            broker_url=context.get("broker_url"),
            storage_url=context.get("storage_url"),
        )

    def close(self) -> None:
        """Close the clients' HTTP sessions (they are made again if the engine is used again)."""
        clients, self._clients = self._clients, {}
        for client in clients.values():
            client.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the ComputeProvider protocol ------------------------------------------------------------

    def ensure_pool(self, pool: Pool) -> None:
        """Create the pool's instance template and group if missing (existing ones stay as is)."""
        scope = pool_scope(pool)
        template_url = self._ensure_template(pool, scope)
        with gcp_errors(scope.where, "create the group"):
            groups = self._groups(scope)
            try:
                groups.get(request=self._named(scope), **self._read())
                return
            except api_exceptions.NotFound:
                pass
            body = group_body(pool, scope.group, template_url, regional=scope.regional)
            try:
                operation = groups.insert_unary(
                    request={
                        "project": scope.project,
                        **scope.location,
                        "instance_group_manager_resource": body,
                        **self._once(),
                    },
                    **self._read(),
                )
            except api_exceptions.Conflict:
                return  # created meanwhile by another process
            self._wait(scope, operation, "create the group")

    def desired(self, pool: Pool) -> int:
        """The group's target size."""
        scope = pool_scope(pool)
        with gcp_errors(scope.where, "read the group"):
            group = self._groups(scope).get(request=self._named(scope), **self._read())
        return int(group.target_size)

    def set_desired(self, pool: Pool, count: int) -> None:
        """Resize the group to `count` (the group starts or removes nodes itself)."""
        scope = pool_scope(pool)
        if not 0 <= count <= pool.max_nodes:
            raise ComputeError(
                f"{scope.where}: cannot hold {count} nodes: the pool allows 0 to {pool.max_nodes}"
            )
        action = f"resize the group to {count}"
        with gcp_errors(scope.where, action):
            operation = self._groups(scope).resize_unary(
                request={**self._named(scope), "size": count, **self._once()},
                **self._read(),
            )
            self._wait(scope, operation, action)

    def nodes(self, pool: Pool) -> list[ProviderNode]:
        """The group's instances, starting, running or being deleted."""
        scope = pool_scope(pool)
        market = "spot" if pool.spot else "on-demand"
        found = []
        for instance in self._managed(scope):
            node_id = instance.name or instance.instance.rsplit("/", 1)[-1]
            if not node_id:
                continue  # a queued request with no instance yet
            state = node_state(instance.current_action, instance.instance_status)
            found.append(ProviderNode(id=node_id, pool=pool.name, state=state, market=market))
        return found

    def protect(self, pool: Pool, node_ids: Sequence[str], protected: bool) -> None:
        """Nothing to do: a MIG removes nodes itself only when resized down, which the
        autoscaler never does below what the group holds (see the module docstring)."""

    def terminate(self, pool: Pool, node_id: str, *, replace: bool = False) -> None:
        """Delete one node (the target size drops by one), or recreate it under the same name."""
        scope = pool_scope(pool)
        url = next(
            (i.instance for i in self._managed(scope) if node_id in (i.name, _base(i.instance))),
            None,
        )
        if not url:
            raise ComputeError(f"{scope.where}: no instance {node_id!r} in the group")
        if replace:
            action = f"recreate instance {node_id!r}"
            field = (
                "region_instance_group_managers_recreate_request_resource"
                if scope.regional
                else "instance_group_managers_recreate_instances_request_resource"
            )
            body: dict[str, Any] = {"instances": [url]}
            method = "recreate_instances_unary"  # a method of both group clients
        else:
            action = f"delete instance {node_id!r}"
            field = (
                "region_instance_group_managers_delete_instances_request_resource"
                if scope.regional
                else "instance_group_managers_delete_instances_request_resource"
            )
            # Skips a node already on its way out instead of failing the whole request.
            body = {"instances": [url], "skip_instances_on_validation_error": True}
            method = "delete_instances_unary"
        with gcp_errors(scope.where, action):
            operation = getattr(self._groups(scope), method)(
                request={**self._named(scope), field: body, **self._once()},
                **self._read(),
            )
            self._wait(scope, operation, action)

    # --- helpers ---------------------------------------------------------------------------------

    def _ensure_template(self, pool: Pool, scope: Scope) -> str:
        """The URL of the pool's instance template, inserted first if missing."""
        url = f"projects/{scope.project}/global/instanceTemplates/{scope.template}"
        action = f"create instance template {scope.template!r}"
        with gcp_errors(scope.where, action):
            templates = self._client("templates", compute_v1.InstanceTemplatesClient)
            try:
                templates.get(
                    request={"project": scope.project, "instance_template": scope.template},
                    **self._read(),
                )
                return url
            except api_exceptions.NotFound:
                pass
            script = worker_user_data(
                pool, "gcp", broker_url=self._broker_url, storage_url=self._storage_url
            )
            body = template_body(pool, scope.template, script)
            try:
                operation = templates.insert_unary(
                    request={
                        "project": scope.project,
                        "instance_template_resource": body,
                        **self._once(),
                    },
                    **self._read(),
                )
            except api_exceptions.Conflict:
                return url  # inserted meanwhile by another process
            self._wait(scope, operation, action)
        return url

    def _managed(self, scope: Scope) -> list[Any]:
        """Every managed instance of the group (all pages)."""
        with gcp_errors(scope.where, "list the group's instances"):
            pager = self._groups(scope).list_managed_instances(
                request=self._named(scope), **self._read()
            )
            return list(pager)

    def _wait(self, scope: Scope, operation: Any, action: str) -> None:
        """Wait for a zonal, regional or global operation; raise what it reports."""
        deadline = time.monotonic() + self._operation_seconds
        while operation.status != compute_v1.Operation.Status.DONE:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ComputeError(
                    f"{scope.where}: cannot {action}: operation {operation.name} still running "
                    f"after {self._operation_seconds:g} s",
                    transient=True,
                )
            request = {"project": scope.project, "operation": operation.name}
            if operation.zone:
                ops = self._client("zone_operations", compute_v1.ZoneOperationsClient)
                request["zone"] = _base(operation.zone)
            elif operation.region:
                ops = self._client("region_operations", compute_v1.RegionOperationsClient)
                request["region"] = _base(operation.region)
            else:
                ops = self._client("global_operations", compute_v1.GlobalOperationsClient)
            # wait returns when the operation is done or after about two minutes, whichever first
            operation = ops.wait(
                request=request,
                timeout=min(left, _SERVER_WAIT) + self._timeout,
                retry=self._retry,
            )
        error = operation_error(operation, scope.where, action)
        if error is not None:
            raise error

    def _groups(self, scope: Scope) -> Any:
        """The zonal or regional group client."""
        if scope.regional:
            return self._client("region_groups", compute_v1.RegionInstanceGroupManagersClient)
        return self._client("groups", compute_v1.InstanceGroupManagersClient)

    def _client(self, key: str, kind: type[Any]) -> Any:
        """One client per API, made on first use (credentials are looked up then)."""
        client = self._clients.get(key)
        if client is None:
            options = ClientOptions(api_endpoint=self._endpoint) if self._endpoint else None
            # A plain-HTTP endpoint is a local fake or emulator: never send it real tokens.
            credentials: Any = None
            if self._endpoint and self._endpoint.startswith("http://"):
                credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
            # Without credentials, the client looks them up here (callers translate errors).
            client = kind(
                credentials=credentials,
                transport="rest",
                client_options=options,
            )
            self._clients[key] = client
        return client

    @staticmethod
    def _named(scope: Scope) -> dict[str, Any]:
        """The request fields naming one group."""
        return {"project": scope.project, **scope.location, "instance_group_manager": scope.group}

    def _read(self) -> dict[str, Any]:
        """Retry and timeout of one call (mutations carry a request id, so retrying is safe)."""
        return {"retry": self._retry, "timeout": self._timeout}

    @staticmethod
    def _once() -> dict[str, str]:
        """A request id: GCP runs a retried mutation with the same id only once."""
        return {"request_id": str(uuid.uuid4())}


def _base(url: str) -> str:
    """The last segment of a resource URL (``.../zones/us-central1-a`` -> ``us-central1-a``)."""
    return url.rsplit("/", 1)[-1]
