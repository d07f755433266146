"""The autoscaler's lock is a lease renewed while its round runs: a round slower than the lock's
TTL (an engine's API hanging) kept no lock, and a second orchestrator's round ran beside it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from orchestrator import keys
from orchestrator.autoscaler.lease import lease


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url, decode_responses=True) as c:
        yield c


def test_a_round_longer_than_the_ttl_keeps_the_lock_and_shuts_out_a_second(
    client: redis.Redis,
) -> None:
    with lease(client, keys.AUTOSCALE_LOCK, 1) as held:
        assert held
        time.sleep(2.5)  # 2.5 TTLs: a fixed TTL had lapsed by now
        with lease(client, keys.AUTOSCALE_LOCK, 1) as second:
            assert not second
        assert client.exists(keys.AUTOSCALE_LOCK)
    assert not client.exists(keys.AUTOSCALE_LOCK)  # released at the end of the round


def test_a_lapsed_lease_taken_over_is_neither_renewed_nor_released_by_its_old_holder(
    client: redis.Redis,
) -> None:
    with lease(client, keys.AUTOSCALE_LOCK, 1) as held:
        assert held
        client.set(keys.AUTOSCALE_LOCK, "someone-else", ex=30)  # ours lapsed, theirs now
        time.sleep(0.5)
    assert client.get(keys.AUTOSCALE_LOCK) == "someone-else"
