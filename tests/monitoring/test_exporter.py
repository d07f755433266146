"""The Prometheus exporter scraped over HTTP: every metric served, and a lost store."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from common.names import QUEUE_RENDER
from monitoring import exporter
from monitoring.metrics import METRIC_NAMES, PREFIX
from orchestrator.job_store import JobStore

# -- the exporter ---------------------------------------------------------------------------------


@pytest.fixture
def scrape(busy_store: JobStore) -> Iterator[str]:
    server, thread = exporter.start_exporter(busy_store, 0, hourly_rate=0.2)
    try:
        yield f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def samples(url: str) -> tuple[set[str], dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """Family names plus sample names, and each sample's value by (name, sorted labels)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    names: set[str] = set()
    values = {}
    for family in text_string_to_metric_families(text):
        # The parser names a counter family without its _total, which queries use.
        names.add(family.name + ("_total" if family.type == "counter" else ""))
        for sample in family.samples:
            names.add(sample.name)
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return names, values


def test_exporter_serves_every_metric(scrape: str) -> None:
    names, values = samples(scrape)
    assert set(METRIC_NAMES) <= names
    assert values[(PREFIX + "active_nodes", ())] == 2
    assert values[(PREFIX + "worker_slots", ())] == 5
    assert values[(PREFIX + "hourly_rate_dollars", ())] == pytest.approx(1.0)
    assert values[(PREFIX + "cost_dollars_total", ())] == pytest.approx(1.75)
    assert values[(PREFIX + "queue_length", (("priority", "normal"), ("queue", QUEUE_RENDER)))] == 2
    assert values[(PREFIX + "queue_length", (("priority", "urgent"), ("queue", QUEUE_RENDER)))] == 1
    assert values[(PREFIX + "jobs", (("state", "completed"),))] == 1
    assert values[(PREFIX + "deadline_miss_ratio", ())] == 1.0
    assert values[(PREFIX + "node_info", (("node", "node-b"), ("status", "draining")))] == 1
    assert values[(PREFIX + "node_active_chunks", (("node", "node-b"),))] == 1
    assert values[(PREFIX + "node_completed_chunks", (("node", "node-a"),))] == 1
    assert values[(PREFIX + "store_up", ())] == 1
    # Every sample served carries our prefix or comes from monitoring.gpu (also ours).
    assert all(name.startswith(PREFIX) for name in names)


def test_exporter_survives_a_lost_store() -> None:
    # Nothing listens on port 1: the scrape must still answer, quickly, and say so.
    dead = exporter.scrape_store("redis://127.0.0.1:1/0")
    server, thread = exporter.start_exporter(dead, 0, gpus=False)
    try:
        names, values = samples(f"http://127.0.0.1:{server.server_port}/metrics")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert values[(PREFIX + "store_up", ())] == 0
    assert (PREFIX + "active_nodes", ()) not in values
    assert set(METRIC_NAMES) <= names  # families are still declared, without samples
