"""A copy of a chunk that crashes after another copy finished it (a straggler's speculative
copy, a stale redelivery), or while another copy runs it, must neither fail the job nor send
the chunk out again. It read the chunk, set it retrying (a write the store refuses for a done
chunk), then pushed it to pending regardless and, with the node limit reached, failed a job
whose chunk was done."""

from __future__ import annotations

import time

import pytest

from common.errors import RenderError
from common.settings import Settings
from orchestrator import keys
from orchestrator.celery_app import make_app
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.worker_hooks import CHUNK_NODE_LIMIT, WorkerHooks

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def service(redis_url: str) -> WorkerHooks:
    """A rendering job "j" of two chunks; chunk 0 already crashed on all nodes but one short of
    the limit, and now runs on n1 with a speculative copy on n2."""
    store = JobStore.from_url(redis_url)
    svc = WorkerHooks(store, make_app(Settings(broker_url=redis_url, result_backend=redis_url)))
    store.create(JobRecord(id="j", submitted_at=time.time(), frames=20), {"chunks": []})
    store.set_chunks("j", [ChunkRecord(i, i * 10, i * 10 + 10) for i in range(2)], {})
    store.transition("j", JobState.PLANNING)
    store.transition("j", JobState.RENDERING)
    for node in ("n1", "n2", "n3", "n4"):
        store.redis.set(keys.node(node), f'{{"name": "{node}", "concurrency": 1}}', ex=60)
    store.redis.delete(keys.pending("j"))
    chunk = store.chunk("j", 0)
    chunk.failed_nodes = [f"n{9 - i}" for i in range(CHUNK_NODE_LIMIT - 1)]
    store.save_chunk("j", chunk)
    assert svc.chunk_started("j", 0, "t1", "n1")
    assert svc.chunk_started("j", 0, "t1", "n2")  # the straggler's copy
    return svc


def _pending(service: WorkerHooks) -> list[str]:
    return [str(i) for i in service.store.redis.lrange(keys.pending("j"), 0, -1)]


def test_a_copy_crashing_after_another_finished_the_chunk(service: WorkerHooks) -> None:
    store = service.store
    service.chunk_finished("j", 0, {"index": 0, "start": 0, "end": 10, "seconds": 1.0,
                                    "node": "n1"})  # fmt: skip
    service.chunk_crashed("j", 0, "n2", "MemoryError: killed")
    assert store.state("j") is JobState.RENDERING, store.get("j").error
    assert store.chunk("j", 0).state is ChunkState.DONE
    assert "0" not in _pending(service)


def test_a_copy_crashing_while_another_runs_the_chunk(service: WorkerHooks) -> None:
    """n1's copy crashes; n2's (the record's node now) goes on: no third copy is sent."""
    store = service.store
    service.chunk_crashed("j", 0, "n1", "MemoryError: killed")
    chunk = store.chunk("j", 0)
    assert chunk.state is ChunkState.RUNNING and chunk.node == "n2"
    assert "0" not in _pending(service)
    assert "n1" in chunk.failed_nodes  # it counts against n1 all the same
    # The copy that runs it crashing too is a crash like any: the node limit fails the job.
    service.chunk_crashed("j", 0, "n2", "MemoryError: killed")
    assert store.state("j") is JobState.FAILED


def test_a_copy_failing_after_another_finished_the_chunk(service: WorkerHooks) -> None:
    """A "deterministic" failure (say its node's storage refused the upload) of a copy whose
    chunk another copy finished was no failure of the chunk: the job goes on."""
    store = service.store
    service.chunk_finished("j", 0, {"index": 0, "start": 0, "end": 10, "seconds": 1.0,
                                    "node": "n1"})  # fmt: skip
    service.chunk_failed("j", 0, RenderError("chunk 0: storage refused the upload"))
    assert store.state("j") is JobState.RENDERING, store.get("j").error
    assert store.chunk("j", 0).state is ChunkState.DONE
