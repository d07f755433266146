"""The Prometheus exporter scraped over HTTP: every metric served, and a lost store."""

from __future__ import annotations

import base64
import contextlib
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from common.errors import RenderError
from common.names import QUEUE_RENDER
from monitoring import exporter
from monitoring.metrics import HISTOGRAM_METRICS, METRIC_NAMES, PREFIX
from orchestrator import render_counters
from orchestrator.job_store import JobStore

# -- the exporter ---------------------------------------------------------------------------------


@contextlib.contextmanager
def serving(store: JobStore, **options: Any) -> Iterator[str]:
    """An exporter on a free port for the duration; yields its /metrics URL."""
    server, thread = exporter.start_exporter(store, 0, **options)
    try:
        yield f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def scrape(busy_store: JobStore) -> Iterator[str]:
    render_counters.record(
        busy_store.redis, "render@a", render_counters.event_counts("chunk_done", {"seconds": 3})
    )
    with serving(busy_store, hourly_rate=0.2, node="render@a") as url:
        yield url


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
    assert values[(PREFIX + "stored_jobs", (("state", "completed"),))] == 1
    assert values[(PREFIX + "deadline_miss_ratio", ())] == 1.0
    info = (("node", "node-b"), ("role", "render"), ("status", "draining"))
    assert values[(PREFIX + "node_info", info)] == 1
    assert values[(PREFIX + "node_active_chunks", (("node", "node-b"),))] == 1
    assert values[(PREFIX + "node_completed_chunks", (("node", "node-a"),))] == 1
    assert values[(PREFIX + "store_up", ())] == 1
    node = (("node", "render@a"),)
    assert values[(PREFIX + "chunks_total", (*node, ("outcome", "done")))] == 1
    assert values[(PREFIX + "chunks_total", (*node, ("outcome", "failed")))] == 0
    assert values[(PREFIX + "chunk_seconds_bucket", (("le", "2.5"), *node))] == 0
    assert values[(PREFIX + "chunk_seconds_bucket", (("le", "5.0"), *node))] == 1
    assert values[(PREFIX + "chunk_seconds_count", node)] == 1
    assert values[(PREFIX + "jobs_total", (*node, ("state", "cancelled")))] == 0
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
    assert not any(name.startswith(PREFIX + "chunks") for name, _ in values)
    # Families are still declared, without samples (so no histogram _bucket series).
    histogram_series = {n + s for n, _ in HISTOGRAM_METRICS for s in ("_bucket", "_sum", "_count")}
    assert set(METRIC_NAMES) - histogram_series <= names


# -- counters: each exporter serves its own node's -----------------------------------------------


def total(url: str, name: str, **labels: str) -> float:
    """The sum of a sample over the label values not given (one scrape)."""
    _, values = samples(url)
    return sum(
        v
        for (sample, sample_labels), v in values.items()
        if sample == name and labels.items() <= dict(sample_labels).items()
    )


def test_summing_over_every_exporter_gives_the_cluster_total(redis_url: str) -> None:
    store = exporter.scrape_store(redis_url)
    client = store.redis
    done = render_counters.event_counts("chunk_done", {"seconds": 2.0, "frames": 24})
    for node, chunks in (("render@a", 3), ("render@b", 5)):
        for _ in range(chunks):
            render_counters.record(client, node, done)
    render_counters.record(
        client, "orchestrator@o", render_counters.event_counts("completed", {"seconds": 70})
    )
    render_counters.job_ended(client, "gone", "cancelled")  # a client's cancel: the cluster's
    with contextlib.ExitStack() as stack:
        urls = [
            stack.enter_context(serving(store, gpus=False, node="render@a")),
            stack.enter_context(serving(store, gpus=False, node="render@b")),
            stack.enter_context(
                serving(store, gpus=False, node="orchestrator@o", orchestrator=True)
            ),
        ]
        per_target = [total(u, PREFIX + "chunks_total", outcome="done") for u in urls]
        assert per_target == [3, 5, 0]  # each its own node's
        assert sum(total(u, PREFIX + "frames_rendered_total") for u in urls) == 8 * 24
        assert sum(total(u, PREFIX + "chunk_seconds_count") for u in urls) == 8
        assert sum(total(u, PREFIX + "jobs_total", state="completed") for u in urls) == 1
        assert sum(total(u, PREFIX + "jobs_total", state="cancelled") for u in urls) == 1
        assert total(urls[2], PREFIX + "jobs_total", node="cluster") == 1
        # Scraped again, nothing moved: reading never counts.
        assert sum(total(u, PREFIX + "chunks_total") for u in urls) == 8


@pytest.mark.parametrize(
    ("node", "orchestrator", "nodes"),
    [
        ("render@a", False, ("render@a",)),
        ("orchestrator@o", True, ("orchestrator@o", "cluster")),
        (None, True, ("cluster",)),
        (None, False, ()),
    ],
)
def test_counter_nodes(node: str | None, orchestrator: bool, nodes: tuple[str, ...]) -> None:
    assert exporter.counter_nodes(node, orchestrator) == nodes


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
