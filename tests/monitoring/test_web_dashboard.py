"""The web dashboard's data: a snapshot of a busy store, and the throughput history's ring
buffer of per-minute rates sampled from the render counters."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from common.settings import Settings
from monitoring.web_dashboard import Throughput, frame_counters, read_jobs, snapshot
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.budget_rules import Scope
from orchestrator.budgets import set_budget
from orchestrator.job_store import JobStore
from orchestrator.render_counters import counters_key
from tests.helpers import clock_ahead, ten_seconds_into_rendering

POOLS = """
[pools.sim]
provider = "memory"
max_nodes = 4
price_per_hour = 0.5
"""


@pytest.fixture
def api(busy_store: JobStore, redis_url: str, tmp_path: Path) -> Iterator[CloudRenderingAPI]:
    pools = tmp_path / "pools.toml"
    pools.write_text(POOLS)
    settings = dataclasses.replace(
        Settings.from_env(), hourly_rate=0.2, pools_file=str(pools), pool_overrides={}
    )
    client = CloudRenderingAPI(redis_url, storage_url=f"file://{tmp_path}", settings=settings)
    yield client
    client.store.redis.close()


def test_snapshot_of_a_busy_store(api: CloudRenderingAPI) -> None:
    now = time.time()
    data = snapshot(api, now=now, host_gpu=None)
    json.dumps(data)  # what the SSE stream sends must be plain JSON

    cluster = data["cluster"]
    assert cluster["nodes"] == 2 and cluster["slots"] == 5 and cluster["draining"] == 1
    assert cluster["queued_chunks"] == 1 and cluster["active_jobs"] == 1
    assert data["paused"] is False
    assert data["spend"]["hourly_rate"] == 0.2
    assert data["spend"]["slots_per_hour"] == pytest.approx(1.0)

    # One active job: chunk 0 done (20 frames), chunk 1 at 8 of 20 frames for 4 s.
    (job,) = data["jobs"]
    assert job["id"] == "r" and job["state"] == "rendering"
    assert job["progress"] == pytest.approx(0.7)
    assert job["frames_done"] == 28 and job["frames"] == 40
    assert job["chunks"] == 2 and job["chunks_running"] == 1 and job["chunks_done"] == 1
    assert job["fps"] == pytest.approx(2.0, rel=0.05)
    assert job["eta_seconds"] is not None
    assert cluster["busy"] == 1 and cluster["fps"] == pytest.approx(job["fps"])

    # The finished ones, newest first; the completed job keeps its final cost.
    assert [(j["id"], j["state"]) for j in data["recent"]] == [
        ("f", "failed"),
        ("d", "completed"),
    ]
    assert data["recent"][1]["cost"] == pytest.approx(0.5)

    queue = data["queue"]
    assert queue["priorities"][0] == "urgent"
    assert queue["chunks"]["urgent"] == 1 and queue["chunks"]["normal"] == 2
    assert queue["jobs"]["normal"] == 1

    nodes = {n["name"]: n for n in data["nodes"]}
    assert set(nodes) == {"node-a", "node-b"}
    assert nodes["node-b"]["status"] == "draining" and nodes["node-a"]["status"] == "alive"
    assert nodes["node-a"]["completed_chunks"] == 1 and nodes["node-b"]["active_chunks"] == 1
    assert nodes["node-a"]["gpu_utilization_percent"] is None

    (pool,) = data["pools"]
    assert pool["name"] == "sim" and pool["max_nodes"] == 4 and pool["override"] is None
    assert data["budgets"] == [] and data["throughput"] is None


def test_snapshot_shows_pause_budgets_spend_and_node_resources(api: CloudRenderingAPI) -> None:
    now = time.time()
    client = api.store.redis
    api.pause_all()
    set_budget(client, Scope.PROJECT, "film", daily=10.0)
    client.hset(keys.BILLING, time.strftime("%Y-%m-%d", time.gmtime(now)), "2.5")
    beat = json.loads(client.get(keys.node("node-a")))
    beat.update(cpu_percent=52.0, memory_used_bytes=64, memory_total_bytes=100, gpu_percent=78)
    client.set(keys.node("node-a"), json.dumps(beat), ex=60)
    api.scale_pool("sim", 3, duration=600)

    data = snapshot(api, now=now, host_gpu=12.5, history=Throughput())

    assert data["paused"] is True
    (budget,) = data["budgets"]
    assert budget["name"] == "film" and budget["limit"] == 10.0 and budget["period"] == "daily"
    assert data["spend"]["today"] == pytest.approx(2.5)
    node = next(n for n in data["nodes"] if n["name"] == "node-a")
    assert node["cpu_utilization_percent"] == 52.0 and node["memory_percent"] == 64.0
    assert node["gpu_utilization_percent"] == 78.0
    assert data["host"]["gpu_utilization_percent"] == 12.5
    assert data["pools"][0]["override"] == 3
    assert len(data["throughput"]["points"]) == 60


def test_recent_jobs_are_capped_and_skip_active_ones(api: CloudRenderingAPI) -> None:
    active, finished = read_jobs(api, recent=1)
    assert [r.id for r in active] == ["r"]
    assert [r.id for r in finished] == ["f"]


def test_frame_counters_sum_every_node(busy_store: JobStore) -> None:
    client = busy_store.redis
    assert frame_counters(client) == {}
    client.hset(counters_key("node-a"), mapping={"frames": 120, "chunks:done": 4})
    client.hset(counters_key("cluster"), mapping={"jobs:cancelled": 1})
    assert frame_counters(client) == {counters_key("node-a"): 120.0}


def test_throughput_counts_increases_per_minute() -> None:
    history = Throughput()
    start = 1_700_000_000.0 // 60 * 60  # a minute's start
    assert history.observe({"a": 100.0}, start) == 0  # the first sample is the baseline
    assert history.observe({"a": 130.0}, start + 10) == 30
    # A node that appears later counts everything: it started after the previous sample.
    assert history.observe({"a": 160.0, "b": 20.0}, start + 20) == 50
    # A counter that went down was reset (its hash expired): its value is new.
    assert history.observe({"a": 5.0, "b": 20.0}, start + 30) == 5
    assert history.observe({"a": 65.0, "b": 20.0}, start + 70) == 60  # the next minute
    assert history.total == 145

    chart = history.chart(start + 75)
    points = chart["points"]
    assert len(points) == 60 and chart["window_seconds"] == 3600
    assert points[-1]["t"] == start + 60 and points[-2]["t"] == start
    assert points[-2]["frames"] == 85 and points[-2]["fps"] == pytest.approx(85 / 30, abs=1e-3)
    assert points[-1]["frames"] == 60 and points[-1]["fps"] == pytest.approx(60 / 40, abs=1e-3)
    assert all(p["fps"] is None for p in points[:-2])  # never sampled: a gap, not a zero
    assert "frames_rendered_total" in chart["source"]


def test_throughput_after_a_gap_starts_afresh() -> None:
    history = Throughput(max_gap=120)
    history.observe({"a": 0.0}, 1000.0)
    history.observe({"a": 10.0}, 1005.0)
    # Nobody sampled for ten minutes: those frames are not put into the minute of the sample.
    assert history.observe({"a": 5000.0}, 1605.0) == 0
    assert history.observe({"a": 5012.0}, 1610.0) == 12
    assert history.observe({"a": 5011.0}, 1609.0) == 0  # out of order: ignored
    assert history.observe({"a": 5020.0}, 1615.0) == 8
    assert history.total == 30


def test_throughput_keeps_one_hour() -> None:
    history = Throughput(minutes=60)
    for i in range(200):
        history.observe({"a": float(i)}, 30.0 * i)
    points = history.chart(30.0 * 199)["points"]
    assert len(points) == 60
    assert all(p["fps"] == pytest.approx(1 / 30, abs=1e-3) for p in points[1:])


def test_the_web_dashboard_measures_jobs_on_the_clusters_clock(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API's host five minutes ahead of Redis showed a job 10 s into rendering at 60 of 600
    frames with 2790 s to go, not 90 s."""
    store = JobStore.from_url(redis_url)
    ten_seconds_into_rendering(store)
    clock_ahead(monkeypatch, 300)
    (job,) = snapshot(CloudRenderingAPI(redis_url))["jobs"]
    assert 80 <= job["eta_seconds"] <= 140
