"""Render and node metrics computed from the job store: queues, job maths as tables, and
collection from a private Redis."""

from __future__ import annotations

import json

import pytest
import redis

from common.errors import RenderError
from common.names import (
    PRIORITIES,
    QUEUE_AUDIO,
    QUEUE_MERGE,
    QUEUE_RENDER,
    TASK_RENDER_CHUNK,
    render_queue,
)
from common.settings import Settings
from orchestrator import keys, stats
from orchestrator.celery_app import make_app
from orchestrator.job_cancel import cancel
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.stats import (
    JobStats,
    collect_node_metrics,
    collect_render_metrics,
    job_stats,
    node_metrics,
    queue_lengths,
)
from orchestrator.worker_hooks import WorkerHooks

# -- queues ---------------------------------------------------------------------------------------


def test_queue_keys_are_the_lists_kombu_fills_for_each_priority(redis_url: str) -> None:
    # Given one task per priority, sent with our Celery configuration (kombu's Redis transport
    # keeps one list per priority step)
    app = make_app(Settings(broker_url=redis_url, result_backend=redis_url))
    try:
        for step in PRIORITIES.values():
            app.send_task(TASK_RENDER_CHUNK, args=["j", step], queue=QUEUE_RENDER, priority=step)
    finally:
        app.close()
    client = redis.Redis.from_url(redis_url, decode_responses=True)

    # Then each priority's key names the list that holds its task, and only that
    render = keys.queue_keys(QUEUE_RENDER)
    assert list(render) == ["urgent", "high", "normal", "low"]
    for name, key in render.items():
        messages = [json.loads(raw) for raw in client.lrange(key, 0, -1)]
        assert [m["properties"]["priority"] for m in messages] == [PRIORITIES[name]], name
    assert render["urgent"] == QUEUE_RENDER  # step 0 is the queue's own list


