"""The liveness probe while the service's Redis is frozen (SIGSTOP, a paused VM): requests
that wait on Redis take every thread of the pool, and a probe that needed one too went
unanswered until they gave up; Kubernetes then took a live server for dead."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis

from common.settings import Settings
from orchestrator.api_keys import KeyStore
from orchestrator.embedded_redis import EmbeddedRedis
from server.app import create_app
from tests.server.conftest import bearer, serving

pytestmark = pytest.mark.timeout(90)

#: anyio's default thread pool: requests beyond it queue for a thread.
POOL = 40


def _pool_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "AnyIO worker thread")


def test_healthz_answers_while_every_pool_thread_waits_on_a_frozen_redis(
    tmp_path: Path,
) -> None:
    with EmbeddedRedis() as server:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        key = KeyStore(client).create("alice")[1]
        client.close()
        settings = Settings(
            broker_url=server.url,
            result_backend=server.url,
            storage_url=f"file://{tmp_path / 'storage'}",
            redis_timeout=1.0,
            redis_patience=30.0,  # each request below holds its thread this long
        )
        with serving(create_app(settings)) as url:
            pid = server.pid
            assert pid is not None
            os.kill(pid, signal.SIGSTOP)
            try:
                # Given more requests waiting on the frozen Redis than the pool has threads
                def list_jobs() -> None:
                    try:
                        httpx.get(f"{url}/v1/jobs", headers=bearer(key), timeout=60)
                    except httpx.HTTPError:
                        pass

                callers = [threading.Thread(target=list_jobs) for _ in range(POOL + 10)]
                for caller in callers:
                    caller.start()
                deadline = time.monotonic() + 20
                while _pool_threads() < POOL and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert _pool_threads() >= POOL
                # When the probe asks, then it is answered at once
                began = time.monotonic()
                reply = httpx.get(f"{url}/healthz", timeout=10)
                assert reply.status_code == 200 and reply.json() == {"ok": True}
                assert time.monotonic() - began < 5.0
            finally:
                os.kill(pid, signal.SIGCONT)
            for caller in callers:
                caller.join(timeout=60)
