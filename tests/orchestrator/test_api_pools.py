"""An operator's override of a pool (``cluster scale POOL N``), refused when the decision would
not hold it."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator

import pytest
import redis

from common.errors import RenderError
from orchestrator import api_pools
from orchestrator.api_pools import PoolStatus, override_pool
from orchestrator.autoscaler.observe import load_pool_state
from orchestrator.cluster_clock import ClusterClock


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


def test_an_override_lasts_its_duration_on_the_clusters_clock_whatever_the_callers(
    client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller whose clock ran an hour behind set override_until by it: the autoscaler, on the
    cluster's (Redis's) clock, found a 30-minute override expired before it began."""
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 3600)  # this machine's clock
    behind = functools.partial(ClusterClock, clock=time.time)
    monkeypatch.setattr(api_pools, "ClusterClock", behind, raising=False)
    gpu = PoolStatus(name="gpu", provider="aws", market="spot", max_nodes=8)
    override_pool(client, "gpu", 4, 1800.0, [gpu])
    seconds, micros = client.time()
    until = load_pool_state(client, "gpu").override_until
    assert until is not None and until - (seconds + micros / 1e6) == pytest.approx(1800, abs=5)


@pytest.mark.parametrize("seconds", [367 * 86400.0, 3.6e14, float("inf"), float("nan")])
def test_an_override_of_more_than_a_year_is_refused(client: redis.Redis, seconds: float) -> None:
    """`--for 99999999999h` was accepted, and every autoscaler round then failed formatting it."""
    gpu = PoolStatus(name="gpu", provider="aws", market="spot", max_nodes=8)
    with pytest.raises(RenderError, match=r"an override (lasts at most 366 days|needs a positive)"):
        override_pool(client, "gpu", 4, seconds, [gpu])
    assert load_pool_state(client, "gpu").override is None


def test_an_override_below_min_nodes_is_refused(client: redis.Redis) -> None:
    # Before, `cluster scale spot 0` on a pool of min_nodes 2 was accepted: the engine refuses
    # that size (or replaces every node terminated), so the nodes churned for an hour.
    spot = PoolStatus(name="spot", provider="aws", market="spot", min_nodes=2, max_nodes=8)
    with pytest.raises(RenderError, match=r"pool spot: 0 nodes is below its min_nodes \(2\)"):
        override_pool(client, "spot", 0, 600.0, [spot])
    assert override_pool(client, "spot", 2, 600.0, [spot]).override == 2