def test_queue_lengths_count_priority_sub_lists(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    render, merge = keys.queue_keys(QUEUE_RENDER), keys.queue_keys(QUEUE_MERGE)
    client.rpush(render["urgent"], "a")
    client.rpush(render["high"], "b", "c")
    client.rpush(render["low"], "d", "e", "f")
    client.rpush(merge["normal"], "g")
    lengths = queue_lengths(client)
    assert lengths[QUEUE_RENDER] == {"urgent": 1, "high": 2, "normal": 0, "low": 3}
    assert lengths[QUEUE_MERGE] == {"urgent": 0, "high": 0, "normal": 1, "low": 0}
    assert sum(lengths[QUEUE_AUDIO].values()) == 0


def test_render_fingerprint_queues_count_as_render(redis_url: str) -> None:
    """A pinned job's chunks wait in its render fingerprint's queue: they are render work."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    pinned = keys.queue_keys(render_queue("abc123"))
    client.rpush(keys.queue_keys(QUEUE_RENDER)["high"], "a")
    client.rpush(pinned["high"], "b")
    client.rpush(pinned["low"], "c", "d")
    beats = [{"queues": [QUEUE_RENDER, render_queue("abc123"), QUEUE_MERGE]}, {"queues": []}]
    lengths = queue_lengths(client, heartbeats=beats)
    assert lengths[QUEUE_RENDER] == {"urgent": 0, "high": 2, "normal": 0, "low": 2}
    assert queue_lengths(client)[QUEUE_RENDER]["low"] == 0  # no heartbeat names it


# -- job maths ------------------------------------------------------------------------------------

NOW = 10_000.0


def chunk(
    index: int,
    state: ChunkState,
    *,
    frames: int = 10,
    node: str | None = "n1",
    attempts: int = 1,
    frames_done: int = 0,
    started_at: float | None = None,
    seconds: float | None = None,
) -> ChunkRecord:
    return ChunkRecord(
        index,
        index * frames,
        (index + 1) * frames,
        state=state,
        node=node,
        attempts=attempts,
        frames_done=frames_done,
        started_at=started_at,
        seconds=seconds,
    )


def job(
    job_id: str,
    state: JobState,
    *,
    frames: int = 0,
    cost: float = 0.0,
    started: float | None = None,
    finished: float | None = None,
    deadline: float | None = None,
    chunks: list[ChunkRecord] | None = None,
) -> JobRecord:
    return JobRecord(
        id=job_id,
        state=state,
        frames=frames,
        actual_cost=cost,
        started_at=started,
        finished_at=finished,
        deadline=deadline,
        chunks=chunks or [],
    )


@pytest.mark.parametrize(
    ("jobs", "success", "error", "miss_rate", "misses", "average"),
    [
        ([], None, None, None, 0, None),
        # cancelled jobs count in neither success nor error
        ([job("a", JobState.CANCELLED), job("b", JobState.RENDERING)], None, None, None, 0, None),
        (
            [
                job("a", JobState.COMPLETED, started=0, finished=10, deadline=20),
                job("b", JobState.COMPLETED, started=0, finished=30, deadline=20),
                job("c", JobState.COMPLETED, started=10, finished=30),
                job("d", JobState.FAILED, deadline=5, finished=50),
            ],
            0.75,
            0.25,
            0.5,  # one of two completed jobs with a deadline was late
            1,
            (10 + 30 + 20) / 3,
        ),
        (
            [job("a", JobState.FAILED), job("b", JobState.FAILED)],
            0.0,
            1.0,
            None,
            0,
            None,
        ),
    ],
)
def test_job_rates(
    jobs: list[JobRecord],
    success: float | None,
    error: float | None,
    miss_rate: float | None,
    misses: int,
    average: float | None,
) -> None:
    stats = job_stats(jobs, NOW)
    assert (stats.success_rate, stats.error_rate) == (success, error)
    assert (stats.deadline_miss_rate, stats.deadline_misses) == (miss_rate, misses)
    assert stats.average_job_seconds == (pytest.approx(average) if average is not None else None)


def test_throughput_retries_and_cost_per_frame() -> None:
    jobs = [
        job(
            "a",
            JobState.RENDERING,
            chunks=[
                chunk(0, ChunkState.RUNNING, frames_done=20, started_at=NOW - 10),  # 2 fps
                chunk(1, ChunkState.RUNNING, frames_done=5, started_at=NOW - 1, attempts=2),  # 5
                chunk(2, ChunkState.DONE, frames=10, seconds=4.0),
                chunk(3, ChunkState.DONE, frames=30, seconds=8.0, attempts=3),
                chunk(4, ChunkState.PENDING, attempts=0, node=None),
            ],
        ),
        job("b", JobState.COMPLETED, frames=100, cost=2.0),
        job("c", JobState.COMPLETED, frames=300, cost=6.0),
        job("d", JobState.FAILED, frames=1000, cost=50.0),  # failed work has no frames to show
    ]
    stats = job_stats(jobs, NOW)
    assert stats == JobStats(
        frames_per_second=pytest.approx(7.0),
        average_frame_seconds=pytest.approx(12.0 / 40),
        running_chunks=2,
        cost_per_frame=pytest.approx(8.0 / 400),
        success_rate=pytest.approx(2 / 3),
        error_rate=pytest.approx(1 / 3),
        retry_rate=0.5,  # two of the four started chunks ran more than once
        average_job_seconds=None,
        deadline_miss_rate=None,
        deadline_misses=0,
        jobs={
            "queued": 0,
            "planning": 0,
            "rendering": 1,
            "merging": 0,
            "completed": 2,
            "failed": 1,
            "cancelled": 0,
        },
    )


def test_node_metrics_from_heartbeats_and_chunks() -> None:
    beats = [
        {"name": "n2", "concurrency": 2, "pid": 7, "since": NOW - 50, "time": NOW - 1},
        {
            "name": "n1",
            "concurrency": 4,
            "pid": 5,
            "since": NOW - 100,
            "time": NOW - 2,
            "draining": True,
            "cpu_percent": 12.5,
            "memory_used_bytes": 10,
            "memory_total_bytes": 20,
            "gpu_percent": 40,
            "compositor": "cupy",
        },
    ]
    jobs = [
        job(
            "a",
            JobState.RENDERING,
            chunks=[
                chunk(0, ChunkState.RUNNING, node="n1", started_at=NOW - 1),
                chunk(1, ChunkState.DONE, node="n1"),
                chunk(2, ChunkState.DONE, node="n2"),
                chunk(3, ChunkState.RETRYING, node="n2"),
                chunk(4, ChunkState.FAILED, node="gone"),  # a node no longer beating
            ],
        )
    ]
    n1, n2 = node_metrics(beats, jobs, NOW)
    assert (n1.name, n1.status, n1.concurrency, n1.pid) == ("n1", "draining", 4, 5)
    assert (n1.active_chunks, n1.completed_chunks, n1.failed_chunks) == (1, 1, 0)
    assert (n1.uptime_seconds, n1.last_heartbeat, n1.heartbeat_age_seconds) == (100, NOW - 2, 2)
    assert (n1.cpu_utilization_percent, n1.memory_used_bytes, n1.memory_total_bytes) == (
        12.5,
        10,
        20,
    )
    assert (n2.status, n2.active_chunks, n2.completed_chunks, n2.failed_chunks) == (
        "alive",
        0,
        1,
        1,
    )
    assert n2.cpu_utilization_percent is None
    assert (n1.gpu_utilization_percent, n2.gpu_utilization_percent) == (40.0, None)  # no GPU
    assert (n1.compositor, n2.compositor) == ("cupy", "")  # n2's heartbeat does not say


# -- against a private Redis ----------------------------------------------------------------------


def test_collect_render_metrics(busy_store: JobStore) -> None:
    m = collect_render_metrics(busy_store, hourly_rate=0.2)
    assert m.active_nodes == 2 and m.slots == 5
    assert m.hourly_rate == pytest.approx(1.0)
    assert m.total_cost == pytest.approx(1.75)
    assert m.cost_per_frame == pytest.approx(0.005)
    assert m.frames_per_second == pytest.approx(2.0, rel=0.2)  # 8 frames in ~4 s
    assert m.average_frame_seconds == pytest.approx(0.25)
    assert m.running_chunks == 1 and m.queued_chunks == 1
    assert m.queue_lengths[QUEUE_RENDER] == {"urgent": 1, "high": 0, "normal": 2, "low": 0}
    assert m.queue_length == 3
    assert (m.success_rate, m.error_rate) == (0.5, 0.5)
    assert m.retry_rate == 0.5
    assert m.average_job_seconds == pytest.approx(50.0)
    assert (m.deadline_miss_rate, m.deadline_misses) == (1.0, 1)
    assert m.jobs["rendering"] == 1 and m.jobs["completed"] == 1 and m.jobs["failed"] == 1
    assert m.memory_total_bytes is None or m.memory_total_bytes > 0


def test_collect_node_metrics(busy_store: JobStore) -> None:
    a, b = collect_node_metrics(busy_store)
    assert (a.name, a.status, a.concurrency) == ("node-a", "alive", 2)
    assert (a.active_chunks, a.completed_chunks, a.failed_chunks) == (0, 1, 0)
    assert (b.name, b.status, b.concurrency, b.active_chunks) == ("node-b", "draining", 3, 1)
    assert a.uptime_seconds == pytest.approx(60, abs=5)
    assert a.heartbeat_age_seconds < 5


def test_chunks_stopped_by_their_jobs_end_are_no_failures_of_their_nodes(
    redis_url: str,
) -> None:
    """A user's cancel (or another chunk's failure) stops the chunks running on healthy nodes;
    before, each showed as a failure of its node (cloudrender_node_failed_chunks, the Grafana
    "Chunks per node" panel, the web dashboard) for the week the job is kept."""
    store = JobStore.from_url(redis_url)
    service = WorkerHooks(store, make_app(Settings(broker_url=redis_url)))
    for job_id in ("cancelled", "failed"):
        store.create(JobRecord(id=job_id, frames=20), {})
        store.set_chunks(job_id, [ChunkRecord(0, 0, 10), ChunkRecord(1, 10, 20)], {})
        store.transition(job_id, JobState.PLANNING)
        store.transition(job_id, JobState.RENDERING)
    store.chunk_started("cancelled", 0, "healthy", "t1")
    store.chunk_started("cancelled", 1, "healthy", "t2")
    cancel(store, "cancelled", "cancelled by request", app=None)
    store.chunk_started("failed", 0, "faulty", "t3")
    store.chunk_started("failed", 1, "healthy", "t4")
    service.chunk_failed("failed", 0, RenderError("clip 'x': corrupt"))  # fails the job
    for name in ("healthy", "faulty"):
        beat = {"name": name, "concurrency": 1, "since": 0, "time": store.now()}
        store.redis.set(keys.node(name), json.dumps(beat), ex=60)
    failed = {n.name: n.failed_chunks for n in collect_node_metrics(store)}
    assert failed == {"faulty": 1, "healthy": 0}


@pytest.mark.parametrize(
    ("beat", "shown"),
    [({}, "alive"), ({"draining": True}, "draining"), ({"scratch_full": True}, "scratch full")],
)
def test_a_node_out_of_scratch_space_shows_so(beat: dict[str, object], shown: str) -> None:
    assert stats._status(beat) == shown
