"""A small Kubernetes API server for the Kubernetes engine's tests: plain HTTP, no auth, in a
thread of the test process.

It answers the calls ``providers.compute.kubernetes`` makes, in the API's own JSON shapes (the
``kubernetes`` client deserializes every answer into its models, so a wrong shape fails there):

- ``GET/PATCH /apis/apps/v1/namespaces/NS/deployments/NAME/scale`` (a strategic-merge or merge
  patch; ``metadata.resourceVersion`` in the patch is a precondition, as on a real server);
- ``GET /apis/apps/v1/namespaces/NS/deployments/NAME``;
- ``GET /api/v1/namespaces/NS/pods?labelSelector=k=v,...`` and ``GET .../pods/NAME``;
- ``PATCH .../pods/NAME`` (annotations and labels, merge semantics: null removes a key);
- ``DELETE .../pods/NAME``.

Behind each Deployment it plays the ReplicaSet controller: on a replica change or a pod's
deletion it creates pods (Pending, then Running on the next listing that follows one showing
them Pending) or removes the surplus in the controller's order (unscheduled before scheduled,
Pending before Running, then the lowest ``controller.kubernetes.io/pod-deletion-cost``, then the
newest). A deleted pod shows a ``deletionTimestamp`` until one listing has shown it, then goes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

POOL_LABEL = "cloudrender.io/pool"
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"
#: Patch bodies a server takes as a JSON object (a JSON patch is a list).
OBJECT_PATCHES = ("application/strategic-merge-patch+json", "application/merge-patch+json")
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


def timestamp(seconds: int) -> str:
    """An RFC 3339 time, `seconds` after the fake's epoch, as the API writes it."""
    return (EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakePod:
    """One pod of a fake Deployment."""

    name: str
    deployment: str
    labels: dict[str, str]
    #: order of creation: the fake's clock, in seconds after EPOCH
    created: int
    phase: str = "Pending"
    node_name: str = ""
    annotations: dict[str, str] = field(default_factory=dict)
    deleted_at: int | None = None
    #: a listing has shown it in its current phase / as deleted (it moves on at the next)
    shown: bool = False

    def cost(self) -> int:
        """Its deletion cost as the controller reads it (0 when unset or not a number)."""
        try:
            return int(self.annotations.get(DELETION_COST, "0"))
        except ValueError:
            return 0

    def json(self, namespace: str) -> dict[str, Any]:
        """The pod as the API returns it."""
        metadata: dict[str, Any] = {
            "name": self.name,
            "namespace": namespace,
            "uid": f"uid-{self.name}",
            "labels": dict(self.labels),
            "annotations": dict(self.annotations),
            "creationTimestamp": timestamp(self.created),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{self.deployment}-5d4f8",
                    "uid": f"uid-{self.deployment}-rs",
                    "controller": True,
                }
            ],
        }
        if self.deleted_at is not None:
            metadata["deletionTimestamp"] = timestamp(self.deleted_at)
            metadata["deletionGracePeriodSeconds"] = 30
        spec: dict[str, Any] = {"containers": [{"name": "worker", "image": "cloudrender-cpu"}]}
        if self.node_name:
            spec["nodeName"] = self.node_name
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": metadata,
            "spec": spec,
            "status": {"phase": self.phase},
        }


@dataclass
class FakeDeployment:
    """A Deployment and what its ReplicaSet controller keeps."""

    name: str
    template_labels: dict[str, str]
    replicas: int = 0
    resource_version: int = 1


@dataclass(frozen=True)
class Request:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    content_type: str
    body: Any


