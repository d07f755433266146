"""The deploy files: Prometheus and Grafana configs parse, and the dashboard queries only metric
names that our exporters (or Flower) actually serve."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
import yaml

from monitoring.gpu import GPU_METRIC_NAMES
from monitoring.metrics import METRIC_NAMES
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
    assert rows == ["Cluster", "Jobs", "Cost", "GPUs"]
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
