"""Nodes whose clocks disagree: timestamps one node writes and another compares are in the
cluster's time (the Redis server's clock), so a worker whose clock runs behind is not taken
for stalled, nor a live merge's lease for lapsed."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import redis

from orchestrator.health import MERGE_LEASE, STALLED_SECONDS, lost_chunks, stragglers
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.worker_hooks import WorkerHooks


@pytest.fixture
def stores(redis_url: str) -> Iterator[Callable[[float], JobStore]]:
    """Job stores on the private Redis whose machines' clocks are off by the given seconds."""
    clients: list[redis.Redis] = []

    def store(skew: float) -> JobStore:
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        clients.append(client)
        return JobStore(client, clock=lambda: time.time() + skew)

    yield store
    for client in clients:
        client.close()


def server_time(store: JobStore) -> float:
    """The Redis server's clock."""
    seconds, micros = store.redis.time()
    return seconds + micros / 1e6


def rendering(store: JobStore, job_id: str, chunks: int) -> None:
    """A planned job whose chunks are all waiting."""
    store.create(JobRecord(id=job_id, submitted_at=store.now(), frames=10 * chunks), {})
    store.set_chunks(job_id, [ChunkRecord(i, 10 * i, 10 * i + 10) for i in range(chunks)], {})
    store.transition(job_id, JobState.PLANNING)
    store.transition(job_id, JobState.RENDERING)


@pytest.mark.parametrize("skew", [-3600.0, -90.0, 0.0, 90.0, 86400.0])
def test_now_is_the_redis_servers_clock(stores: Callable[[float], JobStore], skew: float) -> None:
    store = stores(skew)
    assert abs(store.now() - server_time(store)) < 1.0


def test_a_worker_whose_clock_runs_behind_is_not_taken_for_stalled(
    stores: Callable[[float], JobStore],
) -> None:
    orchestrator, worker = stores(0.0), stores(-2 * STALLED_SECONDS)
    rendering(orchestrator, "skewjob", 2)
    worker.chunk_started("skewjob", 0, "render@behind", "task-0")
    worker.chunk_progress("skewjob", 0, 5)
    chunks = orchestrator.chunks("skewjob")
    assert chunks[0].state is ChunkState.RUNNING
    # Its node heartbeats and it reported a moment ago: neither lost nor a straggler.
    assert lost_chunks(chunks, {"render@behind"}, orchestrator.now()) == []
    assert stragglers(chunks, orchestrator.now(), factor=1.0) == []
    started = chunks[0].started_at
    assert started is not None and abs(started - server_time(orchestrator)) < 2.0


def test_a_merge_lease_renewed_by_a_node_behind_holds(
    stores: Callable[[float], JobStore],
) -> None:
    merging, other = stores(-3 * MERGE_LEASE), stores(0.0)
    rendering(other, "mergejob", 1)
    other.transition("mergejob", JobState.MERGING)
    WorkerHooks(merging, None, cache_max_bytes=0).merge_alive("mergejob")
    # A duplicate merge task on a node with the right clock must not merge alongside it.
    assert WorkerHooks(other, None, cache_max_bytes=0).merge_started("mergejob") is False


@pytest.mark.parametrize("step", [-3600.0, -2 * STALLED_SECONDS, 2 * STALLED_SECONDS, 86400.0])
def test_a_clock_stepped_between_measurements_is_measured_again_at_once(
    redis_url: str, step: float
) -> None:
    """NTP stepping a worker's clock, or a VM resumed, after its offset was measured: its
    chunk's progress was stamped an hour off for up to a minute, and taken for stalled."""
    orchestrator = JobStore(redis.Redis.from_url(redis_url, decode_responses=True))
    stepped = [0.0]
    worker = JobStore(
        redis.Redis.from_url(redis_url, decode_responses=True),
        clock=lambda: time.time() + stepped[0],
    )
    try:
        rendering(orchestrator, "steppedjob", 2)
        worker.chunk_started("steppedjob", 0, "render@stepped", "task-0")  # offset measured
        stepped[0] = step  # and then the machine's clock steps
        worker.chunk_progress("steppedjob", 0, 5)
        chunks = orchestrator.chunks("steppedjob")
        assert lost_chunks(chunks, {"render@stepped"}, orchestrator.now()) == []
        assert abs(worker.now() - server_time(orchestrator)) < 1.0
    finally:
        orchestrator.redis.close()
        worker.redis.close()


class _FakeTime:
    """The store's retry clock: its pauses are counted, not slept."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


def test_the_clock_does_not_wait_out_the_stores_patience_for_a_dead_redis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its TIME was retried with the store's patience: a status against a dead broker took 21 s."""
    from orchestrator import store_retry
    from orchestrator.cluster_clock import ClusterClock

    fake = _FakeTime()
    monkeypatch.setattr(store_retry, "time", fake)
    store = JobStore.from_url("redis://127.0.0.1:1/0", patience=20.0)
    clock = ClusterClock(store.redis, clock=lambda: 5000.0)
    assert clock.now() == 5000.0  # no offset measured: this machine's clock
    assert fake.slept == 0.0
