"""How a private Redis's start is waited for."""

from __future__ import annotations

import pytest
import redis

from orchestrator import embedded_redis
from orchestrator.embedded_redis import EmbeddedRedis

pytestmark = pytest.mark.timeout(60)


def test_a_starting_redis_is_asked_for_ping_often(monkeypatch: pytest.MonkeyPatch) -> None:
    # The private render's workers are spawned once its Redis answers, some 0.01-0.03 s after
    # its launch: a 0.05 s step between PINGs cost most of a step of every render's start.
    naps: list[float] = []
    real = embedded_redis.time.sleep

    def nap(seconds: float) -> None:
        naps.append(seconds)
        real(seconds)

    monkeypatch.setattr(embedded_redis.time, "sleep", nap)
    with EmbeddedRedis() as server, redis.Redis.from_url(server.url) as client:
        starting = list(naps)  # the stop's own waits are not the start's
        assert client.ping()
    assert max(starting, default=0.0) <= 0.01
