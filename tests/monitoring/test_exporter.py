"""The Prometheus exporter scraped over HTTP: every metric served, and a lost store."""

from __future__ import annotations

import base64
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from common.errors import RenderError
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
    info = (("node", "node-b"), ("role", "render"), ("status", "draining"))
    assert values[(PREFIX + "node_info", info)] == 1
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


# -- access ---------------------------------------------------------------------------------------


def fetch(url: str, auth: str | None = None, header: str | None = None) -> tuple[int, str]:
    """Status and body of a GET with basic auth credentials (or this Authorization header)."""
    request = urllib.request.Request(url)
    if auth is not None:
        header = "Basic " + base64.b64encode(auth.encode()).decode()
    if header is not None:
        request.add_header("Authorization", header)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


def test_exporter_listens_on_loopback_by_default() -> None:
    dead = exporter.scrape_store("redis://127.0.0.1:1/0")
    server, thread = exporter.start_exporter(dead, 0, gpus=False)
    try:
        assert server.socket.getsockname()[0] == "127.0.0.1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_basic_auth_guards_every_path() -> None:
    dead = exporter.scrape_store("redis://127.0.0.1:1/0")
    server, thread = exporter.start_exporter(dead, 0, gpus=False, auth="prom:s3cr:t")
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        for path in ("/metrics", "/", "/favicon.ico"):
            assert fetch(base + path)[0] == 401
        for wrong in ("prom:s3cr", "prom:s3cr:t ", "other:s3cr:t", "prom:"):
            assert fetch(base + "/metrics", wrong)[0] == 401, wrong
        for header in ("Basic %%", "Bearer prom:s3cr:t", "Basic", "basic cHJvbTpzM2NyOnQ"):
            assert fetch(base + "/metrics", header=header)[0] == 401, header
        # The scheme is case-insensitive (RFC 7617).
        assert fetch(base + "/metrics", header="basic cHJvbTpzM2NyOnQ=")[0] == 200
        status, body = fetch(base + "/metrics", "prom:s3cr:t")
        assert status == 200 and PREFIX + "store_up 0.0" in body
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("auth", ["nopassword", ":password", "user:"])
def test_malformed_auth_is_one_line(auth: str) -> None:
    with pytest.raises(RenderError, match="user:password; check CLOUDRENDER_METRICS_AUTH"):
        exporter.basic_auth(lambda environ, start_response: [], auth)


@pytest.mark.parametrize(
    ("addr", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("metrics.example", False),
    ],
)
def test_loopback_addresses(addr: str, loopback: bool) -> None:
    assert exporter.is_loopback(addr) is loopback
