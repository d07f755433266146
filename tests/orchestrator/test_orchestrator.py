"""The orchestrator process: one tick at a time even when two run, and deadline escalation."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis

from orchestrator import keys
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.tasks import refresh_jobs
from tests.helpers import CLI

pytestmark = pytest.mark.timeout(120)


def test_two_orchestrators_fire_each_tick_once(cli: CLI, redis_url: str, tmp_path: Path) -> None:
    orchestrator = cli.with_env(
        CLOUDRENDER_BROKER_URL=redis_url, CLOUDRENDER_STORAGE_URL=(tmp_path / "storage").as_uri()
    )
    procs = [
        orchestrator.start(
            "orchestrator",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(2)
    ]
    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 60
        while client.get(keys.TICKS) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        first = int(client.get(keys.TICKS) or 0)
        time.sleep(8.0)
        ticks = int(client.get(keys.TICKS) or 0) - first
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)
    # A 2 s schedule over 8 s: about 4 ticks; two beats without the lock would give about 8.
    assert 2 <= ticks <= 5


def test_jobs_near_their_deadline_are_escalated(redis_url: str) -> None:
    store = JobStore.from_url(redis_url)
    now = time.time()
    cases = {
        "relaxed": (now + 3600, 60.0, "normal"),
        "tight": (now + 30, 60.0, "high"),
        "missed": (now - 1, 60.0, "urgent"),
        "none": (None, 60.0, "normal"),
    }
    for job_id, (deadline, seconds, _) in cases.items():
        store.create(
            JobRecord(
                id=job_id,
                priority="normal",
                effective_priority="normal",
                deadline=deadline,
                submitted_at=now,
                frames=100,
                estimated_seconds=seconds,
            ),
            {},
        )
        store.transition(job_id, JobState.PLANNING)
    assert refresh_jobs(store, now) == 2
    for job_id, (_, _, expected) in cases.items():
        assert store.get(job_id).effective_priority == expected, job_id


def test_a_job_far_behind_lifts_the_job_due_sooner(redis_url: str) -> None:
    # Given a long job due in 44 min that is far behind (escalated at once) and a short job
    # due in 5 min that is not yet near its deadline
    store = JobStore.from_url(redis_url)
    now = time.time()
    for job_id, deadline, seconds in (("far", now + 2640, 3000.0), ("soon", now + 300, 20.0)):
        store.create(
            JobRecord(
                id=job_id, priority="normal", effective_priority="normal", deadline=deadline,
                submitted_at=now, frames=100, estimated_seconds=seconds,
            ),
            {},
        )  # fmt: skip
        store.transition(job_id, JobState.PLANNING)
    # When the tick refreshes them
    assert refresh_jobs(store, now) == 2
    # Then the job due sooner runs at the far one's level, not behind it
    assert store.get("far").effective_priority == "high"
    assert store.get("soon").effective_priority == "high"


def test_a_job_that_ended_while_the_tick_refreshed_it_shows_no_eta(redis_url: str) -> None:
    # Given a rendering job the tick has read (its ETA worked out from the estimate)
    store = JobStore.from_url(redis_url)
    store.create(JobRecord(id="j", frames=60, estimated_seconds=78.7), {})
    for state in (JobState.PLANNING, JobState.RENDERING, JobState.MERGING):
        store.transition("j", state)
    seen = store.get("j")
    # When the job completes before the tick writes that ETA back
    store.transition("j", JobState.COMPLETED)
    store.update("j", eta_seconds=seen.estimated_seconds)
    # Then `status --json` of the completed job does not promise 78.7 s more
    assert store.get("j").eta_seconds == 0.0
    assert store.get("j").to_json()["eta_seconds"] == 0.0
