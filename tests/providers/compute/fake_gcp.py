"""A fake Compute Engine API on a local port: the few REST calls the GCP engine makes, with
every request checked against the real API's discovery document.

No emulator of Compute Engine exists, so this server answers instance templates (get, insert),
zonal and regional managed instance groups (get, insert, resize, listManagedInstances,
deleteInstances, recreateInstances) and operations (get, wait), keeping state in memory.

Every request is first checked against ``compute.v1.json``, the API's discovery document as
shipped with google-api-python-client (gcp_discovery.py says what is checked); a wrong one gets
the 400 Google sends, with the reason in its message.

What it does not model: IAM, quotas, zones' capacity, instance boot (``settle()`` stands for
it), autohealing, and most of the API's semantic checks; the few it makes are listed in
``_check_template``. Operations report RUNNING when returned and DONE when next polled.
"""

from __future__ import annotations

import itertools
import random
import re
import string
from dataclasses import dataclass, field
from typing import Any

from tests.providers.compute.fake_http import JsonServer, Reply
from tests.providers.compute.gcp_discovery import (
    BASE_URL,
    Refused,
    check_body,
    check_query,
    match,
)


@dataclass
class Group:
    """A managed instance group and its instances (name -> [currentAction, instanceStatus])."""

    body: dict[str, Any]
    zones: list[str]
    instances: dict[str, list[str]] = field(default_factory=dict)
    #: the zone of each instance (a regional group spreads them)
    zone_of: dict[str, str] = field(default_factory=dict)


