"""The orchestrator process: one tick at a time even when two run, and deadline escalation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.tasks import refresh_jobs

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(120)


def test_two_orchestrators_fire_each_tick_once(redis_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CLOUDRENDER_BROKER_URL": redis_url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cli", "orchestrator"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(2)
    ]
    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 60
        while client.get("cr:ticks") is None and time.monotonic() < deadline:
            time.sleep(0.2)
        first = int(client.get("cr:ticks") or 0)
        time.sleep(8.0)
        ticks = int(client.get("cr:ticks") or 0) - first
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
