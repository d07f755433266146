"""Fixtures shared by the whole test suite: a private Redis (never the system one on 6379)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from common.errors import RenderError
from orchestrator.embedded import EmbeddedRedis, find_redis_server


@pytest.fixture(scope="session")
def redis_server() -> Iterator[EmbeddedRedis]:
    """A private redis-server on a free port for the whole session."""
    try:
        find_redis_server()
    except RenderError as exc:
        # Like dramatiq's check_redis: a developer without Redis skips, CI must not.
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    with EmbeddedRedis() as server:
        yield server


@pytest.fixture
def redis_url(redis_server: EmbeddedRedis) -> Iterator[str]:
    """The session Redis's URL, with every database flushed before and after the test."""
    _flush(redis_server.url)
    yield redis_server.url
    _flush(redis_server.url)


def _flush(url: str) -> None:
    with redis.Redis.from_url(url) as client:
        client.flushall()
