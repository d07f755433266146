"""Fixtures shared by the whole test suite: a private Redis (never the system one on 6379), a
job store with a little of everything in it, the embedded cluster of a module's end-to-end tests,
and the command-line runner. Plain helpers (the repository root, project builders) are in
``tests.helpers``.

Celery's own in-process fixtures (``celery_app``, ``celery_worker``, ``celery_config``, ...;
``celery.contrib.pytest``) come with the pytest-celery plugin; see ``celery_worker`` below.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

import pytest
import redis

# pytest-celery (>= 1.0) registers Celery's in-process fixtures but replaces their
# ``celery_worker`` by its Docker-based one (a worker container per test). Unit tests of task
# bodies and signals need only a worker thread in this process: take Celery's back. The real
# subprocess clusters of the end-to-end tests are ``cluster`` / ``embedded_cluster`` below.
from celery.contrib.pytest import celery_worker  # noqa: F401

from common.errors import RenderError
from common.names import QUEUE_RENDER
from orchestrator import keys
from orchestrator.embedded import EmbeddedCluster
from orchestrator.embedded_redis import EmbeddedRedis, find_redis_server
from orchestrator.job_record import ChunkRecord, JobRecord, JobState
from orchestrator.job_store import JobStore
from tests.helpers import CLI
from workers import job_spec


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cluster(workers=1, **options): EmbeddedCluster's arguments for the module's "
        "`embedded_cluster` (set it in the module's pytestmark)",
    )


@pytest.fixture(autouse=True)
def worker_runtime() -> Iterator[None]:
    """Leave this process's worker runtime (its encryption key above all) as the test found it:
    an API made with a key configures the process, and a later test's storage was then an
    encrypted one (test_merge_task after test_render_through_storage)."""
    saved = dict(vars(job_spec._RUNTIME))
    yield
    vars(job_spec._RUNTIME).clear()
    vars(job_spec._RUNTIME).update(saved)


@pytest.fixture(scope="session", autouse=True)
def embedded_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Where `cloudrender render`'s private clusters keep their lasting storage in this session:
    a temporary directory, never the user's ~/.cache."""
    path = str(tmp_path_factory.mktemp("embedded"))
    prices = str(tmp_path_factory.mktemp("prices") / "prices.json")
    memo = str(tmp_path_factory.mktemp("fingerprint") / "fingerprint-files.json")
    # Workers started by tests skip the first-start node benchmark (tests that want it run it),
    # no refreshed price file of the user's is read, and the fingerprint's memo of library
    # hashes is the session's own.
    changes = {
        "CLOUDRENDER_EMBEDDED_DIR": path,
        "CLOUDRENDER_BENCHMARK_ON_START": "0",
        "CLOUDRENDER_PRICES_FILE": prices,
        "CLOUDRENDER_FINGERPRINT_MEMO": memo,
    }
    old = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    yield path
    for name, value in old.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """A private redis-server on a free port for the whole session."""
    try:
        find_redis_server()
    except RenderError as exc:
        # Like dramatiq's check_redis: a developer without Redis skips, CI must not.
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> Iterator[str]:
    """The session Redis's URL, with every database flushed before and after the test."""
    _flush(redis_server.url)
    yield redis_server.url
    _flush(redis_server.url)


def _flush(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        client.flushall()


@pytest.fixture
def busy_store(redis_url: str) -> JobStore:
    """A store with two nodes, a rendering job, a completed late job, a failed job and billing."""
    s = JobStore.from_url(redis_url)
    now = time.time()
    rendering = JobRecord(id="r", state=JobState.QUEUED, frames=40, submitted_at=now - 30)
    s.create(rendering, {})
    s.set_chunks("r", [ChunkRecord(0, 0, 20), ChunkRecord(1, 20, 40)], {})
    s.transition("r", JobState.PLANNING)
    s.transition("r", JobState.RENDERING)
    s.chunk_started("r", 0, "node-a", "t0")
    s.chunk_done("r", 0, seconds=5.0)
    s.chunk_started("r", 1, "node-a", "t1")
    s.chunk_failed("r", 1, "boom", retrying=True)
    s.chunk_started("r", 1, "node-b", "t2")  # second attempt
    c1 = s.chunk("r", 1)
    c1.started_at, c1.frames_done = now - 4, 8
    s.save_chunk("r", c1)

    done = JobRecord(
        id="d", state=JobState.QUEUED, frames=100, submitted_at=now - 100, deadline=now - 50
    )
    s.create(done, {})
    for state in (JobState.PLANNING, JobState.RENDERING, JobState.MERGING):
        s.transition("d", state)
    s.update("d", actual_cost=0.5)
    s.transition("d", JobState.COMPLETED, started_at=now - 90, finished_at=now - 40)

    s.create(JobRecord(id="f", submitted_at=now - 20), {})
    s.transition("f", JobState.FAILED)

    for name, conc, draining in (("node-a", 2, False), ("node-b", 3, True)):
        payload = {
            "name": name,
            "concurrency": conc,
            "pid": 1,
            "since": now - 60,
            "time": now,
            "draining": draining,
        }
        s.redis.set(keys.node(name), json.dumps(payload), ex=60)
    s.redis.hset(keys.BILLING, mapping={"2026-01-01": "1.25", "2026-01-02": "0.5"})
    render = keys.queue_keys(QUEUE_RENDER)
    s.redis.rpush(render["normal"], "m1", "m2")
    s.redis.rpush(render["urgent"], "m0")
    s.redis.zadd(keys.QUEUED, {"r:1": now})
    return s


@pytest.fixture(scope="module")
def embedded_cluster(request: pytest.FixtureRequest) -> Iterator[EmbeddedCluster]:
    """A private cluster (its own redis-server and real worker processes) that the tests of one
    module share. One worker slot unless the module says otherwise, e.g.
    ``pytestmark = pytest.mark.cluster(workers=2)``."""
    marker = request.node.get_closest_marker("cluster")
    options = {"workers": 1, **(marker.kwargs if marker else {})}
    with EmbeddedCluster(**options) as running:
        yield running


@pytest.fixture(scope="module")
def cluster(embedded_cluster: EmbeddedCluster) -> str:
    """The broker URL of the module's ``embedded_cluster``."""
    return embedded_cluster.broker_url


@pytest.fixture
def cli() -> CLI:
    """Runs ``python -m cli ARGS`` in a subprocess, as users run it (``tests.helpers.CLI``)."""
    return CLI()
