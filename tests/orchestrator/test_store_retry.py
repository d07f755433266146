"""A frozen Redis (stopped, a paused VM): job-store calls and the API's wait fail in the time
they promise, with a clear error, instead of hanging for minutes."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from common.errors import ClusterUnreachable
from common.settings import Settings
from orchestrator import api_view as api_module
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded_redis import EmbeddedRedis
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.store_retry import PatientRetry, redis_deadline, retries_left

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize(
    ("started", "patience", "now", "deadline", "expected"),
    [
        (0.0, 20.0, 5.0, None, True),  # within patience
        (0.0, 20.0, 20.0, None, False),  # patience spent, however few attempts it took
        (0.0, 20.0, 5.0, 4.0, False),  # the caller's deadline comes first
        (0.0, 20.0, 3.0, 4.0, True),
        (10.0, 20.0, 25.0, 100.0, True),  # a later deadline does not lengthen patience...
        (10.0, 20.0, 31.0, 100.0, False),  # ...which still ends the retries
    ],
)
def test_retries_end_with_patience_or_deadline(
    started: float, patience: float, now: float, deadline: float | None, expected: bool
) -> None:
    assert retries_left(started, patience, now, deadline) is expected


@pytest.fixture
def frozen() -> Iterator[tuple[EmbeddedRedis, JobRecord]]:
    """A Redis of this test's own holding one running job, frozen by SIGSTOP until the end."""
    with EmbeddedRedis() as server:
        job = JobRecord(id="j1", state=JobState.QUEUED, frames=10, submitted_at=time.time())
        JobStore.from_url(server.url).create(job, {})
        pid = server._proc.pid  # type: ignore[union-attr]
        os.kill(pid, signal.SIGSTOP)
        try:
            yield server, job
        finally:
            os.kill(pid, signal.SIGCONT)


def test_a_call_to_a_frozen_redis_fails_after_its_patience(
    frozen: tuple[EmbeddedRedis, JobRecord],
) -> None:
    # Given a store whose commands wait 0.5 s and whose calls retry for 2 s
    server, job = frozen
    store = JobStore.from_url(server.url, timeout=0.5, patience=2.0)
    # When it reads the job from the frozen Redis
    began = time.monotonic()
    with pytest.raises(redis.TimeoutError):
        store.get(job.id)
    # Then it says so once its patience is spent (plus the one attempt under way),
    # not after twelve whole socket timeouts
    assert 2.0 <= time.monotonic() - began < 2.0 + 0.5 + 2.0


def test_a_deadline_shortens_the_retries(frozen: tuple[EmbeddedRedis, JobRecord]) -> None:
    server, job = frozen
    store = JobStore.from_url(server.url, timeout=0.5, patience=30.0)
    began = time.monotonic()
    with pytest.raises(redis.TimeoutError), redis_deadline(1.0):
        store.get(job.id)
    assert time.monotonic() - began < 1.0 + 0.5 + 2.0


def test_wait_on_a_frozen_redis_gives_up_in_its_stated_time(
    frozen: tuple[EmbeddedRedis, JobRecord], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a client whose store would retry one call for 30 s, and a wait that promises 3 s
    server, job = frozen
    settings = Settings(redis_timeout=0.5, redis_patience=30.0)
    api = CloudRenderingAPI(server.url, storage_url=f"file://{tmp_path}", settings=settings)
    monkeypatch.setattr(api_module, "REDIS_PATIENCE", 3.0)
    # When it waits for the job while Redis is frozen
    began = time.monotonic()
    with pytest.raises(ClusterUnreachable, match=r"lost contact with Redis .* for [34]s"):
        api.wait(job.id, poll=0.1)
    # Then it gives up after about the 3 s it says, not after one whole call's patience
    assert time.monotonic() - began < 3.0 + 0.5 + 2.0


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (redis.ConnectionError("restarting"), True),
        (redis.AuthenticationError("bad password"), False),
    ],
)
def test_a_restart_is_ridden_out_but_a_refused_password_is_said_at_once(
    error: redis.RedisError, retried: bool
) -> None:
    """A mistyped --broker password was retried for the whole patience before it was said
    (redis-py's AuthenticationError is a ConnectionError)."""
    attempts: list[int] = []

    def fails() -> None:
        attempts.append(1)
        raise error

    with pytest.raises(type(error)):
        PatientRetry(0.5).call_with_retry(fails, lambda _exc: None)
    assert (len(attempts) > 1) is retried
