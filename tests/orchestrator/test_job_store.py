"""The job store's records as readers see them, on a real Redis."""

from __future__ import annotations

import time

import pytest

from orchestrator import keys
from orchestrator.job_record import ChunkRecord, JobRecord, JobState
from orchestrator.job_store import JobStore

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def rendering(redis_url: str) -> JobStore:
    """A store with job "j" rendering, its last tick's ETA 39.5 s."""
    store = JobStore.from_url(redis_url)
    store.create(JobRecord(id="j", submitted_at=time.time(), frames=20), {})
    store.set_chunks("j", [ChunkRecord(0, 0, 10), ChunkRecord(1, 10, 20)], {})
    store.transition("j", JobState.PLANNING)
    store.transition("j", JobState.RENDERING)
    store.update("j", eta_seconds=39.5)
    return store


@pytest.mark.parametrize(("end", "eta"), [(JobState.CANCELLED, None), (JobState.FAILED, None)])
def test_an_ended_job_shows_no_time_left(rendering: JobStore, end: JobState, eta: None) -> None:
    # Given a job cancelled (or failed) at 30 % with 39.5 s to go
    rendering.transition("j", end)
    # Then `status --json` says nothing is left to wait for, not "39.5 s to go" for ever
    assert rendering.get("j").eta_seconds is eta
    assert rendering.get("j").to_json()["eta_seconds"] is eta


def test_a_completed_job_has_zero_seconds_left_even_after_a_late_tick(rendering: JobStore) -> None:
    rendering.transition("j", JobState.MERGING)
    rendering.transition("j", JobState.COMPLETED)
    assert rendering.get("j").eta_seconds == 0.0
    # A tick that read the job while it merged writes its stale ETA after the end
    rendering.update("j", eta_seconds=0.4)
    assert rendering.get("j").eta_seconds == 0.0


def test_a_running_job_keeps_its_eta(rendering: JobStore) -> None:
    assert rendering.get("j").eta_seconds == 39.5


@pytest.mark.parametrize("state", [JobState.RENDERING, JobState.MERGING])
def test_a_job_not_yet_merged_shows_what_it_has_spent(rendering: JobStore, state: JobState) -> None:
    # Given a job that ran 1800 node-seconds at $2/h and 600 on a pool node that cost $0.25
    rendering.update("j", hourly_rate=2.0)
    rendering.redis.hincrbyfloat(keys.job("j"), "node_seconds", 2400.0)
    rendering.redis.hincrbyfloat(keys.job("j"), "pool_seconds", 600.0)
    rendering.redis.hincrbyfloat(keys.job("j"), "pool_cost", 0.25)
    if state is JobState.MERGING:
        rendering.transition("j", state)
    # Then `status --json` says $1.25 so far, not $0 until the merge ends
    assert rendering.get("j").to_json()["actual_cost"] == pytest.approx(1.25)
    # And the merge's figure is what a completed job shows
    if state is JobState.RENDERING:
        rendering.transition("j", JobState.MERGING)
    rendering.transition("j", JobState.COMPLETED, actual_cost=1.5)
    assert rendering.get("j").actual_cost == 1.5


def test_a_jobs_notes_are_its_submit_warnings_then_what_its_render_said(redis_url: str) -> None:
    """`render` printed the notes of its job (a clipped mix, a software encoder in place of a
    hardware one); `status`, the HTTP API and the Python API showed none of them."""
    store = JobStore.from_url(redis_url)
    warned = "settings.frame_rate: 25 differs from timeline.fps 30"
    store.create(JobRecord(id="n", submitted_at=time.time(), frames=20, notes=[warned]), {})
    assert store.get("n").notes == [warned]
    store.redis.sadd(keys.notes("n"), "the mix clipped", "no hardware h264 encoder opens here")
    assert store.get("n").notes == [
        warned,
        "no hardware h264 encoder opens here",
        "the mix clipped",
    ]
    assert store.get("n").to_json()["notes"] == store.get("n").notes