class FakeCompute(JsonServer):
    """The fake API: ``with FakeCompute() as fake: fake.endpoint``."""

    def __init__(self) -> None:
        super().__init__()
        self.templates: dict[tuple[str, str], dict[str, Any]] = {}
        self.groups: dict[tuple[str, str, str], Group] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        #: (method id, query, body) of every request that passed validation, in order
        self.calls: list[tuple[str, dict[str, str], dict[str, Any] | None]] = []
        self._failures: dict[str, list[tuple[int, str]]] = {}
        self._op_failures: dict[str, list[tuple[str, str]]] = {}
        self._ids = itertools.count(1000)
        self._random = random.Random(7)
        #: managed instances per listManagedInstances page when the caller sets no maxResults
        self.page_size = 500

    # --- test controls -----------------------------------------------------------------------

    def fail(self, method_id: str, status: int, message: str) -> None:
        """Answer the next call of `method_id` with an HTTP error."""
        with self.lock:
            self._failures.setdefault(method_id, []).append((status, message))

    def fail_operation(self, method_id: str, code: str, message: str) -> None:
        """Let the next `method_id` be accepted but its operation end with an error."""
        with self.lock:
            self._op_failures.setdefault(method_id, []).append((code, message))

    def settle(self) -> None:
        """Every instance finishes what it was doing: created ones run, deleted ones go."""
        with self.lock:
            for group in self.groups.values():
                for name, (action, _) in list(group.instances.items()):
                    if action == "DELETING":
                        del group.instances[name]
                    else:
                        group.instances[name] = ["NONE", "RUNNING"]

    def calls_of(self, method_id: str) -> list[dict[str, Any] | None]:
        """The bodies of the validated calls of one method."""
        return [body for mid, _, body in self.calls if mid == method_id]

    # --- request handling --------------------------------------------------------------------

    def respond(
        self, verb: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes
    ) -> Reply:
        """Google's JSON reply, or its error object for a refused request."""
        try:
            return Reply(200, self.handle(verb, path, query, raw))
        except Refused as exc:
            error = {"message": str(exc), "domain": "global", "reason": exc.reason}
            return Reply(
                exc.status,
                {"error": {"code": exc.status, "message": str(exc), "errors": [error]}},
            )

    def handle(
        self, verb: str, path: str, query: dict[str, list[str]], raw: bytes
    ) -> dict[str, Any]:
        """Validate one request against the document, then answer it from memory."""
        method, params = match(verb, path)
        values = check_query(method, query)
        body = check_body(method, raw)
        method_id = method["id"]
        with self.lock:
            self.calls.append((method_id, values, body))
            failures = self._failures.get(method_id)
            if failures:
                status, message = failures.pop(0)
                raise Refused(status, message, "backendError" if status >= 500 else "invalid")
            kind, _, name = method_id.removeprefix("compute.").partition(".")
            handler = getattr(self, f"_{kind}_{name}", None)
            if handler is None:
                raise Refused(501, f"the fake does not implement {method_id}", "notImplemented")
            result: dict[str, Any] = handler(method_id, params, values, body)
            return result

    # templates

    def _instanceTemplates_get(self, mid: str, p: dict[str, str], q: Any, b: Any) -> Any:
        found = self.templates.get((p["project"], p["instanceTemplate"]))
        if found is None:
            raise _not_found(
                f"projects/{p['project']}/global/instanceTemplates/{p['instanceTemplate']}"
            )
        return found

    def _instanceTemplates_insert(self, mid: str, p: dict[str, str], q: Any, body: Any) -> Any:
        key = (p["project"], body["name"])
        if key in self.templates:
            raise Refused(
                409,
                f"The resource 'projects/{key[0]}/global/instanceTemplates/{key[1]}' "
                "already exists",
                "alreadyExists",
            )
        _check_template(body)
        link = f"{BASE_URL}projects/{key[0]}/global/instanceTemplates/{key[1]}"
        return self._operation(
            mid,
            p["project"],
            None,
            link,
            lambda: self.templates.__setitem__(
                key, {**body, "selfLink": link, "kind": "compute#instanceTemplate"}
            ),
        )

    # groups (zonal and regional share these)

    def _group(self, p: dict[str, str]) -> tuple[tuple[str, str, str], Group]:
        location = p.get("zone") or p["region"]
        key = (p["project"], location, p["instanceGroupManager"])
        group = self.groups.get(key)
        if group is None:
            kind = "zones" if "zone" in p else "regions"
            raise _not_found(f"projects/{key[0]}/{kind}/{location}/instanceGroupManagers/{key[2]}")
        return key, group

    def _instanceGroupManagers_get(self, mid: str, p: dict[str, str], q: Any, b: Any) -> Any:
        _, group = self._group(p)
        return group.body

    def _instanceGroupManagers_insert(self, mid: str, p: dict[str, str], q: Any, body: Any) -> Any:
        location = p.get("zone") or p["region"]
        key = (p["project"], location, body["name"])
        kind = "zones" if "zone" in p else "regions"
        if key in self.groups:
            raise Refused(
                409,
                f"The resource 'projects/{key[0]}/{kind}/{location}/instanceGroupManagers/"
                f"{key[2]}' already exists",
                "alreadyExists",
            )
        template = str(body.get("instanceTemplate", ""))
        found = re.search(r"(?:^|/)projects/([^/]+)/global/instanceTemplates/([^/]+)$", template)
        if not found or (found.group(1), found.group(2)) not in self.templates:
            raise Refused(
                400,
                f"Invalid value for field 'resource.instanceTemplate': {template!r}. "
                "The referenced instance template does not exist.",
            )
        if not body.get("baseInstanceName"):
            raise Refused(400, "Required field 'resource.baseInstanceName' not specified")
        zones = [location] if "zone" in p else [f"{location}-a", f"{location}-b"]
        link = f"{BASE_URL}projects/{key[0]}/{kind}/{location}/instanceGroupManagers/{key[2]}"

        def create() -> None:
            stored = {
                **body,
                "selfLink": link,
                "kind": "compute#instanceGroupManager",
                "id": str(next(self._ids)),
            }
            stored[kind[:-1]] = f"{BASE_URL}projects/{key[0]}/{kind}/{location}"
            group = Group(stored, zones)
            self.groups[key] = group
            self._grow(group, int(body["targetSize"]))

        return self._operation(mid, p["project"], p, link, create)

    def _instanceGroupManagers_resize(
        self, mid: str, p: dict[str, str], q: dict[str, str], b: Any
    ) -> Any:
        _, group = self._group(p)
        size = int(q["size"])
        if size < 0:
            raise Refused(400, "Invalid value for field 'size': must be non-negative")

        def resize() -> None:
            live = [n for n, (action, _) in group.instances.items() if action != "DELETING"]
            if size > len(live):
                self._grow(group, size - len(live))
            for name in live[size:]:
                group.instances[name] = ["DELETING", group.instances[name][1]]
            group.body["targetSize"] = size

        return self._operation(mid, p["project"], p, group.body["selfLink"], resize)

    def _instanceGroupManagers_listManagedInstances(
        self, mid: str, p: dict[str, str], q: dict[str, str], b: Any
    ) -> Any:
        _, group = self._group(p)
        size = int(q.get("maxResults", self.page_size))
        start = int(q.get("pageToken", 0))
        names = list(group.instances)
        page = []
        for name in names[start : start + size]:
            action, status = group.instances[name]
            item: dict[str, Any] = {
                "instance": self._instance_url(group, name),
                "name": name,
                "id": str(abs(hash(name)) % 10**12),
                "currentAction": action,
            }
            if status:
                item["instanceStatus"] = status
            page.append(item)
        reply: dict[str, Any] = {"managedInstances": page}
        if start + size < len(names):
            reply["nextPageToken"] = str(start + size)
        return reply

    def _instanceGroupManagers_deleteInstances(
        self, mid: str, p: dict[str, str], q: Any, body: Any
    ) -> Any:
        _, group = self._group(p)
        skip = bool(body.get("skipInstancesOnValidationError"))
        chosen = []
        for url in body.get("instances", []):
            name = self._member(group, url)
            if name is None or group.instances[name][0] == "DELETING":
                if not skip:
                    raise Refused(
                        400,
                        f"Instance {url!r} is not a member of the group or is already being "
                        "deleted",
                    )
                continue
            chosen.append(name)

        def delete() -> None:
            for name in chosen:
                group.instances[name] = ["DELETING", group.instances[name][1]]
            group.body["targetSize"] = int(group.body["targetSize"]) - len(chosen)

        return self._operation(mid, p["project"], p, group.body["selfLink"], delete)

    def _instanceGroupManagers_recreateInstances(
        self, mid: str, p: dict[str, str], q: Any, body: Any
    ) -> Any:
        _, group = self._group(p)
        chosen = []
        for url in body.get("instances", []):
            name = self._member(group, url)
            if name is None:
                raise Refused(400, f"Instance {url!r} is not a member of the group")
            chosen.append(name)

        def recreate() -> None:
            for name in chosen:
                group.instances[name] = ["RECREATING", ""]

        return self._operation(mid, p["project"], p, group.body["selfLink"], recreate)

    _regionInstanceGroupManagers_get = _instanceGroupManagers_get
    _regionInstanceGroupManagers_insert = _instanceGroupManagers_insert
    _regionInstanceGroupManagers_resize = _instanceGroupManagers_resize
    _regionInstanceGroupManagers_listManagedInstances = _instanceGroupManagers_listManagedInstances
    _regionInstanceGroupManagers_deleteInstances = _instanceGroupManagers_deleteInstances
    _regionInstanceGroupManagers_recreateInstances = _instanceGroupManagers_recreateInstances

    # operations: RUNNING when returned, DONE from the first poll on

    def _poll(self, mid: str, p: dict[str, str], q: Any, b: Any) -> Any:
        operation = self.operations.get(p["operation"])
        if operation is None:
            raise _not_found(f"operation {p['operation']}")
        operation["status"] = "DONE"
        operation["progress"] = 100
        return operation

    _zoneOperations_get = _zoneOperations_wait = _poll
    _regionOperations_get = _regionOperations_wait = _poll
    _globalOperations_get = _globalOperations_wait = _poll

    # --- helpers -----------------------------------------------------------------------------

    def _operation(
        self, mid: str, project: str, p: dict[str, str] | None, target: str, apply: Any
    ) -> dict[str, Any]:
        """Apply a change (unless a failure is queued) and return its RUNNING operation."""
        number = next(self._ids)
        operation: dict[str, Any] = {
            "kind": "compute#operation",
            "id": str(number),
            "name": f"operation-{number}",
            "operationType": mid.rsplit(".", 1)[-1],
            "targetLink": target,
            "status": "RUNNING",
            "progress": 0,
        }
        if p and "zone" in p:
            operation["zone"] = f"{BASE_URL}projects/{project}/zones/{p['zone']}"
        elif p and "region" in p:
            operation["region"] = f"{BASE_URL}projects/{project}/regions/{p['region']}"
        failures = self._op_failures.get(mid)
        if failures:
            code, message = failures.pop(0)
            operation["error"] = {"errors": [{"code": code, "message": message}]}
            operation["httpErrorStatusCode"] = 403 if "QUOTA" in code else 400
            operation["httpErrorMessage"] = "FORBIDDEN" if "QUOTA" in code else "BAD REQUEST"
        else:
            apply()
        self.operations[operation["name"]] = operation
        return dict(operation)

    def _grow(self, group: Group, count: int) -> None:
        base = group.body["baseInstanceName"]
        for _ in range(count):
            suffix = "".join(self._random.choices(string.ascii_lowercase + string.digits, k=4))
            name = f"{base}-{suffix}"
            group.instances[name] = ["CREATING", ""]
            group.zone_of[name] = group.zones[len(group.zone_of) % len(group.zones)]

    def _instance_url(self, group: Group, name: str) -> str:
        zone = group.zone_of[name]
        project = group.body["selfLink"].split("/projects/")[1].split("/")[0]
        return f"{BASE_URL}projects/{project}/zones/{zone}/instances/{name}"

    def _member(self, group: Group, url: str) -> str | None:
        """The instance a URL names, None when it is no member; a malformed URL is refused."""
        found = re.search(r"(?:^|/)zones/([^/]+)/instances/([^/]+)$", url)
        if not found:
            raise Refused(
                400, f"Invalid value for field 'instances': {url!r} is not an instance URL"
            )
        name = found.group(2)
        if name not in group.instances or group.zone_of[name] != found.group(1):
            return None
        return name

    def instances(self, project: str, location: str, group: str) -> dict[str, list[str]]:
        """A group's instances, for tests: name -> [currentAction, instanceStatus]."""
        with self.lock:
            return {
                k: list(v) for k, v in self.groups[(project, location, group)].instances.items()
            }


