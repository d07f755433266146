"""The tick's failover on a real Redis: chunks of dead nodes and chunks that stall."""

from __future__ import annotations

import json
import time

import pytest

from common.settings import Settings
from orchestrator import keys
from orchestrator.celery_app import make_app
from orchestrator.failover import check_jobs, clock_jump
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


def running_since(service: WorkerHooks, node: str, seen: float) -> None:
    """Chunk 0 runs on ``node`` and last reported at ``seen``."""
    store = service.store
    assert service.chunk_started("j", 0, store.chunk("j", 0).task_id or "t0", node)
    chunk = store.chunk("j", 0)
    chunk.started_at = chunk.updated_at = seen
    assert store.save_chunk("j", chunk)


def ticks(service: WorkerHooks, start: float, end: float) -> None:
    """The orchestrator's looks at the jobs every 2 s from ``start`` to ``end`` (its machine's
    monotonic clock moves as the cluster's)."""
    at = start
    while at <= end:
        check_jobs(service, at, at)
        at += 2.0


def reconnected(service: WorkerHooks, node: str, at: float) -> None:
    """``node``'s heartbeat says it got Redis back at ``at`` (orchestrator.beat_link)."""
    store = service.store
    beat = json.loads(store.redis.get(keys.node(node)))
    store.redis.set(keys.node(node), json.dumps({**beat, "reconnected": at}), ex=600)


def test_a_redis_outage_uses_up_no_node_attempt_of_the_chunks_it_killed(
    service: WorkerHooks,
) -> None:
    store = service.store
    base = time.time()
    # Given a chunk running on n1, which reports until Redis goes away at base
    running_since(service, "n1", base)
    check_jobs(service, base, base)
    # When Redis is away for 40 s (no tick runs, n1's beats fail) and the chunk's task died
    reconnected(service, "n1", base + 40)
    ticks(service, base + 40, base + 98)
    # Then the chunk is given a stall period after the outage to report again
    assert store.chunk("j", 0).state is ChunkState.RUNNING
    # And, silent still, it is requeued for free: not counted against its live node
    ticks(service, base + 100, base + 104)
    chunk = store.chunk("j", 0)
    assert chunk.state is ChunkState.RETRYING and chunk.failed_nodes == []
    assert chunk.error is not None and "while Redis was away" in chunk.error
    assert store.get("j").node_failures == {}
    requeued = [e for _, e in read_events(store.redis, "j") if e["event"] == "chunk_requeued"]
    assert [e["reason"] for e in requeued] == ["lost"]


@pytest.mark.parametrize("away", [15.0, 40.0])
def test_an_orchestrator_away_is_no_redis_outage_a_hung_chunk_still_counts(
    service: WorkerHooks, away: float
) -> None:
    """The orchestrator killed or stalled (or its ticks slowed) past OUTAGE_GAP was taken for
    a Redis outage: every silent chunk got a free requeue, a hung one for ever."""
    store = service.store
    base = time.time()
    running_since(service, "n1", base)
    check_jobs(service, base, base)
    # Given the chunk hangs from base on while its node beats on (Redis is up; no reconnect)
    # When the orchestrator looks at no job for ``away`` seconds, then ticks again
    ticks(service, base + away, base + STALLED_SECONDS)
    assert store.chunk("j", 0).state is ChunkState.RUNNING
    ticks(service, base + STALLED_SECONDS + 2, base + STALLED_SECONDS + 4)
    # Then the stall is seen on time and counted against the node, as without the gap
    chunk = store.chunk("j", 0)
    assert chunk.state is ChunkState.RETRYING and chunk.failed_nodes == ["n1"]
    assert chunk.error is not None and "no progress" in chunk.error
    assert store.get("j").node_failures == {"n1": 1}
    # And the gap is on record for an operator
    assert float(store.redis.hget(keys.FAILOVER, "away")) == pytest.approx(away)


def test_a_node_that_lost_redis_alone_is_not_blamed_for_its_dead_chunk(
    service: WorkerHooks,
) -> None:
    store = service.store
    base = time.time()
    running_since(service, "n1", base)
    # Given n1's own connection to Redis lost and regained at base + 50 (its heartbeat says)
    reconnected(service, "n1", base + 50)
    ticks(service, base, base + 108)
    assert store.chunk("j", 0).state is ChunkState.RUNNING
    ticks(service, base + 110, base + 114)
    chunk = store.chunk("j", 0)
    assert chunk.state is ChunkState.RETRYING and chunk.failed_nodes == []
    assert store.get("j").node_failures == {}


