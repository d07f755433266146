"""A fake Azure Resource Manager on a local port: the few Microsoft.Compute calls the Azure engine
makes on virtual machine scale sets, with every body checked against azure-mgmt-compute's own
models (azure_models.py).

No emulator of Azure Compute exists, so this server answers, under
``/subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/virtualMachineScaleSets/N``:
GET, PUT (create; a ``VirtualMachineScaleSet``), PATCH (a ``VirtualMachineScaleSetUpdate``),
POST ``/delete`` (``VirtualMachineScaleSetVMInstanceRequiredIDs``), GET ``/virtualMachines``
(``$expand=instanceView`` adds the power state), GET and PUT ``/virtualMachines/ID`` (a
``VirtualMachineScaleSetVM``), and the asynchronous operations those return
(``Azure-AsyncOperation``), which report Succeeded when polled. Every request must carry an
``api-version`` and a bearer token. State is in memory.

What it does not model: RBAC, quotas, regions' capacity, VM boot (``settle()`` stands for it),
overprovisioning, spot evictions, flexible orchestration, and most of ARM's semantic checks; the
few it makes are in ``_check_scale_set``.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from azure.mgmt.compute import models

from tests.providers.compute.azure_models import Refused, check
from tests.providers.compute.fake_http import JsonServer, Reply

TOKEN = "fake-arm-token"
SCALE_SETS = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<group>[^/]+)/providers/"
    r"Microsoft\.Compute/virtualMachineScaleSets/(?P<name>[^/]+)"
    r"(?P<rest>/delete|/virtualMachines(?:/(?P<vm>[^/]+))?)?$",
    re.IGNORECASE,
)
OPERATIONS = re.compile(
    r"^/subscriptions/[^/]+/providers/Microsoft\.Compute/locations/[^/]+/operations/(?P<id>[^/]+)$",
    re.IGNORECASE,
)


@dataclass
class ScaleSet:
    """A scale set and its VMs (instance id -> [provisioning state, power state, protected])."""

    body: dict[str, Any]
    vms: dict[str, list[Any]] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)
    next_id: int = 0


class FakeArm(JsonServer):
    """The fake ARM: ``with FakeArm() as fake: fake.endpoint``."""

    def __init__(self) -> None:
        super().__init__()
        self.scale_sets: dict[tuple[str, str, str], ScaleSet] = {}
        self.operations: dict[str, str] = {}
        #: ids of the operations polled, in order (an engine that waits polls them)
        self.polled: list[str] = []
        #: (verb, path, query, body) of every request that passed validation, in order
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []
        self._failures: list[tuple[str, str, int, str, str]] = []
        self._ids = itertools.count(1)

    # --- test controls -----------------------------------------------------------------------

    def fail(self, verb: str, suffix: str, status: int, code: str, message: str) -> None:
        """Answer the next `verb` request whose path ends with `suffix` with an ARM error."""
        with self.lock:
            self._failures.append((verb, suffix, status, code, message))

    def settle(self) -> None:
        """Every VM finishes what it was doing: created ones run, deleted ones go."""
        with self.lock:
            for scale_set in self.scale_sets.values():
                for vm_id, vm in list(scale_set.vms.items()):
                    if vm[0] == "Deleting":
                        del scale_set.vms[vm_id]
                    else:
                        vm[0], vm[1] = "Succeeded", "running"

    def vms(self, sub: str, group: str, name: str) -> dict[str, list[Any]]:
        """A scale set's VMs: instance id -> [provisioning state, power state, protected]."""
        with self.lock:
            return {k: list(v) for k, v in self.scale_sets[(sub, group, name)].vms.items()}

    def bodies(self, verb: str, suffix: str = "") -> list[Any]:
        """The bodies of the validated `verb` requests whose path ends with `suffix`."""
        return [b for v, p, _, b in self.calls if v == verb and p.lower().endswith(suffix.lower())]

    # --- request handling --------------------------------------------------------------------

    def respond(
        self, verb: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes
    ) -> Reply:
        """ARM's reply, or its error object for a refused request."""
        try:
            return self.handle(verb, path, query, headers, raw)
        except Refused as exc:
            return Reply(exc.status, {"error": {"code": exc.code, "message": str(exc)}})

    def handle(
        self, verb: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes
    ) -> Reply:
        """Check one request (token, api-version, body), then answer it from memory."""
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            raise Refused(401, "AuthenticationFailed", "Authentication failed: no valid token")
        if not query.get("api-version"):
            raise Refused(400, "MissingApiVersionParameter", "The api-version is required")
        values = {k: v[-1] for k, v in query.items()}
        operation = OPERATIONS.match(path)
        if operation and verb == "GET":
            return self._operation(operation.group("id"))
        found = SCALE_SETS.match(path)
        if found is None:
            raise Refused(404, "InvalidResourceType", f"No {verb} {path} in Microsoft.Compute")
        body = _json(raw)
        with self.lock:
            for index, (f_verb, suffix, status, code, message) in enumerate(self._failures):
                if f_verb == verb and path.lower().endswith(suffix.lower()):
                    del self._failures[index]
                    raise Refused(status, code, message)
            key = (found.group("sub"), found.group("group"), found.group("name"))
            rest, vm = (found.group("rest") or "").lower(), found.group("vm")
            if rest == "":
                handler = {"GET": self._get, "PUT": self._create, "PATCH": self._update}
            elif rest == "/delete":
                handler = {"POST": self._delete_instances}
            elif vm is None:
                handler = {"GET": self._list_vms}
            else:
                handler = {"GET": self._get_vm, "PUT": self._update_vm}
            if verb not in handler:
                raise Refused(405, "MethodNotAllowed", f"{verb} is not allowed on {path}")
            reply = handler[verb](key, vm, values, body)
            self.calls.append((verb, path, values, body))
            return reply

    def _get(self, key: tuple[str, str, str], vm: Any, q: Any, body: Any) -> Reply:
        return Reply(200, self._scale_set(key).body)

    def _create(self, key: tuple[str, str, str], vm: Any, q: Any, body: Any) -> Reply:
        check(models.VirtualMachineScaleSet, body)
        _check_scale_set(body)
        if key in self.scale_sets:
            raise Refused(409, "Conflict", "The fake updates scale sets with PATCH only")
        stored = {
            **body,
            "id": _resource_id(key),
            "name": key[2],
            "type": "Microsoft.Compute/virtualMachineScaleSets",
        }
        stored["properties"] = {**body["properties"], "provisioningState": "Succeeded"}
        scale_set = ScaleSet(stored)
        self.scale_sets[key] = scale_set
        self._resize(scale_set, int(body["sku"].get("capacity", 0)))
        return self._accepted(201, key, stored)

    def _update(self, key: tuple[str, str, str], vm: Any, q: Any, body: Any) -> Reply:
        check(models.VirtualMachineScaleSetUpdate, body)
        scale_set = self._scale_set(key)
        sku = body.get("sku") or {}
        if sku.get("name") not in (None, scale_set.body["sku"]["name"]):
            raise Refused(400, "OperationNotAllowed", "The fake does not change VM sizes")
        if "capacity" in sku:
            if sku["capacity"] < 0:
                raise Refused(400, "InvalidParameter", "sku.capacity must not be negative")
            self._resize(scale_set, sku["capacity"])
        return self._accepted(200, key, scale_set.body)

    def _delete_instances(self, key: tuple[str, str, str], vm: Any, q: Any, body: Any) -> Reply:
        check(models.VirtualMachineScaleSetVMInstanceRequiredIDs, body)
        scale_set = self._scale_set(key)
        for instance_id in body["instanceIds"]:
            if instance_id not in scale_set.vms or scale_set.vms[instance_id][0] == "Deleting":
                raise Refused(
                    400,
                    "InvalidParameter",
                    f"The provided instanceId {instance_id} is not an active Virtual Machine "
                    "Scale Set VM instanceId.",
                )
        for instance_id in body["instanceIds"]:
            scale_set.vms[instance_id][0] = "Deleting"
        scale_set.body["sku"]["capacity"] -= len(body["instanceIds"])
        return self._accepted(202, key, None)

    def _list_vms(self, key: tuple[str, str, str], vm: Any, q: dict[str, str], b: Any) -> Reply:
        scale_set = self._scale_set(key)
        expand = q.get("$expand", "").lower() == "instanceview"
        return Reply(200, {"value": [self._vm(key, i, expand) for i in scale_set.vms]})

    def _get_vm(self, key: tuple[str, str, str], vm: str, q: dict[str, str], b: Any) -> Reply:
        self._member(key, vm)
        expand = q.get("$expand", "").lower() == "instanceview"
        return Reply(200, self._vm(key, vm, expand))

    def _update_vm(self, key: tuple[str, str, str], vm: str, q: Any, body: Any) -> Reply:
        check(models.VirtualMachineScaleSetVM, body)
        state = self._member(key, vm)
        policy = (body.get("properties") or {}).get("protectionPolicy") or {}
        state[2] = bool(policy.get("protectFromScaleIn", False))
        return self._accepted(200, key, self._vm(key, vm, False))

    def _operation(self, operation_id: str) -> Reply:
        with self.lock:
            if operation_id not in self.operations:
                raise Refused(404, "NotFound", f"No operation {operation_id}")
            self.polled.append(operation_id)
            return Reply(
                200,
                {
                    "name": operation_id,
                    "status": "Succeeded",
                    "startTime": _now(),
                    "endTime": _now(),
                },
            )

    # --- helpers -----------------------------------------------------------------------------

    def _scale_set(self, key: tuple[str, str, str]) -> ScaleSet:
        found = self.scale_sets.get(key)
        if found is None:
            raise Refused(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.Compute/virtualMachineScaleSets/{key[2]}' under "
                f"resource group '{key[1]}' was not found.",
            )
        return found

    def _member(self, key: tuple[str, str, str], vm: str) -> list[Any]:
        state = self._scale_set(key).vms.get(vm)
        if state is None:
            raise Refused(404, "NotFound", f"The entity {key[2]}_{vm} was not found")
        return state

    def _resize(self, scale_set: ScaleSet, capacity: int) -> None:
        """New VMs start Creating; a smaller capacity removes unprotected VMs, newest first."""
        live = [i for i, vm in scale_set.vms.items() if vm[0] != "Deleting"]
        for _ in range(capacity - len(live)):
            instance_id = str(scale_set.next_id)
            scale_set.next_id += 1
            scale_set.vms[instance_id] = ["Creating", "starting", False]
            scale_set.created[instance_id] = _now()
        surplus = len(live) - capacity
        for instance_id in reversed(live):
            if surplus <= 0:
                break
            if not scale_set.vms[instance_id][2]:
                scale_set.vms[instance_id][0] = "Deleting"
                surplus -= 1
        scale_set.body["sku"]["capacity"] = capacity

    def _vm(self, key: tuple[str, str, str], instance_id: str, expand: bool) -> dict[str, Any]:
        scale_set = self.scale_sets[key]
        provisioning, power, protected = scale_set.vms[instance_id]
        properties: dict[str, Any] = {
            "provisioningState": provisioning,
            "latestModelApplied": True,
            "timeCreated": scale_set.created[instance_id],
            "protectionPolicy": {"protectFromScaleIn": protected},
            "hardwareProfile": {"vmSize": scale_set.body["sku"]["name"]},
        }
        if expand:
            properties["instanceView"] = {
                "statuses": [
                    {"code": f"ProvisioningState/{provisioning.lower()}"},
                    {"code": f"PowerState/{power}"},
                ]
            }
        return {
            "id": f"{_resource_id(key)}/virtualMachines/{instance_id}",
            "name": f"{key[2]}_{instance_id}",
            "type": "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
            "location": scale_set.body["location"],
            "instanceId": instance_id,
            "sku": {"name": scale_set.body["sku"]["name"], "tier": "Standard"},
            "properties": properties,
        }

    def _accepted(self, status: int, key: tuple[str, str, str], body: Any) -> Reply:
        """A reply that starts a long-running operation, Succeeded when polled."""
        operation_id = f"op-{next(self._ids)}"
        self.operations[operation_id] = "Succeeded"
        location = self.scale_sets[key].body["location"]
        url = (
            f"{self.endpoint}/subscriptions/{key[0]}/providers/Microsoft.Compute/locations/"
            f"{location}/operations/{operation_id}?api-version=2026-04-01"
        )
        headers = {"Azure-AsyncOperation": url}
        if status == 202:
            headers["Location"] = url
        return Reply(status, body, headers)