def _not_found(resource: str) -> Refused:
    return Refused(404, f"The resource '{resource}' was not found", "notFound")


def _check_template(body: dict[str, Any]) -> None:
    """The API's checks on a template that the schema cannot express, as far as modelled:
    a machine type and boot disk, GPUs without live migration, Spot without restarts."""
    properties = body.get("properties") or {}
    if not properties.get("machineType"):
        raise Refused(400, "Invalid value for field 'resource.properties.machineType': ''")
    disks = properties.get("disks") or []
    if sum(1 for d in disks if d.get("boot")) != 1:
        raise Refused(400, "An instance template needs exactly one boot disk")
    boot = next(d for d in disks if d.get("boot"))
    if not (boot.get("initializeParams") or {}).get("sourceImage") and not boot.get("source"):
        raise Refused(400, "The boot disk needs initializeParams.sourceImage")
    scheduling = properties.get("scheduling") or {}
    if properties.get("guestAccelerators") and scheduling.get("onHostMaintenance") != "TERMINATE":
        raise Refused(
            400,
            "Instances with guest accelerators do not support live migration: set "
            "scheduling.onHostMaintenance to TERMINATE",
        )
    if scheduling.get("provisioningModel") == "SPOT":
        if scheduling.get("automaticRestart", True):
            raise Refused(
                400,
                "Invalid value for field 'resource.properties.scheduling.automaticRestart': "
                "'true'. Spot instances cannot be automatically restarted.",
            )
        if scheduling.get("onHostMaintenance") != "TERMINATE":
            raise Refused(400, "Spot instances must set scheduling.onHostMaintenance to TERMINATE")
    if (
        scheduling.get("instanceTerminationAction")
        and scheduling.get("provisioningModel") != "SPOT"
    ):
        raise Refused(400, "instanceTerminationAction applies to Spot instances only")
