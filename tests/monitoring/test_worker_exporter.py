"""A real worker serves /metrics when CLOUDRENDER_METRICS_PORT is set, with live cluster values."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from cli import WORKER_APP
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import JobState
from orchestrator.processes import free_port
from tests.helpers import colour_project

pytestmark = pytest.mark.timeout(180)


def scrape(url: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith((name + " ", name + "{")):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exposed")


def test_worker_exports_cluster_metrics(tmp_path: Path) -> None:
    port = free_port()
    env = {"CLOUDRENDER_METRICS_PORT": str(port), "CLOUDRENDER_METRICS_ADDR": "127.0.0.1"}
    with EmbeddedCluster(workers=1, env=env, app=WORKER_APP) as cluster:
        api = CloudRenderingAPI(cluster.broker_url, storage_url=f"file://{tmp_path / 's'}")
        doc = colour_project(1, "#808080")
        job = api.submit_job(doc, output=str(tmp_path / "out.mp4"), chunk_frames=10)
        assert api.wait(job, timeout=120).state is JobState.COMPLETED
        text = scrape(f"http://127.0.0.1:{port}/metrics")
    assert sample(text, "cloudrender_store_up") == 1
    assert sample(text, "cloudrender_active_nodes") == 1
    assert sample(text, 'cloudrender_jobs{state="completed"}') >= 1
    assert sample(text, "cloudrender_frame_seconds_average") > 0
    assert sample(text, "cloudrender_cost_dollars_total") > 0
    assert "cloudrender_node_completed_chunks" in text
