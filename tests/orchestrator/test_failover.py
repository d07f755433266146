"""The tick's failover on a real Redis: chunks of dead nodes and chunks that stall."""

from __future__ import annotations

import json
import time

import pytest

from common.settings import Settings
from orchestrator import keys
from orchestrator.celery_app import make_app
from orchestrator.failover import check_jobs
from orchestrator.health import STALLED_SECONDS
from orchestrator.job_events import read_events
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.worker_hooks import WorkerHooks

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def service(redis_url: str) -> WorkerHooks:
    """A rendering job "j" of two chunks on a cluster whose one render node, n1, is alive."""
    store = JobStore.from_url(redis_url)
    svc = WorkerHooks(store, make_app(Settings(broker_url=redis_url, result_backend=redis_url)))
    store.create(JobRecord(id="j", submitted_at=time.time(), frames=20), {})
    store.set_chunks("j", [ChunkRecord(i, i * 10, i * 10 + 10) for i in range(2)], {})
    store.transition("j", JobState.PLANNING)
    store.transition("j", JobState.RENDERING)
    store.redis.delete(keys.pending("j"))
    now = time.time()
    beat = {"name": "n1", "concurrency": 1, "since": now, "time": now, "queues": ["render"]}
    store.redis.set(keys.node("n1"), json.dumps(beat), ex=60)
    return svc


def stalls(service: WorkerHooks, node: str) -> None:
    """Chunk 0 starts on `node`, which stays alive, and then reports nothing for too long."""
    store = service.store
    task_id = store.chunk("j", 0).task_id or "t0"
    assert service.chunk_started("j", 0, task_id, node)
    chunk = store.chunk("j", 0)
    chunk.started_at = chunk.updated_at = time.time() - STALLED_SECONDS - 5
    assert store.save_chunk("j", chunk)


def test_a_chunk_that_stalls_on_every_run_fails_the_job_instead_of_looping(
    service: WorkerHooks,
) -> None:
    store = service.store
    # Given a chunk that stalls on the only node, which keeps heartbeating
    stalls(service, "n1")
    check_jobs(service)
    # Then the first stall requeues it, counted against the node, naming the stall
    chunk = store.chunk("j", 0)
    assert chunk.state is ChunkState.RETRYING and chunk.failed_nodes == ["n1"]
    assert chunk.error is not None and "no progress" in chunk.error
    assert store.get("j").node_failures == {"n1": 1}
    requeued = [e for _, e in read_events(store.redis, "j") if e["event"] == "chunk_requeued"]
    assert [e["reason"] for e in requeued] == ["stalled"]
    # And when it stalls again, no live node is left to take it: the job fails, saying why
    stalls(service, "n1")
    check_jobs(service)
    record = store.get("j")
    assert record.state is JobState.FAILED
    assert record.error is not None and "no progress" in record.error


def test_a_chunk_whose_node_died_is_requeued_without_counting_against_it(
    service: WorkerHooks,
) -> None:
    """A node lost (spot reclaim, a crash of the machine) is not the chunk's fault."""
    store = service.store
    for _ in range(3):
        stalls(service, "gone")  # a node with no heartbeat
        check_jobs(service)
    chunk = store.chunk("j", 0)
    assert chunk.state is ChunkState.RETRYING and chunk.failed_nodes == []
    assert store.get("j").node_failures == {}
    assert store.state("j") is JobState.RENDERING
