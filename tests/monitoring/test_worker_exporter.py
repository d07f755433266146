"""A real worker serves /metrics when CLOUDRENDER_METRICS_PORT is set, with live cluster values,
and its render counters count each chunk once although two pool processes render them."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

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


def samples_of(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample called `name`, by its sorted labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_worker_exports_cluster_metrics_and_counts_each_chunk_once(tmp_path: Path) -> None:
    port = free_port()
    env = {"CLOUDRENDER_METRICS_PORT": str(port), "CLOUDRENDER_METRICS_ADDR": "127.0.0.1"}
    # One worker node with two prefork pool processes rendering the chunks side by side.
    with EmbeddedCluster(workers=2, env=env, app=WORKER_APP) as cluster:
        api = CloudRenderingAPI(cluster.broker_url, storage_url=f"file://{tmp_path / 's'}")
        doc = colour_project(2, "#808080")
        job = api.submit_job(doc, output=str(tmp_path / "out.mp4"), chunk_frames=8)
        record = api.wait(job, timeout=150)
        assert record.state is JobState.COMPLETED
        text = scrape(f"http://127.0.0.1:{port}/metrics")
        nodes = {c.node for c in record.chunks}
    assert sample(text, "cloudrender_store_up") == 1
    assert sample(text, "cloudrender_active_nodes") == 1
    assert sample(text, 'cloudrender_stored_jobs{state="completed"}') >= 1
    assert sample(text, "cloudrender_frame_seconds_average") > 0
    assert sample(text, "cloudrender_cost_dollars_total") > 0
    assert "cloudrender_node_completed_chunks" in text

    chunks, frames = len(record.chunks), record.frames
    assert chunks >= 5 and len(nodes) == 1  # several chunks, one node
    done = samples_of(text, "cloudrender_chunks_total")
    (node,) = {dict(labels)["node"] for labels in done} - {"cluster"}
    assert node == nodes.pop()  # the exporter speaks for the node the chunks ran on
    assert done[(("node", node), ("outcome", "done"))] == chunks
    assert sum(v for labels, v in done.items() if dict(labels)["outcome"] == "done") == chunks
    assert sum(samples_of(text, "cloudrender_frames_rendered_total").values()) == frames
    assert sum(samples_of(text, "cloudrender_chunk_seconds_count").values()) == chunks
    completed = samples_of(text, "cloudrender_jobs_total")
    assert sum(v for labels, v in completed.items() if ("state", "completed") in labels) == 1
    assert sum(samples_of(text, "cloudrender_job_seconds_count").values()) == 1
