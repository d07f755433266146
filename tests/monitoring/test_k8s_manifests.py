"""The Kubernetes manifests (deploy/k8s/): no cluster runs here, so every built-in object is
loaded into the ``kubernetes`` client's models, with a strict walk that fails on a field the
model does not have or a value of the wrong JSON type (the client's own deserializer ignores
unknown keys); KEDA's ScaledObject, which the client does not model, is checked by hand. Then
the files must agree with each other, with the pools the orchestrator reads and with what the
Kubernetes engine calls."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from monitoring.metrics import METRIC_NAMES
from orchestrator.autoscaler.policy import load_policy
from providers.compute.kubernetes import KubernetesCompute, pool_target
from providers.compute.pools import Pool, PoolsConfig, parse_pools
from tests.helpers import ROOT
from tests.providers.compute.fake_kubernetes import FakeKubernetes

K8S = ROOT / "deploy" / "k8s"
NAMESPACE = "cloudrender"
POOL_LABEL = "cloudrender.io/pool"
#: JSON types of the primitive names in the client's ``openapi_types``.
PRIMITIVES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "datetime": (str,),
    "date": (str,),
    "object": (str, int, float, bool, dict, list),  # IntOrString and free-form fields
}


def manifests() -> list[tuple[str, dict[str, Any]]]:
    """(file name, object) of every document in deploy/k8s/*.yaml."""
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                found.append((path.name, doc))
    return found


MANIFESTS = manifests()


def objects(kind: str) -> dict[str, dict[str, Any]]:
    """The objects of `kind`, by name."""
    return {doc["metadata"]["name"]: doc for _, doc in MANIFESTS if doc["kind"] == kind}


def model_name(doc: dict[str, Any]) -> str:
    """The client's model for a built-in object: apps/v1 Deployment -> V1Deployment."""
    version = str(doc["apiVersion"]).rsplit("/", 1)[-1]
    return version[0].upper() + version[1:] + str(doc["kind"])


def is_built_in(doc: dict[str, Any]) -> bool:
    """Whether the client models the object's kind (KEDA's CRDs it does not)."""
    return hasattr(client, model_name(doc)) and not doc["apiVersion"].startswith("keda.sh/")


def model_problems(data: Any, type_name: str, where: str) -> list[str]:
    """Fields the model lacks and values of the wrong JSON type anywhere in `data`."""
    if type_name.startswith("list["):
        if not isinstance(data, list):
            return [f"{where}: expected a list, not {data!r}"]
        inner = type_name[5:-1]
        return [
            p for i, item in enumerate(data) for p in model_problems(item, inner, f"{where}[{i}]")
        ]
    if type_name.startswith("dict["):
        if not isinstance(data, dict):
            return [f"{where}: expected a mapping, not {data!r}"]
        inner = type_name.split(",", 1)[1][:-1].strip()
        # Quantities (resources.limits/requests, storage) may be written as plain numbers.
        if inner == "str" and where.rsplit(".", 1)[-1] in ("limits", "requests"):
            inner = "float|str"
        return [p for k, v in data.items() for p in model_problems(v, inner, f"{where}.{k}")]
    if type_name == "float|str":
        ok = isinstance(data, int | float | str) and not isinstance(data, bool)
        return [] if ok else [f"{where}: expected a quantity, not {data!r}"]
    if type_name in PRIMITIVES:
        expected = PRIMITIVES[type_name]
        wrong = not isinstance(data, expected) or (bool not in expected and isinstance(data, bool))
        return [f"{where}: expected {type_name}, not {data!r}"] if wrong else []
    klass = getattr(client, type_name)
    if not isinstance(data, dict):
        return [f"{where}: expected a {type_name} mapping, not {data!r}"]
    fields = {klass.attribute_map[attr]: kind for attr, kind in klass.openapi_types.items()}
    problems = []
    for key, value in data.items():
        if key not in fields:
            problems.append(f"{where}: {type_name} has no field {key!r}")
        else:
            problems.extend(model_problems(value, fields[key], f"{where}.{key}"))
    return problems


@pytest.fixture(scope="module")
def api() -> Iterator[Any]:
    """An API client for its deserializer (it makes no connection)."""
    with client.ApiClient() as api_client:
        yield api_client


def deserialize(api: Any, doc: dict[str, Any]) -> Any:
    """The object as the client's model; raises on a missing required field or a bad value."""
    return api._ApiClient__deserialize(copy.deepcopy(doc), model_name(doc))


@pytest.fixture(scope="module")
def pools() -> PoolsConfig:
    """The pools in the orchestrator's ConfigMap."""
    data = objects("ConfigMap")["cloudrender-pools"]["data"]
    return parse_pools(data["pools.toml"], "orchestrator.yaml: cloudrender-pools/pools.toml")


def containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    """The Deployment's pod containers."""
    result: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    return result


def env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The container's env entries by name."""
    return {e["name"]: e for e in container.get("env", [])}


def option(args: list[str], name: str) -> str | None:
    """The value after `name` in an argv."""
    return args[args.index(name) + 1] if name in args else None


# -- every file, every object -------------------------------------------------------------------


def test_the_folder_holds_the_expected_manifests() -> None:
    names = {path.name for path in K8S.glob("*.yaml")}
    assert names == {
        "namespace.yaml",
        "redis.yaml",
        "secret.example.yaml",
        "orchestrator.yaml",
        "worker-cpu.yaml",
        "worker-gpu.yaml",
        "keda-scaledobject.yaml",
        "api.yaml",
    }
    assert (K8S / "README.md").exists()


@pytest.mark.parametrize(
    ("file", "doc"),
    MANIFESTS,
    ids=[f"{file}:{doc['kind']}/{doc['metadata']['name']}" for file, doc in MANIFESTS],
)
def test_every_object_loads_into_its_model_with_no_unknown_field(
    api: Any, file: str, doc: dict[str, Any]
) -> None:
    if doc["kind"] == "Namespace":
        assert doc["metadata"]["name"] == NAMESPACE
    else:
        assert doc["metadata"]["namespace"] == NAMESPACE, f"{file}: {doc['metadata']['name']}"
    if not is_built_in(doc):
        assert doc["apiVersion"] == "keda.sh/v1alpha1" and doc["kind"] == "ScaledObject"
        return
    model = deserialize(api, doc)
    assert type(model).__name__ == model_name(doc)
    assert model_problems(doc, model_name(doc), file) == []


def test_the_strict_walk_catches_misspelt_fields_and_wrong_types(api: Any) -> None:
    worker = copy.deepcopy(objects("Deployment")["cloudrender-worker-gpu"])
    pod = worker["spec"]["template"]["spec"]
    pod["terminationGracePeriodSecond"] = 900
    pod["automountServiceAccountToken"] = "false"
    pod["containers"][0]["env"][1]["valueFrom"]["secretKeyRef"]["nmae"] = "cloudrender"
    pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] = ["1"]
    problems = model_problems(worker, "V1Deployment", "worker")
    assert len(problems) == 4, problems
    for expected in (
        "V1PodSpec has no field 'terminationGracePeriodSecond'",
        "automountServiceAccountToken: expected bool",
        "V1SecretKeySelector has no field 'nmae'",
        "limits.nvidia.com/gpu: expected a quantity",
    ):
        assert any(expected in problem for problem in problems), expected
    # A missing required field fails in the client's own models.
    del pod["containers"][0]["name"]
    with pytest.raises(ValueError, match="name"):
        deserialize(api, worker)


# -- workers and pools --------------------------------------------------------------------------


def test_every_kubernetes_pool_has_a_worker_deployment_that_starts_its_nodes(
    pools: PoolsConfig,
) -> None:
    deployments = objects("Deployment")
    k8s_pools = [p for p in pools.pools.values() if p.provider == "kubernetes"]
    assert {p.name for p in k8s_pools} == {"cpu", "gpu"}
    for pool in k8s_pools:
        target = pool_target(pool)
        assert target.namespace == NAMESPACE and target.mode in ("deployment", "keda")
        assert target.deployment in deployments, f"pool {pool.name}: no {target.deployment}"
        assert worker_problems(deployments[target.deployment], pool) == []


def worker_problems(deployment: dict[str, Any], pool: Pool) -> list[str]:
    """Where a worker Deployment disagrees with its pool or with what the engine expects."""
    problems = []
    spec = deployment["spec"]
    template = spec["template"]
    if template["metadata"]["labels"].get(POOL_LABEL) != pool.name:
        problems.append(f"pods not labelled {POOL_LABEL}={pool.name}")
    selector = spec["selector"]["matchLabels"]
    if any(template["metadata"]["labels"].get(k) != v for k, v in selector.items()):
        problems.append("selector does not match the pod labels")
    if "replicas" in spec:
        problems.append("replicas set: re-applying would reset the autoscaler's size")
    if template["spec"].get("automountServiceAccountToken") is not False:
        problems.append("workers mount an API token they never use")
    if template["spec"].get("terminationGracePeriodSeconds", 30) < 300:
        problems.append("terminationGracePeriodSeconds too short to finish a chunk")
    (worker,) = containers(deployment)
    args = worker["args"]
    if args[0] != "worker":
        problems.append(f"runs {args[0]!r}, not the worker")
    if option(args, "--queues") != ",".join(pool.queues):
        problems.append(f"--queues {option(args, '--queues')} but the pool has {pool.queues}")
    if option(args, "--concurrency") != str(pool.concurrency):
        problems.append(f"--concurrency {option(args, '--concurrency')} != {pool.concurrency}")
    variables = env(worker)
    if variables.get("CLOUDRENDER_NODE_POOL", {}).get("value") != pool.name:
        problems.append("CLOUDRENDER_NODE_POOL is not the pool's name")
    field = variables.get("CLOUDRENDER_INSTANCE_ID", {}).get("valueFrom", {}).get("fieldRef", {})
    if field.get("fieldPath") != "metadata.name":
        problems.append("CLOUDRENDER_INSTANCE_ID is not the pod's name (the engine's node id)")
    resources = worker["resources"]
    if str(resources["requests"]["cpu"]) != str(pool.vcpus):
        problems.append(f"requests cpu {resources['requests']['cpu']} != vcpus {pool.vcpus}")
    if resources["requests"]["memory"] != f"{pool.memory_gb:g}Gi":
        problems.append(f"requests memory {resources['requests']['memory']} != {pool.memory_gb}")
    gpus = resources.get("limits", {}).get("nvidia.com/gpu")
    if pool.has_gpu:
        if str(gpus) != str(pool.gpus):
            problems.append(f"limits nvidia.com/gpu {gpus} != the pool's gpus {pool.gpus}")
        capabilities = variables.get("NVIDIA_DRIVER_CAPABILITIES", {}).get("value", "")
        if not {"compute", "video", "utility"} <= set(capabilities.split(",")):
            problems.append("NVIDIA_DRIVER_CAPABILITIES lacks compute,video,utility")
        tolerations = template["spec"].get("tolerations", [])
        if not any(t.get("key") == "nvidia.com/gpu" for t in tolerations):
            problems.append("no toleration for the nvidia.com/gpu taint")
        if "cloudrender-gpu" not in worker["image"]:
            problems.append("a GPU worker not on the GPU image (deploy/Dockerfile.gpu)")
    elif gpus is not None:
        problems.append("a CPU pool's pods ask for a GPU")
    return problems


def test_the_worker_check_catches_a_mismatch(pools: PoolsConfig) -> None:
    gpu = copy.deepcopy(objects("Deployment")["cloudrender-worker-gpu"])
    template = gpu["spec"]["template"]
    template["metadata"]["labels"][POOL_LABEL] = "cpu"
    (worker,) = template["spec"]["containers"]
    worker["args"] = ["worker", "--queues", "render", "--concurrency", "9"]
    worker["env"] = [e for e in worker["env"] if e["name"] != "NVIDIA_DRIVER_CAPABILITIES"]
    del worker["resources"]["limits"]["nvidia.com/gpu"]
    problems = worker_problems(gpu, pools.pools["gpu"])
    assert len(problems) == 6, problems


# -- KEDA ---------------------------------------------------------------------------------------


def scaled_object_problems(
    scaled: dict[str, Any], deployments: dict[str, dict[str, Any]], pools: PoolsConfig
) -> list[str]:
    """Where a ScaledObject is malformed or disagrees with its Deployment's pool."""
    problems = []
    if scaled["apiVersion"] != "keda.sh/v1alpha1" or scaled["kind"] != "ScaledObject":
        problems.append("not a keda.sh/v1alpha1 ScaledObject")
    spec = scaled.get("spec") or {}
    ref = spec.get("scaleTargetRef") or {}
    if ref.get("kind", "Deployment") != "Deployment" or ref.get("name") not in deployments:
        return [*problems, f"scaleTargetRef {ref} names no worker Deployment"]
    labels = deployments[ref["name"]]["spec"]["template"]["metadata"]["labels"]
    pool = pools.pools.get(labels.get(POOL_LABEL, ""))
    if pool is None:
        return [*problems, f"{ref['name']} belongs to no pool"]
    if (spec.get("minReplicaCount"), spec.get("maxReplicaCount")) != (
        pool.min_nodes,
        pool.max_nodes,
    ):
        problems.append("min/maxReplicaCount differ from the pool's min_nodes/max_nodes")
    triggers = spec.get("triggers") or []
    prometheus = [t for t in triggers if t.get("type") == "prometheus"]
    if len(prometheus) != 1 or len(triggers) != 1:
        return [*problems, "needs exactly one trigger, of type prometheus"]
    (trigger,) = prometheus
    metadata = trigger.get("metadata") or {}
    if not all(isinstance(metadata.get(k), str) for k in ("serverAddress", "query", "threshold")):
        problems.append("serverAddress, query and threshold must be strings")
    query = str(metadata.get("query", ""))
    names = re.findall(r"\bcloudrender_[a-z0-9_]+", query)
    if names != ["cloudrender_desired_nodes"] or names[0] not in METRIC_NAMES:
        problems.append(f"query {query!r} does not read cloudrender_desired_nodes")
    if f'pool="{pool.name}"' not in query:
        problems.append(f"query {query!r} does not select pool {pool.name}")
    # replicas = ceil(value / threshold) only with AverageValue (KEDA's default); Value would
    # make the HPA multiply the current replicas by the gauge.
    if (
        trigger.get("metricType", "AverageValue") != "AverageValue"
        or metadata.get("threshold") != "1"
    ):
        problems.append("needs metricType AverageValue and threshold 1 (replicas = the gauge)")
    return problems


def test_each_worker_deployment_has_a_scaled_object_following_its_pools_gauge(
    pools: PoolsConfig,
) -> None:
    deployments = {n: d for n, d in objects("Deployment").items() if "worker" in n}
    scaled = objects("ScaledObject")
    targets = sorted(s["spec"]["scaleTargetRef"]["name"] for s in scaled.values())
    assert targets == sorted(deployments)
    for name, obj in scaled.items():
        assert scaled_object_problems(obj, deployments, pools) == [], name


def test_the_scaled_object_check_catches_mistakes(pools: PoolsConfig) -> None:
    deployments = {n: d for n, d in objects("Deployment").items() if "worker" in n}
    good = objects("ScaledObject")["cloudrender-worker-gpu"]
    wrong_target = copy.deepcopy(good)
    wrong_target["spec"]["scaleTargetRef"]["name"] = "cloudrender-worker-gpux"
    assert (
        "names no worker Deployment" in scaled_object_problems(wrong_target, deployments, pools)[0]
    )
    wrong_query = copy.deepcopy(good)
    trigger = wrong_query["spec"]["triggers"][0]
    trigger["metadata"]["query"] = 'max(cloudrender_queue_length{pool="cpu"})'
    trigger["metricType"] = "Value"
    wrong_query["spec"]["maxReplicaCount"] = 100
    assert len(scaled_object_problems(wrong_query, deployments, pools)) == 4


# -- the orchestrator and its rights ------------------------------------------------------------


def engine_requests() -> set[tuple[str, str, str]]:
    """(API group, resource, verb) of every request the engine makes, in both modes, recorded
    by the fake API server while it runs through all its calls."""
    fake = FakeKubernetes()
    fake.add_deployment("cloudrender-worker-gpu", pool="gpu")
    with fake.running():
        for mode in ("deployment", "keda"):
            pool = Pool(
                name="gpu", provider="kubernetes", options={"endpoint": fake.url, "mode": mode}
            )
            with KubernetesCompute.for_pool(pool) as engine:
                engine.ensure_pool(pool)
                engine.set_desired(pool, 3)
                fake.scale("cloudrender-worker-gpu", 3)
                fake.settle()
                a, b, c = (n.id for n in engine.nodes(pool))
                engine.protect(pool, [a], True)
                engine.protect(pool, [a], False)
                engine.terminate(pool, b)
                engine.terminate(pool, c, replace=True)
                engine.desired(pool)
    used = set()
    for request in fake.requests:
        parts = request.path.strip("/").split("/")
        group = "" if parts[0] == "api" else parts[1]
        rest = parts[parts.index("namespaces") + 2 :]
        resource = "/".join([rest[0], *rest[2:]])
        verb = {"PATCH": "patch", "DELETE": "delete"}.get(request.method)
        verb = verb or ("get" if len(rest) > 1 else "list")
        used.add((group, resource, verb))
    return used


def granted(role: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(API group, resource, verb) a Role grants."""
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_the_orchestrators_role_grants_exactly_what_the_engine_calls() -> None:
    used = engine_requests()
    assert ("apps", "deployments/scale", "patch") in used and ("", "pods", "delete") in used
    (role,) = objects("Role").values()
    assert granted(role) == used
    (binding,) = objects("RoleBinding").values()
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    (subject,) = binding["subjects"]
    orchestrator = objects("Deployment")["cloudrender-orchestrator"]
    account = orchestrator["spec"]["template"]["spec"]["serviceAccountName"]
    assert subject == {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}
    assert account in objects("ServiceAccount")


def test_the_orchestrator_reads_the_pools_and_serves_metrics(pools: PoolsConfig) -> None:
    orchestrator = objects("Deployment")["cloudrender-orchestrator"]
    pod = orchestrator["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["orchestrator"]
    variables = env(container)
    pools_file = Path(variables["CLOUDRENDER_POOLS_FILE"]["value"])
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == str(pools_file.parent)]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    config_map = objects("ConfigMap")[volume["configMap"]["name"]]
    assert pools_file.name in config_map["data"]
    # It parses (the fixture) and its [autoscaler] table too: `cloudrender orchestrator`
    # refuses to start otherwise.
    assert load_policy(pools.autoscaler, {}).name == "deadline"
    port = int(variables["CLOUDRENDER_METRICS_PORT"]["value"])
    assert variables["CLOUDRENDER_METRICS_ADDR"]["value"] == "0.0.0.0"
    assert {"name": "metrics", "containerPort": port} in container["ports"]
    service = objects("Service")["cloudrender-orchestrator"]
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"


# -- references between files -------------------------------------------------------------------


def test_every_secret_key_and_service_selector_resolves() -> None:
    secret = objects("Secret")["cloudrender"]
    keys = set(secret["stringData"])
    deployments = objects("Deployment")
    for name, deployment in deployments.items():
        for container in containers(deployment):
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref is not None and not ref.get("optional"):
                    assert ref["name"] == "cloudrender", f"{name}: {variable['name']}"
                    assert ref["key"] in keys, f"{name}: {variable['name']} -> {ref['key']}"
    assert all("CHANGE-ME" in value for value in secret["stringData"].values())
    for name, service in objects("Service").items():
        selector = service["spec"]["selector"]
        matches = [
            d
            for d in deployments.values()
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matches) == 1, f"Service {name} selects {len(matches)} Deployments"


def test_redis_runs_deploy_redis_configuration() -> None:
    redis = objects("Deployment")["cloudrender-redis"]
    (container,) = containers(redis)
    mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
    # The ConfigMap is made from deploy/redis/ (README.md): the files the command names exist.
    for word in container["command"]:
        if word.startswith(mount["mountPath"] + "/"):
            assert (ROOT / "deploy" / "redis" / Path(word).name).is_file(), word
    conf = (ROOT / "deploy" / "redis" / "redis.conf").read_text()
    assert re.search(r"^maxmemory-policy noeviction$", conf, re.MULTILINE)
    passwords = {e["name"] for e in container["env"]}
    assert passwords == {
        "REDIS_CLIENT_PASSWORD",
        "REDIS_WORKER_PASSWORD",
        "REDIS_ORCHESTRATOR_PASSWORD",
    }


# -- the HTTP API -------------------------------------------------------------------------------


def api_problems(
    deployment: dict[str, Any], service: dict[str, Any], ingress: dict[str, Any]
) -> list[str]:
    """Where the API's Deployment, Service and Ingress disagree, or would buffer event streams."""
    problems = []
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = container["args"]
    if args[0] != "serve" or option(args, "--host") != "0.0.0.0":
        problems.append(f"runs {args}, not `serve --host 0.0.0.0` (reachable by its Service)")
    port = int(option(args, "--port") or 8080)
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    if named.get("http") != port:
        problems.append(f"container port http {named.get('http')} != --port {port}")
    for probe in ("readinessProbe", "livenessProbe"):
        get = container.get(probe, {}).get("httpGet", {})
        if get.get("path") != "/healthz" or get.get("port") not in ("http", port):
            problems.append(f"{probe} does not ask /healthz on the API's port")
    if pod.get("automountServiceAccountToken") is not False:
        problems.append("the API mounts a Kubernetes token it never uses")
    broker = env(container).get("CLOUDRENDER_BROKER_URL", {}).get("valueFrom", {})
    if broker.get("secretKeyRef", {}).get("key") != "orchestrator-broker-url":
        problems.append("the API needs the orchestrator's Redis user (operators' routes)")
    (service_port,) = service["spec"]["ports"]
    if service_port["targetPort"] not in ("http", port):
        problems.append(f"Service targets {service_port['targetPort']}, not the API's port")
    annotations = ingress["metadata"].get("annotations", {})
    if annotations.get("nginx.ingress.kubernetes.io/proxy-buffering") != "off":
        problems.append("the Ingress buffers responses: event streams would stall")
    if int(annotations.get("nginx.ingress.kubernetes.io/proxy-read-timeout", "60")) < 60:
        problems.append("the Ingress read timeout is shorter than the event keep-alive")
    hosts = {h for tls in ingress["spec"].get("tls", []) for h in tls["hosts"]}
    for rule in ingress["spec"]["rules"]:
        if rule.get("host") not in hosts:
            problems.append(f"host {rule.get('host')} has no TLS")
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            if backend["name"] != service["metadata"]["name"]:
                problems.append(f"the Ingress routes to {backend['name']}")
            if backend["port"] not in (
                {"name": service_port["name"]},
                {"number": service_port["port"]},
            ):
                problems.append(f"the Ingress routes to port {backend['port']}")
    return problems


def test_the_api_is_served_over_tls_without_buffering_its_event_streams() -> None:
    deployment = objects("Deployment")["cloudrender-api"]
    service, ingress = objects("Service")["cloudrender-api"], objects("Ingress")["cloudrender-api"]
    assert api_problems(deployment, service, ingress) == []
    # Serving replicas keep their own rate buckets: one, as the file explains.
    assert deployment["spec"]["replicas"] == 1


def test_the_api_check_catches_mistakes() -> None:
    deployment = copy.deepcopy(objects("Deployment")["cloudrender-api"])
    service, ingress = (
        objects("Service")["cloudrender-api"],
        copy.deepcopy(objects("Ingress")["cloudrender-api"]),
    )
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    container["args"] = ["serve", "--port", "9000"]  # loopback, and not the container port
    del ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-buffering"]
    ingress["spec"]["tls"] = []
    problems = api_problems(deployment, service, ingress)
    assert len(problems) == 4, problems
    for expected in ("not `serve --host 0.0.0.0`", "!= --port 9000", "buffers", "has no TLS"):
        assert any(expected in problem for problem in problems), expected
