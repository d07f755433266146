"""The deploy files: Prometheus and Grafana configs parse, the dashboard queries only metric
names that our exporters (or Flower) actually serve and reads the counters with rate(), every
target Prometheus scrapes is a docker-compose service listening there on an address other
containers reach, and the API is reached only through Caddy's TLS."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from monitoring.gpu import GPU_METRIC_NAMES
from monitoring.metrics import COUNTER_METRICS, HISTOGRAM_METRICS, METRIC_NAMES
from tests.helpers import ROOT

DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "cloudrender.json"

#: What Flower 2.2 serves on /metrics (flower/events.py, PrometheusMetrics), with the sample
#: names a counter and a histogram expand to.
FLOWER_METRIC_NAMES = {
    "flower_events_total",
    "flower_events_created",
    "flower_task_runtime_seconds_bucket",
    "flower_task_runtime_seconds_sum",
    "flower_task_runtime_seconds_count",
    "flower_task_runtime_seconds_created",
    "flower_task_prefetch_time_seconds",
    "flower_worker_prefetched_tasks",
    "flower_worker_online",
    "flower_worker_number_of_currently_executing_tasks",
}
KNOWN = set(METRIC_NAMES) | set(GPU_METRIC_NAMES) | FLOWER_METRIC_NAMES
NAME = re.compile(r"\b(cloudrender_[a-z0-9_]+|flower_[a-z_]+)")


def expressions(node: Any) -> list[str]:
    """Every `expr` string anywhere in a dashboard (panels, rows, nested panels)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "expr" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(expressions(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(expressions(item))
    return found


def unknown_names(dashboard: dict[str, Any]) -> set[str]:
    """Metric names the dashboard's queries use that no exporter of ours serves."""
    return {n for expr in expressions(dashboard) for n in NAME.findall(expr)} - KNOWN


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return data


def test_dashboard_uses_only_served_metric_names(dashboard: dict[str, Any]) -> None:
    assert expressions(dashboard), "the dashboard has no queries"
    assert unknown_names(dashboard) == set()


def test_the_name_check_catches_an_unknown_name(dashboard: dict[str, Any]) -> None:
    broken = copy.deepcopy(dashboard)
    target = next(p for p in broken["panels"] if p.get("targets"))["targets"][0]
    target["expr"] = "max(cloudrender_frames_per_secnod) + sum(flower_worker_offline)"
    assert unknown_names(broken) == {"cloudrender_frames_per_secnod", "flower_worker_offline"}


def test_dashboard_covers_cluster_jobs_cost_and_gpus(dashboard: dict[str, Any]) -> None:
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    assert rows == ["Cluster", "Jobs", "Throughput", "Cost", "GPUs"]
    used = {n for expr in expressions(dashboard) for n in NAME.findall(expr)}
    for name in (
        "cloudrender_active_nodes",
        "cloudrender_queue_length",
        "cloudrender_frames_per_second",
        "cloudrender_deadline_miss_ratio",
        "cloudrender_hourly_rate_dollars",
        "cloudrender_cost_dollars_total",
        "cloudrender_cost_per_frame_dollars",
        "cloudrender_gpu_utilization_percent",
        "cloudrender_gpu_encoder_utilization_percent",
    ):
        assert name in used


def test_the_counters_are_read_as_counters(dashboard: dict[str, Any]) -> None:
    # Each exporter serves its own node's counts: rate() (or increase()) then sum(), never max().
    names = {name for name, _ in COUNTER_METRICS}
    counters = [e for e in expressions(dashboard) if names & set(NAME.findall(e))]
    assert counters
    for expr in counters:
        assert re.search(r"\b(rate|increase)\(cloudrender_\w+_total\[", expr), expr
        assert expr.lstrip("0123456789 *").startswith("sum"), expr
    used = {n for expr in expressions(dashboard) for n in NAME.findall(expr)}
    for name, _ in COUNTER_METRICS:
        assert name in used
    quantiles = [e for e in expressions(dashboard) if e.startswith("histogram_quantile(")]
    for name, _ in HISTOGRAM_METRICS:
        assert any(f"rate({name}_bucket" in q and "by (le)" in q for q in quantiles), name


def test_a_target_scraped_twice_counts_once(dashboard: dict[str, Any]) -> None:
    """On Kubernetes the orchestrator's pod and its Service both say prometheus.io/scrape, and
    the usual kubernetes-pods and kubernetes-service-endpoints jobs each scrape it: its
    counters (node "cluster": cancels; the orchestrator's: requeues, speculative copies)
    arrive twice, with different job/instance labels. Each rate is first reduced per node."""
    names = {name for name, _ in COUNTER_METRICS} | {f"{n}_bucket" for n, _ in HISTOGRAM_METRICS}
    counted = [e for e in expressions(dashboard) if names & set(NAME.findall(e))]
    assert counted
    for expr in counted:
        assert re.search(r"max by \(node\b[^)]*\) \((rate|increase)\(cloudrender_", expr), expr


def test_dashboard_is_grafana_shaped(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] and dashboard["title"] and isinstance(dashboard["schemaVersion"], int)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24
        for target in panel.get("targets", []):
            # The provisioned datasource's uid, so the dashboard works without editing.
            assert target["datasource"]["uid"] == "prometheus"


def test_prometheus_config_scrapes_workers_orchestrator_and_flower() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"cloudrender-workers", "cloudrender-orchestrator", "flower"}
    assert jobs["cloudrender-workers"]["dns_sd_configs"][0]["port"] == 9808
    assert jobs["cloudrender-orchestrator"]["static_configs"][0]["targets"] == ["orchestrator:9808"]
    assert jobs["flower"]["static_configs"][0]["targets"] == ["flower:5555"]
    assert jobs["flower"]["metrics_path"] == "/metrics"


def test_grafana_provisioning_points_at_the_dashboard_and_datasource() -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    source = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    (datasource,) = source["datasources"]
    assert (datasource["uid"], datasource["type"]) == ("prometheus", "prometheus")
    assert datasource["url"] == "http://prometheus:9090"
    provider = yaml.safe_load((provisioning / "dashboards" / "cloudrender.yml").read_text())
    # docker-compose.yml mounts deploy/grafana/dashboards there.
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


# -- docker-compose.yml: what Prometheus scrapes and what is published is reachable --------------

COMPOSE = ROOT / "docker-compose.yml"
PROMETHEUS = DEPLOY / "prometheus" / "prometheus.yml"
#: What `cloudrender flower` and the exporter listen on unless told otherwise.
DEFAULT_ADDRESS = "127.0.0.1"
FLOWER_PORT = 5555
API_PORT = 8080
#: The services published beyond the admin rule (127.0.0.1 only): the TLS door, whose address
#: the operator chooses (CLOUDRENDER_API_PUBLISH, 127.0.0.1 unless set).
DOORS = {"caddy"}


def option(command: list[str], name: str, default: str) -> str:
    """The value after ``name`` in an argv (``--name value`` or ``--name=value``)."""
    for i, word in enumerate(command):
        if word == name and i + 1 < len(command):
            return command[i + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    return default


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment, from the mapping or the list form."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def listens(service: dict[str, Any]) -> dict[int, str]:
    """Port -> address a cloudrender service's servers bind inside its container."""
    command = service.get("command") or ["worker"]  # deploy/Dockerfile.*'s CMD
    if command[0] == "flower":
        port = int(option(command, "--port", str(FLOWER_PORT)))
        return {port: option(command, "--address", DEFAULT_ADDRESS)}
    if command[0] == "serve":
        port = int(option(command, "--port", str(API_PORT)))
        return {port: option(command, "--host", DEFAULT_ADDRESS)}
    env = environment(service)
    if "CLOUDRENDER_METRICS_PORT" not in env:
        return {}
    port = int(env["CLOUDRENDER_METRICS_PORT"])
    return {port: env.get("CLOUDRENDER_METRICS_ADDR", DEFAULT_ADDRESS)}


def published(service: dict[str, Any]) -> list[tuple[str, int]]:
    """(host address, container port) of each published port, short or long syntax."""
    found = []
    for port in service.get("ports") or []:
        if isinstance(port, dict):
            found.append((str(port.get("host_ip") or "0.0.0.0"), int(port["target"])))
            continue
        parts = str(port).split("/")[0].split(":")
        found.append((parts[0] if len(parts) == 3 else "0.0.0.0", int(parts[-1])))
    return found


def reachability_problems(compose: dict[str, Any], prometheus: dict[str, Any]) -> list[str]:
    """Scrape targets and published ports nobody can reach, as sentences."""
    services = compose["services"]
    problems = []
    for job in prometheus["scrape_configs"]:
        targets = [t for config in job.get("static_configs", []) for t in config["targets"]]
        targets += [
            f"{name}:{sd['port']}" for sd in job.get("dns_sd_configs", []) for name in sd["names"]
        ]
        for target in targets:
            host, port = target.rsplit(":", 1)
            if host not in services:
                problems.append(f"{job['job_name']}: {target} is no service")
                continue
            address = listens(services[host]).get(int(port))
            if address != "0.0.0.0":
                problems.append(f"{job['job_name']}: {target} listens on {address}")
    for name, service in services.items():
        for host_ip, port in published(service):
            if service.get("image") is None and listens(service).get(port) != "0.0.0.0":
                problems.append(f"{name}: published port {port} has nothing on 0.0.0.0 behind it")
            if host_ip != "127.0.0.1":
                problems.append(f"{name}: port {port} is published on {host_ip}, not 127.0.0.1")
    return problems


def load(path: Any) -> dict[str, Any]:
    """A YAML file; ${VAR:-default} resolved to its default, as compose does with VAR unset."""
    text = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", path.read_text())
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_every_scrape_target_and_published_port_is_reachable() -> None:
    compose, prometheus = load(COMPOSE), load(PROMETHEUS)
    assert reachability_problems(compose, prometheus) == []
    flower = compose["services"]["flower"]
    assert listens(flower) == {FLOWER_PORT: "0.0.0.0"}
    assert published(flower) == [("127.0.0.1", FLOWER_PORT)]


def test_the_reachability_check_catches_a_loopback_flower() -> None:
    compose, prometheus = load(COMPOSE), load(PROMETHEUS)
    broken = copy.deepcopy(compose)
    broken["services"]["flower"]["command"] = ["flower"]  # as it was: 127.0.0.1 in the container
    broken["services"]["flower"]["ports"] = ["5555:5555"]
    broken["services"]["orchestrator"]["environment"].pop("CLOUDRENDER_METRICS_ADDR")
    assert reachability_problems(broken, prometheus) == [
        "cloudrender-orchestrator: orchestrator:9808 listens on 127.0.0.1",
        "flower: flower:5555 listens on 127.0.0.1",
        "flower: published port 5555 has nothing on 0.0.0.0 behind it",
        "flower: port 5555 is published on 0.0.0.0, not 127.0.0.1",
    ]


def compose_command() -> list[str] | None:
    """``docker compose`` (the plugin) or ``docker-compose`` (v1), whichever works here."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


@pytest.mark.skipif(
    compose_command() is None and not os.environ.get("CI"),
    reason="no docker compose (scripts/test.sh installs docker-compose; under CI it must run)",
)
def test_compose_config_as_docker_resolves_it_is_reachable() -> None:
    command = compose_command()
    assert command is not None, "docker compose is missing"
    roles = ("CLIENT", "WORKER", "ORCHESTRATOR")
    env = {f"REDIS_{role}_PASSWORD": "x" for role in roles} | {"FLOWER_AUTH": "a:b"}
    done = subprocess.run(
        [*command, "-f", str(COMPOSE), "config"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    assert reachability_problems(resolved, load(PROMETHEUS)) == []
    assert listens(resolved["services"]["flower"]) == {FLOWER_PORT: "0.0.0.0"}


# -- the API behind Caddy -----------------------------------------------------------------------

CADDYFILE = DEPLOY / "caddy" / "Caddyfile"


def caddy_directives(text: str) -> list[list[str]]:
    """Each line of a Caddyfile as words (comments and blank lines dropped)."""
    lines = [line.split("#", 1)[0].split() for line in text.splitlines()]
    return [words for words in lines if words]


def caddy_default(word: str) -> str:
    """A Caddyfile word with its {$VAR:default} placeholders resolved to their defaults."""
    return re.sub(r"\{\$[A-Z_]+:([^}]*)\}", r"\1", word)


def test_the_api_is_reached_only_through_caddy() -> None:
    compose = load(COMPOSE)
    services = compose["services"]
    api, caddy = services["api"], services["caddy"]
    assert api["command"][0] == "serve"
    port, address = next(iter(listens(api).items()))
    assert address == "0.0.0.0"  # Caddy, in its own container, reaches it
    assert not api.get("ports"), "the API's plain HTTP must not be published"
    assert environment(api)["CLOUDRENDER_BROKER_URL"].startswith("redis://orchestrator:")
    assert "./deploy/caddy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    assert {port for _, port in published(caddy)} == {80, 443}
    assert all(host == "127.0.0.1" for host, _ in published(caddy))  # unless asked otherwise
    for name, service in services.items():
        if name not in DOORS:
            assert all(host == "127.0.0.1" for host, _ in published(service)), name
    # The Caddyfile proxies to that service and port, flushing every event at once, with TLS.
    words = caddy_directives(CADDYFILE.read_text())
    (proxy,) = [w for w in words if w[0] == "reverse_proxy"]
    assert caddy_default(proxy[1]) == f"api:{port}"
    assert ["flush_interval", "-1"] in words
    (tls,) = [w for w in words if w[0] == "tls"]
    assert caddy_default(tls[1]) == "internal"
    assert ["skip_install_trust"] in words  # never touches the host's trust store


def test_the_images_hold_the_server_package() -> None:
    for name in ("Dockerfile.cpu", "Dockerfile.gpu"):
        assert "COPY server server" in (DEPLOY / name).read_text().splitlines(), name
