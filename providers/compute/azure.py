"""Azure: a virtual machine scale set (uniform orchestration) per pool, through
``azure-mgmt-compute``.

The set's capacity (``sku.capacity``) is the pool's desired size; its VM profile carries the VM
size, the image, Spot priority for spot pools and the worker's start-up script (custom data,
run by cloud-init). The autoscaler sets the capacity, protects busy VMs from scale-in, and
removes the exact VMs it drained with ``delete_instances``, which lowers the capacity by one per
VM. Node ids are the set's instance ids (``"0"``, ``"7"``...), as the start-up script reports.

Pool options (``[pools.NAME.options]``):

- ``subscription`` and ``resource_group`` (required); the set lives in the pool's ``region``
  (and ``zone``, when given: ``"1"``, ``"2"``...). ``group`` names it (``cloudrender-NAME``).
- ``vm_image`` (required: ``Publisher:Offer:Sku:Version`` or an image resource id, with Docker
  and, for GPU pools, the NVIDIA driver), ``subnet`` (required: the subnet's resource id; it needs
  outbound access, e.g. a NAT gateway, unless ``public_ip = true``), ``ssh_public_key``
  (required), ``admin_username`` (``cloudrender``), ``disk_gb``, ``disk_type``
  (``StandardSSD_LRS``), ``computer_name_prefix``.
- Spot pools: ``eviction`` (``Delete``, the default, or ``Deallocate``: evicted VMs then stay in
  the set, stopped, listed as TERMINATING and still counted in its capacity) and ``max_price``
  (-1: up to the on-demand price).
- ``endpoint``: ARM's URL (tests: ``http://127.0.0.1:PORT``, then with a fixed test token,
  since a real one must never travel unencrypted); else ``DefaultAzureCredential`` from
  ``azure-identity`` (``az login``, ``AZURE_CLIENT_ID``/``AZURE_TENANT_ID``/
  ``AZURE_CLIENT_SECRET``, or a managed identity), which must be installed.
- ``timeout`` (60): seconds per call; ``retries`` (3): retries of a throttled or failed call;
  ``poll_seconds`` (5): between polls of a long-running operation.

An existing set is used as it is: ``ensure_pool`` creates it when missing and changes nothing
else. ``set_desired`` and ``terminate`` return once ARM accepted the change (VMs then start or
go on their own; ``nodes`` shows them doing so); ``protect`` waits for its updates.

``terminate(..., replace=True)`` deletes the VM and, once it is gone, sets the capacity back to
what it was: a VM that failed to boot gets a fresh replacement (new instance id, possibly other
hardware) rather than a reimage of the same one. Uniform orchestration only: a flexible set
(``orchestration = "flexible"``) is refused.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Self

from azure.core.credentials import AccessToken
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

from providers.compute.azure_errors import azure_errors
from providers.compute.azure_template import scale_set_body
from providers.compute.base import PENDING, RUNNING, TERMINATING, ComputeError, ProviderNode
from providers.compute.cloud_init import worker_user_data
from providers.compute.pools import Pool

__all__ = ["AzureCompute", "node_state"]

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 3
DEFAULT_POLL_SECONDS = 5.0
ARM_SCOPE = "https://management.azure.com/.default"
#: The bearer token sent to a plain-HTTP endpoint (a local fake): never a real one.
TEST_TOKEN = "fake-arm-token"

_STOPPED = frozenset({"deallocated", "deallocating", "stopped", "stopping"})


class _Scope(NamedTuple):
    """Where one pool's scale set lives."""

    pool: str
    subscription: str
    resource_group: str
    name: str

    @property
    def where(self) -> str:
        """The pool and scale set, for messages."""
        return f"pool {self.pool!r} (scale set {self.resource_group}/{self.name})"


def _scope(pool: Pool) -> _Scope:
    """The subscription, resource group and set name of `pool` from its options."""
    options = pool.options
    missing = [k for k in ("subscription", "resource_group") if not options.get(k)]
    if missing:
        raise ComputeError(
            f"pool {pool.name!r}: options.{' and options.'.join(missing)} required for "
            "provider 'azure'"
        )
    if options.get("orchestration", "uniform").lower() != "uniform":
        raise ComputeError(
            f"pool {pool.name!r}: the azure engine drives uniform scale sets only; remove "
            f"options.orchestration ({options['orchestration']!r})"
        )
    return _Scope(
        pool=pool.name,
        subscription=options["subscription"],
        resource_group=options["resource_group"],
        name=options.get("group") or f"cloudrender-{pool.name}",
    )


