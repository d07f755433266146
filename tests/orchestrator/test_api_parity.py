"""A script moves from Redis to HTTP by changing its constructor (docs/api.md): the two Python
clients have the same public methods with the same result types, and they answer alike."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from common.errors import RenderError
from common.settings import Settings
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_estimate import JobEstimate
from orchestrator.api_results import ReuseEstimate
from orchestrator.costing import BASES
from orchestrator.estimate_quote import reuse_estimate
from orchestrator.http_client import HTTPRenderingAPI
from orchestrator.http_errors import PermissionDenied
from orchestrator.job_record import ChunkRecord, JobRecord, JobState
from orchestrator.segment_cache import CacheStats
from tests.helpers import colour_project
from tests.server import conftest as server_fixtures
from tests.server.conftest import ServerCluster

# The service's fixtures (tests/server/conftest.py), found by name.
server_cluster = server_fixtures.server_cluster
key_store = server_fixtures.key_store
operator_key = server_fixtures.operator_key
user_key = server_fixtures.user_key
api_app = server_fixtures.api_app
live_server = server_fixtures.live_server

#: What only one of them has: closing HTTP's connections, and its per-job event iterator.
HTTP_ONLY = {"close", "events"}
REDIS_ONLY: set[str] = set()
#: Same role, each its transport's: a pub/sub subscription, an SSE one.
OWN_RESULT = {"on_progress_update"}


def public(kind: type) -> set[str]:
    return {n for n in dir(kind) if not n.startswith("_") and callable(getattr(kind, n))}


def test_the_two_clients_have_the_same_methods_and_result_types() -> None:
    redis_side, http_side = public(CloudRenderingAPI), public(HTTPRenderingAPI)
    assert http_side - redis_side == HTTP_ONLY
    assert redis_side - http_side == REDIS_ONLY
    for name in sorted((redis_side & http_side) - OWN_RESULT):
        ours = inspect.signature(getattr(CloudRenderingAPI, name)).return_annotation
        theirs = inspect.signature(getattr(HTTPRenderingAPI, name)).return_annotation
        assert ours == theirs, f"{name}: {ours} over Redis, {theirs} over HTTP"


def test_list_jobs_over_redis_is_newest_first_without_chunks(redis_url: str) -> None:
    api = CloudRenderingAPI(redis_url)
    now = time.time()
    for age, (job_id, state) in enumerate([("c", "completed"), ("b", "failed"), ("a", "queued")]):
        api.store.create(JobRecord(id=job_id, state=JobState(state), submitted_at=now - age), {})
    api.store.set_chunks("a", [ChunkRecord(0, 0, 10)], {})
    assert [j.id for j in api.list_jobs()] == ["c", "b", "a"]
    assert all(j.chunks == [] for j in api.list_jobs())
    assert [j.id for j in api.list_jobs(limit=2)] == ["c", "b"]
    assert [j.id for j in api.list_jobs(state="failed")] == ["b"]
    with pytest.raises(RenderError, match="^state 'done' is not one of queued, planning"):
        api.list_jobs(state="done")
    with pytest.raises(RenderError, match="^limit 0 must be at least 1$"):
        api.list_jobs(limit=0)


def test_an_estimate_without_options_is_no_quote() -> None:
    empty = JobEstimate(
        frames=10,
        complexity=1.0,
        chunks=1,
        reused_chunks=0,
        deadline_seconds=None,
        max_cost=None,
        confidence=0.9,
        options=[],
        recommended=None,
        reason="no option fits",
    )
    with pytest.raises(RenderError, match="^the estimate has no option to quote: no option fits"):
        reuse_estimate(empty)


@pytest.fixture
def operator(live_server: str, operator_key: str) -> Iterator[HTTPRenderingAPI]:
    with HTTPRenderingAPI(live_server, operator_key, settings=Settings()) as api:
        yield api


@pytest.fixture
def alice(live_server: str, user_key: str) -> Iterator[HTTPRenderingAPI]:
    with HTTPRenderingAPI(live_server, user_key, settings=Settings()) as api:
        yield api


@pytest.mark.timeout(180)
def test_estimate_cost_and_the_cache_over_http_answer_as_over_redis(
    operator: HTTPRenderingAPI, alice: HTTPRenderingAPI, server_cluster: ServerCluster
) -> None:
    """They were AttributeErrors: the README's example failed over HTTP."""
    direct = CloudRenderingAPI(settings=server_cluster.settings)
    doc = colour_project(0.5, "#335577")
    over_http, over_redis = alice.estimate_cost(doc), direct.estimate_cost(doc)
    assert isinstance(over_http, ReuseEstimate)
    assert (over_http.frames, over_http.chunks) == (over_redis.frames, over_redis.chunks)
    assert over_http.reused_chunks == over_redis.reused_chunks == 0
    assert over_http.cost > 0 and over_http.wall_seconds > 0 and over_http.node_seconds > 0
    assert over_http.hourly_rate == pytest.approx(over_redis.hourly_rate)
    assert over_http.basis in BASES
    assert over_http.cost == pytest.approx(over_http.node_seconds / 3600 * over_http.hourly_rate)

    stats = operator.cache_stats()
    assert isinstance(stats, CacheStats) and stats == direct.cache_stats()
    assert operator.clear_cache() == stats.entries
    assert operator.cache_stats().entries == 0
    for call in (alice.cache_stats, alice.clear_cache):
        with pytest.raises(PermissionDenied):
            call()


