"""A cancelled job's record says none of its chunks runs any more: every chunk not done ends
``failed`` ("cancelled"), whoever cancels it (a user, the budget's hard stop), and a worker that
stops late cannot write it back to running."""

from __future__ import annotations

import time

from cli.status_view import render_status
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_cancel import stop_jobs
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState
from orchestrator.job_store import JobStore


def rendering_job(store: JobStore, job_id: str, project: str = "") -> None:
    """A job rendering 4 chunks: 0 done, 1 running, 2 retrying, 3 pending."""
    store.create(JobRecord(id=job_id, state=JobState.PLANNING, frames=40, project=project), {})
    store.set_chunks(job_id, [ChunkRecord(i, 10 * i, 10 * i + 10) for i in range(4)], {})
    store.transition(job_id, JobState.RENDERING)
    store.chunk_started(job_id, 0, "render@a", "t0")
    store.chunk_done(job_id, 0, seconds=1.0)
    store.chunk_started(job_id, 1, "render@a", "t1")
    store.chunk_progress(job_id, 1, 4)
    store.chunk_started(job_id, 2, "render@b", "t2")
    store.chunk_failed(job_id, 2, "the broker went away", retrying=True)


def states(store: JobStore, job_id: str) -> list[tuple[str, str | None]]:
    return [(c.state.value, c.error) for c in store.chunks(job_id)]


ENDED = [
    ("done", None),
    ("failed", "cancelled"),
    ("failed", "cancelled"),
    ("failed", "cancelled"),
]


def test_cancel_ends_every_chunk_not_done(redis_url: str) -> None:
    api = CloudRenderingAPI(redis_url)
    rendering_job(api.store, "job")
    record = api.cancel_job("job")
    assert record.state is JobState.CANCELLED
    assert [(c.state.value, c.error) for c in record.chunks] == ENDED
    shown = render_status(record)
    assert "running" not in shown and " on render@a" not in shown, shown
    assert "chunks: 1 done, 3 failed" in shown


def test_a_worker_stopping_late_cannot_bring_a_chunk_back(redis_url: str) -> None:
    store = JobStore.from_url(redis_url)
    rendering_job(store, "job")
    stale = store.chunk("job", 1)  # read by a worker before the cancel
    CloudRenderingAPI(redis_url).cancel_job("job")
    store.chunk_progress("job", 1, 9)
    store.chunk_started("job", 3, "render@c", "t3")
    store.chunk_failed("job", 2, "stopped", retrying=True)
    stale.frames_done = 8
    assert store.save_chunk("job", stale) is False
    assert states(store, "job") == ENDED
    assert store.chunk("job", 1).frames_done == 4


def test_the_budget_stop_ends_the_chunks_as_cancel_does(redis_url: str) -> None:
    store = JobStore.from_url(redis_url)
    rendering_job(store, "over", project="film")
    stopped = stop_jobs(store.redis, "project", "film", "budget reached", time.time())
    assert stopped == ["over"]
    assert states(store, "over") == ENDED
    assert store.get("over").error == "budget reached"


def test_chunks_of_a_job_that_is_not_cancelled_are_written_as_before(redis_url: str) -> None:
    store = JobStore.from_url(redis_url)
    rendering_job(store, "job")
    store.chunk_started("job", 3, "render@c", "t3")
    assert store.chunk("job", 3).state is ChunkState.RUNNING


def test_a_broker_away_does_not_stop_the_cancel_half_way(redis_url: str) -> None:
    from celery import Celery

    from orchestrator.job_cancel import cancel

    store = JobStore.from_url(redis_url)
    rendering_job(store, "job")
    queued = store.chunk("job", 3)
    queued.task_id = "queued-task"  # dispatched: the cancel revokes it
    store.save_chunk("job", queued)
    broker_away = Celery(broker="redis://127.0.0.1:1/0")
    broker_away.conf.broker_connection_retry = False
    assert cancel(store, "job", "cancelled by test", app=broker_away)
    # Was: the revoke's connection error ended the cancel before its chunks were ended
    assert states(store, "job") == ENDED
    assert store.get("job").state is JobState.CANCELLED