def _check_scale_set(body: dict[str, Any]) -> None:
    """ARM's checks on a new uniform scale set that its models cannot express, as far as
    modelled: a VM profile with an image, an OS profile that can sign in, a subnet, and the
    eviction policy and price that only Spot takes."""
    properties = body.get("properties") or {}
    if properties.get("orchestrationMode", "Uniform") != "Uniform":
        raise Refused(400, "InvalidParameter", "The fake models Uniform orchestration only")
    profile = properties.get("virtualMachineProfile")
    if not profile:
        raise Refused(400, "InvalidParameter", "Uniform scale sets need a virtualMachineProfile")
    if not (body.get("sku") or {}).get("name"):
        raise Refused(400, "InvalidParameter", "Required parameter 'sku.name' is missing")
    image = (profile.get("storageProfile") or {}).get("imageReference") or {}
    if not image.get("id") and not all(image.get(k) for k in ("publisher", "offer", "sku")):
        raise Refused(400, "InvalidParameter", "storageProfile.imageReference names no image")
    os_profile = profile.get("osProfile") or {}
    if not os_profile.get("computerNamePrefix") or not os_profile.get("adminUsername"):
        raise Refused(400, "InvalidParameter", "osProfile needs computerNamePrefix, adminUsername")
    linux = os_profile.get("linuxConfiguration") or {}
    keys = (linux.get("ssh") or {}).get("publicKeys") or []
    if linux.get("disablePasswordAuthentication") and not keys:
        raise Refused(400, "InvalidParameter", "Password authentication is disabled: no SSH key")
    nics = (profile.get("networkProfile") or {}).get("networkInterfaceConfigurations") or []
    subnets = [
        ((ip.get("properties") or {}).get("subnet") or {}).get("id")
        for nic in nics
        for ip in (nic.get("properties") or {}).get("ipConfigurations") or []
    ]
    if not subnets or not all(subnets):
        raise Refused(400, "InvalidParameter", "Every IP configuration needs a subnet id")
    spot = str(profile.get("priority", "Regular")).lower() == "spot"
    if not spot and (profile.get("evictionPolicy") or profile.get("billingProfile")):
        raise Refused(
            400, "InvalidParameter", "evictionPolicy and billingProfile apply to Spot VMs only"
        )


def _json(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise Refused(
            400, "InvalidRequestContent", f"The request content is not JSON: {exc}"
        ) from None


def _resource_id(key: tuple[str, str, str]) -> str:
    return (
        f"/subscriptions/{key[0]}/resourceGroups/{key[1]}/providers/"
        f"Microsoft.Compute/virtualMachineScaleSets/{key[2]}"
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()
