"""An operator's override of a pool (``cluster scale POOL N``), refused when the decision would
not hold it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from common.errors import RenderError
from orchestrator.api_pools import PoolStatus, override_pool


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url, decode_responses=True) as c:
        yield c


def test_a_pool_of_max_nodes_0_cannot_be_held_at_5(client: redis.Redis) -> None:
    """The decision clamps the override to 0: "held at 5 nodes" was not so."""
    empty = PoolStatus(name="empty", provider="aws", market="spot", max_nodes=0)
    with pytest.raises(RenderError, match=r"pool empty: 5 nodes is above its max_nodes \(0\)"):
        override_pool(client, "empty", 5, 3600.0, [empty])
    assert override_pool(client, "empty", 0, 3600.0, [empty]).override == 0