class ApiError(Exception):
    """An answer other than 200, as a Kubernetes Status."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def json(self) -> dict[str, Any]:
        """The Status object the API server sends."""
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }


class FakeKubernetes:
    """The fake cluster's state, and the HTTP server answering for it."""

    def __init__(self, namespace: str = "cloudrender") -> None:
        self.namespace = namespace
        self.deployments: dict[str, FakeDeployment] = {}
        self.pods: dict[str, FakePod] = {}
        self.requests: list[Request] = []
        #: (method, path fragment, status): the next matching request gets that status instead
        #: of being served (each entry is used once)
        self.failures: list[tuple[str, str, int]] = []
        self.lock = threading.RLock()
        self._clock = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- set-up and inspection from the tests ----------------------------------------------------

    def add_deployment(
        self, name: str, pool: str, replicas: int = 0, labels: dict[str, str] | None = None
    ) -> None:
        """A Deployment whose pods carry cloudrender.io/pool=`pool` (or `labels`)."""
        with self.lock:
            template = (
                {"app.kubernetes.io/name": name, POOL_LABEL: pool} if labels is None else labels
            )
            self.deployments[name] = FakeDeployment(name, template, replicas)
            self._reconcile(self.deployments[name])

    def scale(self, name: str, replicas: int) -> None:
        """Set a Deployment's replicas from outside the engine (as KEDA's HPA does)."""
        with self.lock:
            deployment = self.deployments[name]
            deployment.replicas = replicas
            deployment.resource_version += 1
            self._reconcile(deployment)

    def settle(self) -> None:
        """Let time pass: pending pods run, deleted pods go."""
        with self.lock:
            for pod in list(self.pods.values()):
                if pod.deleted_at is not None:
                    del self.pods[pod.name]
                elif pod.phase == "Pending":
                    pod.phase, pod.node_name = "Running", "node-1"

    def live_pods(self, deployment: str) -> list[FakePod]:
        """The Deployment's pods not being deleted, oldest first."""
        with self.lock:
            pods = [
                p for p in self.pods.values() if p.deployment == deployment and p.deleted_at is None
            ]
            return sorted(pods, key=lambda p: p.created)

    def calls(self, method: str, fragment: str = "") -> list[Request]:
        """The requests with `method` whose path contains `fragment`."""
        with self.lock:
            return [r for r in self.requests if r.method == method and fragment in r.path]

    # -- the server -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The API server's base URL."""
        assert self._server is not None, "the fake is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeKubernetes:
        """Serve on a free local port from a daemon thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_PATCH(self) -> None:
                fake._handle(self, "PATCH")

            def do_DELETE(self) -> None:
                fake._handle(self, "DELETE")

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: pytest shows failures, not every request

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port (calls then fail to connect)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(timeout=10)
            self._server = None

    @contextmanager
    def running(self) -> Iterator[FakeKubernetes]:
        """Started for the block, stopped after it."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urlparse(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        content_type = (handler.headers.get("Content-Type") or "").split(";")[0].strip()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        query = parse_qs(parsed.query)
        with self.lock:
            self.requests.append(Request(method, parsed.path, query, content_type, body))
            try:
                self._injected_failure(method, parsed.path)
                code, answer = 200, self._route(method, parsed.path, query, content_type, body)
            except ApiError as exc:
                code, answer = exc.code, exc.json()
        data = json.dumps(answer).encode()
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _injected_failure(self, method: str, path: str) -> None:
        for i, (m, fragment, code) in enumerate(self.failures):
            if m == method and fragment in path:
                del self.failures[i]
                reason = {409: "Conflict", 429: "TooManyRequests", 403: "Forbidden"}
                raise ApiError(code, reason.get(code, "InternalError"), f"injected {code}")

    # -- the API --------------------------------------------------------------------------------

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], content_type: str, body: Any
    ) -> dict[str, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        apps = ["apis", "apps", "v1", "namespaces", self.namespace, "deployments"]
        core = ["api", "v1", "namespaces", self.namespace, "pods"]
        if parts[:6] == apps and len(parts) in (7, 8):
            deployment = self._deployment(parts[6])
            if len(parts) == 8 and parts[7] == "scale":
                if method == "GET":
                    return self._scale(deployment)
                if method == "PATCH":
                    return self._patch_scale(deployment, content_type, body)
            elif len(parts) == 7 and method == "GET":
                return self._deployment_json(deployment)
        if parts[:5] == core:
            if len(parts) == 5 and method == "GET":
                return self._list_pods(query.get("labelSelector", [""])[0])
            if len(parts) == 6:
                pod = self._pod(parts[5])
                if method == "GET":
                    return pod.json(self.namespace)
                if method == "PATCH":
                    return self._patch_pod(pod, content_type, body)
                if method == "DELETE":
                    return self._delete_pod(pod)
        raise ApiError(404, "NotFound", f"the server could not find the requested resource {path}")

    def _deployment(self, name: str) -> FakeDeployment:
        if name not in self.deployments:
            raise ApiError(404, "NotFound", f'deployments.apps "{name}" not found')
        return self.deployments[name]

    def _pod(self, name: str) -> FakePod:
        if name not in self.pods:
            raise ApiError(404, "NotFound", f'pods "{name}" not found')
        return self.pods[name]

    def _scale(self, deployment: FakeDeployment) -> dict[str, Any]:
        selector = ",".join(f"{k}={v}" for k, v in sorted(deployment.template_labels.items()))
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": deployment.name,
                "namespace": self.namespace,
                "resourceVersion": str(deployment.resource_version),
            },
            "spec": {"replicas": deployment.replicas},
            "status": {
                "replicas": len(self.live_pods(deployment.name)),
                "selector": selector,
            },
        }

    def _deployment_json(self, deployment: FakeDeployment) -> dict[str, Any]:
        labels = dict(deployment.template_labels)
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": deployment.name,
                "namespace": self.namespace,
                "resourceVersion": str(deployment.resource_version),
            },
            "spec": {
                "replicas": deployment.replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "worker", "image": "cloudrender-cpu"}]},
                },
            },
            "status": {"replicas": len(self.live_pods(deployment.name))},
        }

    def _patch_scale(
        self, deployment: FakeDeployment, content_type: str, body: Any
    ) -> dict[str, Any]:
        patch = _object_patch(content_type, body)
        precondition = (patch.get("metadata") or {}).get("resourceVersion")
        if precondition is not None and precondition != str(deployment.resource_version):
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on deployments.apps "{deployment.name}": the '
                "object has been modified; please apply your changes to the latest version",
            )
        replicas = (patch.get("spec") or {}).get("replicas", deployment.replicas)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            raise ApiError(422, "Invalid", f"spec.replicas: Invalid value: {replicas!r}")
        if replicas != deployment.replicas:
            deployment.replicas = replicas
            deployment.resource_version += 1
            self._reconcile(deployment)
        return self._scale(deployment)

    def _list_pods(self, selector: str) -> dict[str, Any]:
        wanted = dict(term.split("=", 1) for term in selector.split(",") if term)
        items = []
        for pod in sorted(self.pods.values(), key=lambda p: p.created):
            if any(pod.labels.get(k) != v for k, v in wanted.items()):
                continue
            # Time passes between two listings: what one showed has moved on by the next.
            if pod.shown and pod.deleted_at is not None:
                del self.pods[pod.name]
                continue
            if pod.shown and pod.phase == "Pending":
                pod.phase, pod.node_name = "Running", "node-1"
            pod.shown = pod.phase == "Pending" or pod.deleted_at is not None
            items.append(pod.json(self.namespace))
        return {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items}

    def _patch_pod(self, pod: FakePod, content_type: str, body: Any) -> dict[str, Any]:
        metadata = _object_patch(content_type, body).get("metadata") or {}
        for key, target in (("annotations", pod.annotations), ("labels", pod.labels)):
            for name, value in (metadata.get(key) or {}).items():
                if value is None:
                    target.pop(name, None)
                elif isinstance(value, str):
                    target[name] = value
                else:
                    raise ApiError(422, "Invalid", f"metadata.{key}.{name}: must be a string")
        return pod.json(self.namespace)

    def _delete_pod(self, pod: FakePod) -> dict[str, Any]:
        if pod.deleted_at is None:
            pod.deleted_at, pod.shown = self._tick(), False
            deployment = self.deployments.get(pod.deployment)
            if deployment is not None:
                self._reconcile(deployment)
        return pod.json(self.namespace)

    # -- the ReplicaSet controller --------------------------------------------------------------

    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    def _reconcile(self, deployment: FakeDeployment) -> None:
        """Create or remove pods until the live ones match the replicas."""
        live = self.live_pods(deployment.name)
        for _ in range(deployment.replicas - len(live)):
            created = self._tick()
            name = f"{deployment.name}-5d4f8-{created:05d}"
            self.pods[name] = FakePod(
                name, deployment.name, dict(deployment.template_labels), created
            )
        surplus = len(live) - deployment.replicas
        if surplus > 0:
            # The controller's order (pkg/controller/controller_utils.go, ActivePodsWithRanks):
            # unscheduled, Pending < Unknown < Running, lower deletion cost, newer.
            ranked = sorted(
                live,
                key=lambda p: (
                    bool(p.node_name),
                    PHASE_ORDER.get(p.phase, 2),
                    p.cost(),
                    -p.created,
                ),
            )
            for pod in ranked[:surplus]:
                pod.deleted_at, pod.shown = self._tick(), False


def _object_patch(content_type: str, body: Any) -> dict[str, Any]:
    """A merge or strategic-merge patch body, refused as a real server would otherwise."""
    if content_type not in OBJECT_PATCHES:
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - got {content_type!r}, "
            "this fake takes: " + ", ".join(OBJECT_PATCHES),
        )
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "a merge patch must be a JSON object")
    return body