def _shape(value: Any) -> Any:
    """A result's type, and its items' types for the containers the clients return."""
    if isinstance(value, dict):
        return dict, sorted({(type(k), type(v)) for k, v in value.items()}, key=str)
    if isinstance(value, list):
        return list, sorted({type(item) for item in value}, key=str)
    return type(value)


@pytest.mark.timeout(180)
def test_the_shared_cluster_methods_return_the_same_shapes_over_http_and_redis(
    operator: HTTPRenderingAPI, server_cluster: ServerCluster
) -> None:
    """scale_cluster answered {"slots", "changes"} over HTTP; paused, render_nodes and
    orchestrator_running were missing (the README's example failed with a new constructor)."""
    direct = CloudRenderingAPI(settings=server_cluster.settings)
    deadline = time.monotonic() + 30
    while not direct.render_nodes() and time.monotonic() < deadline:
        time.sleep(0.2)  # the worker's first heartbeat
    (node,) = direct.render_nodes()
    calls: dict[str, Callable[[Any], Any]] = {
        "paused": lambda api: api.paused(),
        "render_nodes": lambda api: api.render_nodes(),
        "orchestrator_running": lambda api: api.orchestrator_running(),
        "get_cluster_status": lambda api: api.get_cluster_status(),
        "get_pools": lambda api: api.get_pools(),
        "get_metrics": lambda api: api.get_metrics(),
        "get_node_metrics": lambda api: api.get_node_metrics(),
        "get_billing": lambda api: api.get_billing(),
        "list_jobs": lambda api: api.list_jobs(),
        "cache_stats": lambda api: api.cache_stats(),
    }
    for name, call in calls.items():
        assert _shape(call(operator)) == _shape(call(direct)), name
    assert operator.paused() is direct.paused() is False
    assert operator.render_nodes() == direct.render_nodes() == [node]
    assert operator.orchestrator_running() is direct.orchestrator_running() is True
    operator.pause_all()
    try:
        assert operator.paused() is direct.paused() is True
    finally:
        operator.resume_all()
    # The change per node, counted from the size last asked for, whichever client asked.
    try:
        assert operator.scale_cluster(2) == {node: 1}
        assert direct.scale_cluster(1) == {node: -1}
        assert operator.scale_cluster(1) == direct.scale_cluster(1) == {}
    finally:
        direct.scale_cluster(1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            direct.get_cluster_status().slots != 1 or direct.store.redis.keys("cr:slots:*")
        ):
            time.sleep(0.2)
