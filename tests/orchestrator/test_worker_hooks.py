"""The job service's failure handling on a real Redis and broker (no workers needed)."""

from __future__ import annotations

import time

import pytest

from common.errors import RenderError
from common.settings import Settings
from orchestrator import keys
from orchestrator.celery_app import make_app
from orchestrator.health import MERGE_LEASE
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.worker_hooks import BLOCKLIST_AFTER, CHUNK_NODE_LIMIT, WorkerHooks


@pytest.fixture
def service(redis_url: str) -> WorkerHooks:
    store = JobStore.from_url(redis_url)
    app = make_app(Settings(broker_url=redis_url, result_backend=redis_url))
    svc = WorkerHooks(store, app)
    store.create(JobRecord(id="j", submitted_at=time.time(), frames=40), {"chunks": []})
    store.set_chunks(
        "j",
        [ChunkRecord(i, i * 10, i * 10 + 10) for i in range(4)],
        {"chunks": [[i * 10, i * 10 + 10] for i in range(4)]},
    )
    store.transition("j", JobState.PLANNING)
    store.transition("j", JobState.RENDERING)
    for node in ("n1", "n2", "n3", "n4"):
        store.redis.set(keys.node(node), f'{{"name": "{node}", "concurrency": 1}}', ex=60)
    store.redis.delete(keys.pending("j"))
    return svc


def test_a_crash_requeues_the_chunk_for_another_worker(service: WorkerHooks) -> None:
    assert service.chunk_started("j", 0, "t1", "n1")
    service.chunk_crashed("j", 0, "n1", "MemoryError: boom")
    chunk = service.store.chunk("j", 0)
    assert chunk.state is ChunkState.RETRYING and chunk.failed_nodes == ["n1"]
    assert service.store.state("j") is JobState.RENDERING
    assert (
        0 in [int(i) for i in service.store.redis.lrange(keys.pending("j"), 0, -1)]
        or service.store.redis.zscore(keys.QUEUED, "j:0") is not None
    )  # dispatched again


def test_a_node_failing_twice_is_blocklisted_for_the_job(service: WorkerHooks) -> None:
    for index in range(BLOCKLIST_AFTER):
        assert service.chunk_started("j", index, f"t{index}", "n1")
        service.chunk_crashed("j", index, "n1", "SegFault")
    assert service.blocklisted("j", "n1") and not service.blocklisted("j", "n2")
    assert service.store.get("j").node_failures == {"n1": BLOCKLIST_AFTER}  # in the record
    assert not service.chunk_started("j", 2, "t9", "n1")  # refused on n1 ...
    assert service.chunk_started("j", 2, "t10", "n2")  # ... taken elsewhere


def test_a_chunk_crashing_on_three_workers_fails_the_job(service: WorkerHooks) -> None:
    for node in ("n1", "n2", "n3")[:CHUNK_NODE_LIMIT]:
        assert service.chunk_started("j", 1, f"t-{node}", node)
        service.chunk_crashed("j", 1, node, "OSError: disk on fire")
    record = service.store.get("j")
    assert record.state is JobState.FAILED
    assert record.error is not None and "failed on 3 workers" in record.error
    assert "disk on fire" in record.error


def test_deterministic_failure_fails_at_once_and_stops_the_rest(service: WorkerHooks) -> None:
    assert service.chunk_started("j", 0, "t", "n1")
    service.chunk_failed("j", 0, RenderError("chunk 0 (frames 0-9): clip 'x': corrupt"))
    assert service.store.state("j") is JobState.FAILED
    assert service.should_stop("j", 1, "n2") == "cancelled"


def test_a_finished_chunk_stops_its_speculative_copy(service: WorkerHooks) -> None:
    assert service.chunk_started("j", 3, "a", "n1")
    assert service.chunk_started("j", 3, "b", "n2")  # the straggler's copy
    assert service.store.chunk("j", 3).speculative
    service.chunk_finished("j", 3, {"index": 3, "start": 30, "end": 40, "seconds": 1.0})
    assert service.should_stop("j", 3, "n1") == "done"
    assert not service.chunk_started("j", 3, "c", "n3")  # never runs again


def test_a_released_chunk_does_not_count_as_an_attempt(service: WorkerHooks) -> None:
    assert service.chunk_started("j", 2, "a", "n1")
    service.store.redis.set(keys.evict("n1"), "GCP pre-emption")
    assert service.should_stop("j", 2, "n1") == "evicted"
    service.chunk_released("j", 2, "n1")
    chunk = service.store.chunk("j", 2)
    assert chunk.state is ChunkState.PENDING and chunk.attempts == 0


def test_a_done_chunk_is_never_overwritten_by_a_stale_update(service: WorkerHooks) -> None:
    # A progress report (or a requeue) read the chunk while it ran, and writes after it finished.
    store = service.store
    service.chunk_started("j", 2, "t1", "n1")
    stale = store.chunk("j", 2)
    service.chunk_finished("j", 2, {"index": 2, "start": 20, "end": 30, "seconds": 1.0})
    stale.frames_done = 5
    assert not store.save_chunk("j", stale)
    assert store.chunk("j", 2).state is ChunkState.DONE
    # Updates of chunks that are not done go through, and a done chunk may be saved as done.
    running = store.chunk("j", 1)
    running.frames_done = 3
    assert store.save_chunk("j", running) and store.chunk("j", 1).frames_done == 3
    done = store.chunk("j", 2)
    done.seconds = 2.0
    assert store.save_chunk("j", done) and store.chunk("j", 2).seconds == 2.0


def test_a_duplicate_merge_does_not_run_beside_a_live_one(service: WorkerHooks) -> None:
    assert service.merge_started("j")
    assert service.store.state("j") is JobState.MERGING
    # A copy resent while the first waited in the queue: the first holds a fresh lease.
    assert not service.merge_started("j")
    service.merge_alive("j")
    assert not service.merge_started("j")
    # The first merge died and its lease lapsed: a resent one takes over, and holds it.
    service.store.update("j", merge_alive_at=time.time() - MERGE_LEASE - 1)
    assert service.merge_started("j")
    assert not service.merge_started("j")