def test_a_chunk_that_stalls_after_the_outage_still_counts_against_its_node(
    service: WorkerHooks,
) -> None:
    store = service.store
    base = time.time()
    running_since(service, "n1", base)
    check_jobs(service, base, base)
    reconnected(service, "n1", base + 40)
    ticks(service, base + 40, base + 50)  # Redis was away for 40 s
    # The chunk reported after Redis came back, then hung
    chunk = store.chunk("j", 0)
    chunk.updated_at = base + 50
    assert store.save_chunk("j", chunk)
    ticks(service, base + 52, base + 114)
    chunk = store.chunk("j", 0)
    assert chunk.state is ChunkState.RETRYING and chunk.failed_nodes == ["n1"]
    assert store.get("j").node_failures == {"n1": 1}


def test_a_forward_jump_of_the_cluster_clock_is_no_stall(service: WorkerHooks) -> None:
    """Redis's clock stepped 2 minutes ahead made every running chunk's last report look 2
    minutes old: without a look at the monotonic clock, each would count as a stall."""
    store = service.store
    base = time.time()
    running_since(service, "n1", base)
    check_jobs(service, base, base)
    # When the cluster's clock jumps 120 s ahead between two looks 2 s apart
    check_jobs(service, base + 122, base + 2)
    # Then the chunk (which reports on, at the new time) is not taken for stalled
    assert store.chunk("j", 0).state is ChunkState.RUNNING
    chunk = store.chunk("j", 0)
    chunk.updated_at = base + 123
    assert store.save_chunk("j", chunk)
    for step in range(1, 26):  # up to 49 s after its last report: no stall yet
        check_jobs(service, base + 122 + 2 * step, base + 2 + 2 * step)
    assert store.chunk("j", 0).state is ChunkState.RUNNING
    assert store.get("j").node_failures == {}
    assert store.redis.hget(keys.FAILOVER, "away") is None  # no absence of the orchestrator


@pytest.mark.parametrize(
    ("cluster_gap", "mono_gap", "jump"),
    [
        (2.0, 2.0, 0.0),
        (122.0, 2.0, 120.0),
        (40.0, 40.0, 0.0),  # the orchestrator was away: no jump
        (2.0, 3602.0, 0.0),  # a backward jump: reports look newer, nothing to excuse
        (122.0, None, 0.0),  # looks from two machines: cannot tell
    ],
)
def test_clock_jump(cluster_gap: float, mono_gap: float | None, jump: float) -> None:
    assert clock_jump(cluster_gap, mono_gap) == jump


def test_a_chunk_a_blocklisted_node_handed_back_holds_no_place_in_the_broker(
    service: WorkerHooks,
) -> None:
    """A node whose scratch disk filled crashed two chunks of the job and is blocklisted for it;
    being idle, it takes the next chunk messages too and hands them back (pending again). Their
    places in the broker's budget (the queued set) stayed taken with nothing in the broker, the
    dispatcher sent no more, and the job hung in rendering for ever (bench/chaos.py --kinds
    scratch)."""
    store = service.store
    now = time.time()
    beat = {"name": "n2", "concurrency": 1, "since": now, "time": now, "queues": ["render"]}
    store.redis.set(keys.node("n2"), json.dumps(beat), ex=60)
    store.redis.hset(keys.failures("j"), "n2", 2)  # blocklisted for this job
    store.push_pending("j", [0, 1])
    assert service.dispatcher.fill() == 2  # both slots' worth: n1's and n2's
    # When n2 takes both messages and hands them back
    for index in (0, 1):
        task_id = store.chunk("j", index).task_id
        assert not service.chunk_started("j", index, task_id, "n2")
    assert store.pending_count("j") == 2
    # Then the tick (at the latest) dispatches them again
    check_jobs(service)
    service.dispatcher.fill()
    sent = {int(str(m).rsplit(":", 1)[1]) for m in store.redis.zrange(keys.QUEUED, 0, -1)}
    assert sent and store.pending_count("j") + len(sent) == 2
