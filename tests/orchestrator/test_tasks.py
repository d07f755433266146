"""The orchestrator's task bodies, ``plan_job`` and ``tick``, run by an in-process Celery worker
(Celery's pytest fixtures, tests/orchestrator/conftest.py) on the session's private Redis: what
they leave in the job store and hand to the broker. No render worker runs: the chunk and audio
tasks they send stay in the broker's lists, where the tests read them.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from celery.worker import WorkController

from chunking.timeline.project import read_project
from common.errors import RenderError
from common.names import (
    PRIORITIES,
    QUEUE_AUDIO,
    QUEUE_ORCHESTRATOR,
    QUEUE_RENDER,
    TASK_PLAN_JOB,
    TASK_RENDER_AUDIO,
    TASK_RENDER_CHUNK,
)
from orchestrator import keys, tasks
from orchestrator.costing import Throughput
from orchestrator.failover import check_jobs
from orchestrator.health import PLAN_STALE, PLANNING_LEASE, PLANNING_STALE
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.storage_sweep import owner_of
from orchestrator.worker_hooks import WorkerHooks
from providers.storage import open_storage
from tests.helpers import colour_project
from workers.job_spec import JobSpec

pytestmark = [
    pytest.mark.timeout(60),
    # Celery's Redis result backend stores each result with redis-py's deprecated setex. Worker
    # processes never show it; this worker is a thread of the test process, where it would fail
    # the task's result (warnings are errors).
    pytest.mark.filterwarnings("ignore:Call to deprecated setex:DeprecationWarning"),
]


@pytest.fixture
def service(celery_app: Celery, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> WorkerHooks:
    """The job service the task bodies reach through ``worker_hooks()``: the store on the private
    Redis, and the test app (our configuration) to send tasks with."""
    hooks = WorkerHooks(JobStore.from_url(redis_url), celery_app)
    monkeypatch.setattr(tasks, "worker_hooks", lambda: hooks)
    return hooks


def submitted(store: JobStore, tmp: Path, seconds: float, chunk_frames: int) -> str:
    """Store a job as the API does before sending ``plan_job`` (a queued record and its
    document: a flat-colour project at 30 fps, cut into chunks of ``chunk_frames``); its id.

    A fresh id each time, as the API's: worker processes cache a job's timeline by its id.
    """
    job_id = uuid.uuid4().hex[:16]
    prepared = read_project(colour_project(seconds), base_dir=str(tmp))
    timeline = prepared.timeline
    spec = JobSpec(
        id=job_id,
        project=dict(prepared.document),
        base_dir=prepared.base_dir,
        export=dataclasses.asdict(timeline.export),
        storage_url=f"file://{tmp / 'storage'}",
        frames=timeline.frames,
        output_ext=timeline.export.container,
        chunk_frames=chunk_frames,
    )
    record = JobRecord(id=job_id, submitted_at=time.time(), frames=timeline.frames)
    store.create(record, spec.to_dict())
    return job_id


def queued(client: redis.Redis, queue: str) -> list[tuple[str, list[Any], int]]:
    """(task name, arguments, priority) of each message waiting in ``queue``, over its lists
    for every priority step (kombu's Redis layout)."""
    found = []
    for key in keys.queue_keys(queue).values():
        for raw in client.lrange(key, 0, -1):
            message = json.loads(raw)
            args = json.loads(base64.b64decode(message["body"]))[0]
            found.append((message["headers"]["task"], args, message["properties"]["priority"]))
    return found


def run(celery_app: Celery, task: str, *args: Any, **options: Any) -> Any:
    """Send ``task`` to the orchestrator queue, as the API and beat do, and wait for its result."""
    options = {"queue": QUEUE_ORCHESTRATOR, **options}
    return celery_app.send_task(task, args=list(args), **options).get(timeout=20)


# --- plan_job ----------------------------------------------------------------------------------


def test_plan_job_plans_the_chunks_sends_the_audio_and_dispatches(
    celery_app: Celery, celery_worker: WorkController, service: WorkerHooks, tmp_path: Path
) -> None:
    store = service.store
    job = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)

    planned = run(celery_app, TASK_PLAN_JOB, job, priority=PRIORITIES["normal"])

    # The job is rendering, cut into chunks that cover its 30 frames once
    assert planned == 3
    assert store.state(job) is JobState.RENDERING
    chunks = store.chunks(job)
    assert [(c.index, c.start, c.end) for c in chunks] == [(0, 0, 10), (1, 10, 20), (2, 20, 30)]
    assert all(c.state is ChunkState.PENDING for c in chunks)
    planned_spec = JobSpec.from_dict(store.spec(job))
    assert [tuple(c) for c in planned_spec.chunks] == [(0, 10), (10, 20), (20, 30)]
    # The audio task is on the audio queue, at the job's priority
    normal = PRIORITIES["normal"]
    assert queued(store.redis, QUEUE_AUDIO) == [(TASK_RENDER_AUDIO, [job], normal)]
    # Chunks went to the broker in order, as many as the slots allow; the rest wait
    sent = queued(store.redis, QUEUE_RENDER)
    assert sent and all(task == TASK_RENDER_CHUNK and p == normal for task, _, p in sent)
    dispatched = [index for _, (_, index), _ in sent]
    waiting = [int(i) for i in store.redis.lrange(keys.pending(job), 0, -1)]
    assert dispatched + waiting == [0, 1, 2]
    assert sorted(store.redis.zrange(keys.QUEUED, 0, -1)) == [f"{job}:{i}" for i in dispatched]
    # Its storage prefix is marked as this cluster's (the one the storage sweep may clean)
    assert owner_of(open_storage(f"file://{tmp_path / 'storage'}"), job) == store.redis.get(
        keys.CLUSTER_ID
    )