def node_state(provisioning: str, power: str) -> str:
    """A VM's PENDING/RUNNING/TERMINATING from its provisioning and power states."""
    provisioning, power = provisioning.lower(), power.lower()
    if provisioning == "deleting" or power in _STOPPED:
        return TERMINATING
    if provisioning in ("creating", "failed") or power == "starting":
        # A failed VM never runs a worker: its missing heartbeat gets it replaced.
        return PENDING
    return RUNNING


class _TestToken:
    """A fixed token for a plain-HTTP endpoint (tests): azure-core's TokenCredential protocol."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """The test token, valid for an hour."""
        return AccessToken(TEST_TOKEN, int(time.time()) + 3600)


class _PlainHttpPolicy(ARMChallengeAuthenticationPolicy):
    """ARM's bearer-token policy, allowed over plain HTTP (only ever with the test token)."""

    def on_request(self, request: Any) -> None:
        """Let the token go over http:// to the local endpoint."""
        request.context["enforce_https"] = False
        super().on_request(request)


@dataclass(frozen=True)
class _Settings:
    endpoint: str | None
    timeout: float
    retries: int
    poll_seconds: float


class AzureCompute:
    """Sizes one VM scale set per pool and removes the exact VMs the autoscaler drained."""

    name = "azure"

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        broker_url: str | None = None,
        storage_url: str | None = None,
    ) -> None:
        self._settings = _Settings(endpoint, timeout, retries, poll_seconds)
        self._broker_url = broker_url
        self._storage_url = storage_url
        self._clients: dict[str, Any] = {}

    @classmethod
    def for_pool(cls, pool: Pool, **context: Any) -> Self:
        """The engine for `pool` from its options; uses the ``broker_url`` and ``storage_url``
        of `context` for the nodes' start-up script."""
        _scope(pool)  # missing names are a config error: say so before any call
        retries = _number(pool, "retries", DEFAULT_RETRIES)
        return cls(
            endpoint=pool.options.get("endpoint") or None,
            timeout=_number(pool, "timeout", DEFAULT_TIMEOUT),
            retries=int(retries),
            poll_seconds=_number(pool, "poll_seconds", DEFAULT_POLL_SECONDS),
            broker_url=context.get("broker_url"),
            storage_url=context.get("storage_url"),
        )

    def close(self) -> None:
        """Close the clients' connections (they are made again if the engine is used again)."""
        clients, self._clients = self._clients, {}
        for client in clients.values():
            client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the ComputeProvider protocol ------------------------------------------------------------

    def ensure_pool(self, pool: Pool) -> None:
        """Create the pool's scale set if missing (an existing one stays as it is)."""
        scope = _scope(pool)
        with azure_errors(scope.where, "create the scale set"):
            sets = self._client(scope).virtual_machine_scale_sets
            try:
                sets.get(scope.resource_group, scope.name)
                return
            except ResourceNotFoundError:
                pass
            script = worker_user_data(
                pool, "azure", broker_url=self._broker_url, storage_url=self._storage_url
            )
            body = scale_set_body(pool, script)
            sets.begin_create_or_update(scope.resource_group, scope.name, body).result()

    def desired(self, pool: Pool) -> int:
        """The scale set's capacity."""
        scope = _scope(pool)
        with azure_errors(scope.where, "read the scale set"):
            found = self._client(scope).virtual_machine_scale_sets.get(
                scope.resource_group, scope.name
            )
        return int(found.sku.capacity or 0)

    def set_desired(self, pool: Pool, count: int) -> None:
        """Set the capacity to `count` (the set starts or removes VMs itself)."""
        scope = _scope(pool)
        if not 0 <= count <= pool.max_nodes:
            raise ComputeError(
                f"{scope.where}: cannot hold {count} nodes: the pool allows 0 to {pool.max_nodes}"
            )
        with azure_errors(scope.where, f"set the capacity to {count}"):
            self._resize(scope, count)

    def nodes(self, pool: Pool) -> list[ProviderNode]:
        """The set's VMs, starting, running or being deleted."""
        scope = _scope(pool)
        market = "spot" if pool.spot else "on-demand"
        found = []
        with azure_errors(scope.where, "list the scale set's VMs"):
            vms = self._client(scope).virtual_machine_scale_set_vms.list(
                scope.resource_group, scope.name, expand="instanceView"
            )
            for vm in vms:
                properties = vm.properties
                protection = properties.protection_policy if properties else None
                created = properties.time_created if properties else None
                found.append(
                    ProviderNode(
                        id=str(vm.instance_id),
                        pool=pool.name,
                        state=node_state(*_states(properties)),
                        launched_at=created.timestamp() if created else None,
                        market=market,
                        protected=bool(protection and protection.protect_from_scale_in),
                    )
                )
        return found

    def protect(self, pool: Pool, node_ids: Sequence[str], protected: bool) -> None:
        """Set each VM's protection from scale-in (all updates at once, then wait for them)."""
        scope = _scope(pool)
        word = "protect" if protected else "unprotect"
        with azure_errors(scope.where, f"{word} VMs {', '.join(node_ids)}"):
            vms = self._client(scope).virtual_machine_scale_set_vms
            pollers = []
            for node_id in node_ids:
                vm = vms.get(scope.resource_group, scope.name, node_id)
                policy = vm.properties.protection_policy if vm.properties else None
                if policy is not None and bool(policy.protect_from_scale_in) == protected:
                    continue
                body = vm.as_dict(exclude_readonly=True)
                body.setdefault("properties", {})["protectionPolicy"] = {
                    "protectFromScaleIn": protected
                }
                pollers.append(vms.begin_update(scope.resource_group, scope.name, node_id, body))
            for poller in pollers:
                poller.result()

    def terminate(self, pool: Pool, node_id: str, *, replace: bool = False) -> None:
        """Delete one VM (the capacity drops by one), or delete it and restore the capacity."""
        scope = _scope(pool)
        action = f"{'replace' if replace else 'delete'} VM {node_id!r}"
        with azure_errors(scope.where, action):
            sets = self._client(scope).virtual_machine_scale_sets
            request = {"instanceIds": [node_id]}
            if not replace:
                # Accepted is enough: the VM goes on its own, and nodes() shows it going.
                sets.begin_delete_instances(
                    scope.resource_group, scope.name, request, polling=False
                ).result()
                return
            capacity = int(sets.get(scope.resource_group, scope.name).sku.capacity or 0)
            # Restore the capacity only once the VM is gone, so that it cannot race the deletion.
            sets.begin_delete_instances(scope.resource_group, scope.name, request).result()
            self._resize(scope, capacity)

    # --- helpers ---------------------------------------------------------------------------------

    def _resize(self, scope: _Scope, count: int) -> None:
        """PATCH the capacity, without waiting for VMs; the set's own SKU name and tier go along,
        so the VM size can never change by accident."""
        sets = self._client(scope).virtual_machine_scale_sets
        current = sets.get(scope.resource_group, scope.name).sku
        if current.capacity == count:
            return
        sku = {"name": current.name, "capacity": count}
        if current.tier:
            sku["tier"] = current.tier
        sets.begin_update(scope.resource_group, scope.name, {"sku": sku}, polling=False).result()

    def _client(self, scope: _Scope) -> Any:
        """One ComputeManagementClient per subscription, made on first use."""
        client = self._clients.get(scope.subscription)
        if client is None:
            from azure.mgmt.compute import ComputeManagementClient

            settings = self._settings
            kwargs: dict[str, Any] = {
                "polling_interval": settings.poll_seconds,
                "retry_total": settings.retries,
                "connection_timeout": settings.timeout,
                "read_timeout": settings.timeout,
            }
            credential: Any
            if settings.endpoint and settings.endpoint.startswith("http://"):
                credential = _TestToken()
                kwargs["authentication_policy"] = _PlainHttpPolicy(credential, ARM_SCOPE)
            else:
                credential = _default_credential(scope)
            if settings.endpoint:
                kwargs["base_url"] = settings.endpoint
            client = ComputeManagementClient(credential, scope.subscription, **kwargs)
            self._clients[scope.subscription] = client
        return client


def _states(properties: Any) -> tuple[str, str]:
    """A VM's provisioning state and power state (``running``...), "" when unknown."""
    if properties is None:
        return "", ""
    power = ""
    view = properties.instance_view
    for status in (view.statuses or []) if view else []:
        code = str(status.code or "")
        if code.startswith("PowerState/"):
            power = code.removeprefix("PowerState/")
    return str(properties.provisioning_state or ""), power


def _default_credential(scope: _Scope) -> Any:
    """azure-identity's DefaultAzureCredential, or a ComputeError saying to install it."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise ComputeError(
            f"{scope.where}: azure-identity is not installed; `pip install azure-identity` to "
            "sign in to Azure (az login, a service principal or a managed identity)"
        ) from None
    return DefaultAzureCredential()


def _number(pool: Pool, key: str, default: float) -> float:
    """A non-negative number from the pool's options."""
    raw = pool.options.get(key, str(default))
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise ComputeError(f"pool {pool.name!r}: options.{key} must be a number >= 0, not {raw!r}")
    return value