def test_a_chunk_length_cut_for_spot_pools_is_said_in_the_jobs_notes(
    celery_app: Celery,
    celery_worker: WorkController,
    service: WorkerHooks,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--chunk-frames 30 planned as 8-frame chunks for spot pools, without a word: the user
    thought the option ignored."""
    store = service.store
    pools = tmp_path / "pools.toml"
    pools.write_text(
        '[pools.spot]\nprovider = "gcp"\nregion = "us-central1"\nmarket = "spot"\n'
        "max_nodes = 4\nprice_per_hour = 0.3\n"
    )
    monkeypatch.setenv("CLOUDRENDER_POOLS_FILE", str(pools))
    # A unit takes 10 s on the spot pool: 25 % of GCP's 30 s notice holds a handful of frames
    store.redis.hset(keys.THROUGHPUT, "spot", json.dumps(Throughput(10.0, 5).to_json()))
    job = submitted(store, tmp_path, seconds=1.0, chunk_frames=30)

    run(celery_app, TASK_PLAN_JOB, job, priority=PRIORITIES["normal"])

    longest = max(c.end - c.start for c in store.chunks(job))
    assert longest < 30
    (note,) = store.get(job).notes
    assert note.startswith(
        f"chunks of 30 frames asked for (--chunk-frames, chunk_frames) are cut to {longest}:"
    )
    # A length the cap leaves alone is planned as asked, with nothing to say
    kept = submitted(store, tmp_path, seconds=1.0, chunk_frames=longest)
    run(celery_app, TASK_PLAN_JOB, kept, priority=PRIORITIES["normal"])
    assert store.get(kept).notes == []


def test_plan_job_leaves_a_job_cancelled_before_planning_alone(
    celery_app: Celery, celery_worker: WorkController, service: WorkerHooks, tmp_path: Path
) -> None:
    store = service.store
    job = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)
    store.transition(job, JobState.CANCELLED)

    assert run(celery_app, TASK_PLAN_JOB, job) == 0

    assert store.state(job) is JobState.CANCELLED and store.chunks(job) == []
    assert queued(store.redis, QUEUE_AUDIO) == queued(store.redis, QUEUE_RENDER) == []


def test_plan_job_fails_a_job_whose_document_cannot_be_planned(
    celery_app: Celery, celery_worker: WorkController, service: WorkerHooks, tmp_path: Path
) -> None:
    store = service.store
    job = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)
    spec = store.spec(job)
    spec["project"]["tracks"][0]["clips"][0]["end_time"] = -1  # corrupted after validation
    store.redis.hset(keys.job(job), "spec", json.dumps(spec))

    assert run(celery_app, TASK_PLAN_JOB, job) == 0

    record = store.get(job)
    assert record.state is JobState.FAILED
    assert record.error is not None and record.error.startswith("planning: ")
    assert queued(store.redis, QUEUE_RENDER) == []


def test_a_plan_job_sent_again_after_a_lost_one_leaves_a_planned_job_alone(
    celery_app: Celery, celery_worker: WorkController, service: WorkerHooks, tmp_path: Path
) -> None:
    store = service.store
    job = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)
    assert run(celery_app, TASK_PLAN_JOB, job) == 3
    chunks = store.chunks(job)

    # The copy the tick sent when it took the first for lost arrives after all: nothing happens
    assert run(celery_app, TASK_PLAN_JOB, job) == 0
    assert store.state(job) is JobState.RENDERING and store.chunks(job) == chunks


def test_a_lost_plan_job_is_sent_again_and_an_abandoned_planning_taken_over(
    celery_app: Celery, celery_worker: WorkController, service: WorkerHooks, tmp_path: Path
) -> None:
    """The orchestrator that held the plan task died (the broker would give it back only after
    its visibility timeout, 6 h): the tick sends another; one that died while planning leaves
    the job in planning, which another copy takes over."""
    store = service.store

    def planned_by_the_tick(job: str) -> bool:
        check_jobs(service)
        deadline = time.monotonic() + 20
        while store.state(job) is not JobState.RENDERING and time.monotonic() < deadline:
            time.sleep(0.05)
        return store.state(job) is JobState.RENDERING and len(store.chunks(job)) == 3

    lost = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)
    store.update(lost, plan_sent_at=time.time() - PLAN_STALE - 5)  # and never received
    assert planned_by_the_tick(lost)

    abandoned = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)
    store.transition(abandoned, JobState.PLANNING, plan_started_at=time.time() - PLANNING_STALE)
    assert planned_by_the_tick(abandoned)

    waiting = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)
    store.update(waiting, plan_sent_at=time.time())  # sent a moment ago: not lost yet
    check_jobs(service)
    time.sleep(0.5)
    assert store.state(waiting) is JobState.QUEUED


def test_plan_job_of_an_unknown_job_does_nothing(
    celery_app: Celery, celery_worker: WorkController, service: WorkerHooks
) -> None:
    assert run(celery_app, TASK_PLAN_JOB, "nope") == 0
    assert service.store.recent() == []


# --- tick --------------------------------------------------------------------------------------


def beat_tick(celery_app: Celery) -> Any:
    """Send the tick as beat does (our beat schedule's entry) and wait for its result."""
    entry = celery_app.conf.beat_schedule["tick"]
    return celery_app.send_task(entry["task"], **entry["options"]).get(timeout=20)


def rendering(store: JobStore, job_id: str, chunks: int) -> None:
    """A planned job, rendering, none of whose chunks has been handed to the broker yet."""
    store.create(JobRecord(id=job_id, submitted_at=time.time(), frames=10 * chunks), {})
    store.set_chunks(job_id, [ChunkRecord(i, 10 * i, 10 * i + 10) for i in range(chunks)], {})
    store.transition(job_id, JobState.PLANNING)
    store.transition(job_id, JobState.RENDERING)


def test_tick_dispatches_waiting_chunks_and_counts_itself(
    celery_app: Celery, celery_worker: WorkController, service: WorkerHooks
) -> None:
    store = service.store
    rendering(store, "j", chunks=3)

    result = beat_tick(celery_app)

    assert result["dispatched"] >= 1 and result["escalated"] == result["forgotten"] == 0
    assert [args for _, args, _ in queued(store.redis, QUEUE_RENDER)][: result["dispatched"]] == [
        ["j", i] for i in range(result["dispatched"])
    ]
    assert store.redis.get(keys.TICKS) == "1"
    assert not store.redis.exists(keys.TICK_LOCK)  # released for the next tick


def test_tick_skips_while_another_orchestrator_ticks(
    celery_app: Celery, celery_worker: WorkController, service: WorkerHooks
) -> None:
    store = service.store
    rendering(store, "j", chunks=3)
    store.redis.set(keys.TICK_LOCK, "1", ex=30)  # another orchestrator's tick is running

    assert beat_tick(celery_app) == {"skipped": 1}

    assert store.redis.get(keys.TICKS) is None
    assert queued(store.redis, QUEUE_RENDER) == []
    assert store.redis.get(keys.TICK_LOCK) == "1"  # not ours to release


def test_a_tick_whose_lock_lapsed_and_was_taken_leaves_the_new_holders_lock(
    celery_app: Celery,
    celery_worker: WorkController,
    service: WorkerHooks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tick that outlived its lock deleted the next holder's lock as it ended, letting a
    third orchestrator's tick run beside the second's."""
    store = service.store

    def slow_refresh(store: JobStore, now: float) -> int:
        store.redis.set(keys.TICK_LOCK, "another-orchestrator", ex=30)  # ours lapsed: theirs
        return 0

    monkeypatch.setattr(tasks, "refresh_jobs", slow_refresh)
    assert "skipped" not in beat_tick(celery_app)
    assert store.redis.get(keys.TICK_LOCK) == "another-orchestrator"


def test_a_tick_longer_than_its_lock_keeps_it(
    celery_app: Celery,
    celery_worker: WorkController,
    service: WorkerHooks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tick slowed past TICK_LOCK_SECONDS (a slow Redis or storage in check_jobs) lost its
    fixed-TTL lock: another orchestrator's tick ran beside it, both failing over the same
    chunks."""
    store = service.store
    held: list[bool] = []

    def slow_refresh(store: JobStore, now: float) -> int:
        time.sleep(2.5)  # 2.5 lock lifetimes
        held.append(bool(store.redis.exists(keys.TICK_LOCK)))
        return 0

    monkeypatch.setattr(tasks, "TICK_LOCK_SECONDS", 1)
    monkeypatch.setattr(tasks, "refresh_jobs", slow_refresh)
    assert "skipped" not in beat_tick(celery_app)
    assert held == [True]
    assert not store.redis.exists(keys.TICK_LOCK)  # released at the end


def test_a_job_whose_sound_came_from_the_cache_still_gets_its_lost_chunks_requeued(
    service: WorkerHooks,
) -> None:
    """Its audio task was never sent (no ``audio_sent_at``), which the failover once took for a
    job that no longer exists: a chunk of a dead node then waited for the broker's 6 h."""
    store = service.store
    rendering(store, "j", chunks=2)
    chunk = store.chunk_started("j", 0, "gone@host", None)
    chunk.started_at = chunk.updated_at = time.time() - 100
    assert store.save_chunk("j", chunk)

    check_jobs(service)

    assert store.chunk("j", 0).state is ChunkState.RETRYING
    assert "0" in store.redis.lrange(keys.pending("j"), 0, -1)


def test_a_failed_jobs_objects_are_removed_from_its_storage(
    service: WorkerHooks, tmp_path: Path
) -> None:
    """As a cancel does: a job that failed after a full disk kept the disk full."""
    store = service.store
    job = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)
    spec = JobSpec.from_dict(store.spec(job))
    storage = spec.storage()
    part = tmp_path / "part.mkv"
    part.write_bytes(b"segment")
    storage.put_file(spec.segment_key(0), str(part))
    storage.put_file("cache/kept", str(part))  # not the job's: stays

    service.job_failed(job, RenderError("chunk 1: No space left on device"))

    assert store.state(job) is JobState.FAILED
    assert not storage.exists(spec.segment_key(0)) and storage.exists("cache/kept")


def test_a_job_that_ended_wants_no_more_work(service: WorkerHooks, tmp_path: Path) -> None:
    """A task that resumes after its job completed without it (a paused node, a copy sent
    again) stores nothing: its audio mix stayed in storage for good."""
    store = service.store
    job = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)
    assert not service.cancelled(job)
    store.transition(job, JobState.PLANNING)
    store.transition(job, JobState.RENDERING)
    store.transition(job, JobState.MERGING)
    store.transition(job, JobState.COMPLETED)
    assert service.cancelled(job)
    assert service.cancelled("unknown")


def test_a_planning_copy_resuming_after_another_planned_the_job_leaves_its_chunks_alone(
    celery_app: Celery, service: WorkerHooks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An orchestrator stalled mid-plan (SIGSTOP, a VM paused) past the planning's lease: the
    tick's takeover copy plans the job and its chunks render; when the first copy resumes, its
    plan must not replace the job's chunk records (a done chunk back to pending, the done set
    emptied: rendered again, and a merging job left merging over pending chunks)."""
    store = service.store
    job = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)
    real = tasks._plan

    def stalled(*args: Any) -> Any:
        plan = real(*args)
        monkeypatch.setattr(tasks, "_plan", real)
        assert tasks.plan_job.run(job, takeover=True) == 3  # the takeover, meanwhile
        store.chunk_started(job, 0, "render@a", "t0")
        store.chunk_done(job, 0, 1.0)
        return plan

    monkeypatch.setattr(tasks, "_plan", stalled)
    assert tasks.plan_job.run(job) == 0
    assert store.state(job) is JobState.RENDERING
    assert store.chunk(job, 0).state is ChunkState.DONE
    assert store.redis.sismember(keys.done(job), "0")


def test_a_planning_renews_its_lease_and_one_whose_orchestrator_died_is_taken_over_soon(
    celery_app: Celery,
    celery_worker: WorkController,
    service: WorkerHooks,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An orchestrator killed mid-plan left its job in planning for PLANNING_STALE (5 minutes)
    before the tick sent a takeover: the plan now renews a lease, and the tick takes over once
    it lapses (PLANNING_LEASE), while a long planning that renews it is left to finish."""
    store = service.store
    # A planning that takes a while renews its lease meanwhile
    job = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)
    real = tasks._plan
    monkeypatch.setattr(tasks, "PLAN_HEARTBEAT", 0.05)

    def slow(*args: Any) -> Any:
        time.sleep(0.5)
        return real(*args)

    monkeypatch.setattr(tasks, "_plan", slow)
    assert tasks.plan_job.run(job) == 3
    fields = store.get_fields(job, "plan_started_at", "plan_alive_at")
    assert fields["plan_alive_at"] > fields["plan_started_at"] + 0.3
    monkeypatch.setattr(tasks, "_plan", real)

    # One whose orchestrator died a lease ago, a minute into planning, is taken over now
    died = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)
    now = time.time()
    store.transition(died, JobState.PLANNING, plan_started_at=now - 60)
    store.update(died, plan_alive_at=now - PLANNING_LEASE - 2)
    check_jobs(service)
    deadline = time.monotonic() + 20
    while store.state(died) is not JobState.RENDERING and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.state(died) is JobState.RENDERING and len(store.chunks(died)) == 3

    # One that renewed its lease a moment ago is left alone, however long it has planned
    busy = submitted(store, tmp_path, seconds=1.0, chunk_frames=10)
    store.transition(busy, JobState.PLANNING, plan_started_at=now - 2 * PLANNING_STALE)
    store.update(busy, plan_alive_at=time.time())
    check_jobs(service)
    time.sleep(0.5)
    assert store.state(busy) is JobState.PLANNING
