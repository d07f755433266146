"""The node ledger and the billing rules: what a node's life costs, and a job's share of it."""

from __future__ import annotations

import pytest
import redis

from orchestrator.autoscaler.billing import billable_seconds, node_cost, running_cost
from orchestrator.autoscaler.ledger import DRAINED, Ledger, spend_by_pool
from providers.compute.pools import Pool

POOL = Pool("gpu", "aws", region="us-east-1", price_per_hour=3.6, concurrency=2)


@pytest.mark.parametrize(
    ("started", "ended", "billed"),
    [
        (0.0, 0.0, 60.0),  # the minimum
        (0.0, 30.0, 60.0),
        (0.0, 60.0, 60.0),
        (0.0, 61.5, 61.5),  # per second after it
        (0.0, 3600.0, 3600.0),
        (100.0, 50.0, 60.0),  # a clock step back still bills the minimum
    ],
)
def test_billing_is_per_second_with_a_minute_minimum(
    started: float, ended: float, billed: float
) -> None:
    assert billable_seconds(started, ended) == billed
    assert node_cost(started, ended, 3.6) == pytest.approx(billed / 1000)


def test_a_running_node_costs_what_it_has_lived() -> None:
    assert running_cost(0.0, 30.0, 3.6) == pytest.approx(0.03)
    with pytest.raises(ValueError, match="finite"):
        billable_seconds(0.0, float("nan"))


def test_a_node_life_is_recorded_once_per_step(redis_url: str) -> None:
    ledger = Ledger(redis.Redis.from_url(redis_url, decode_responses=True))
    assert ledger.requested("i-1", POOL, 1000.0)
    assert not ledger.requested("i-1", POOL, 2000.0)  # seen again next round: same life
    ledger.booted("i-1", "render@a", 1090.0)
    ledger.booted("i-1", "render@b", 1200.0)
    ledger.add_busy("i-1", 400.0)  # two chunks of 200 s on its two slots
    ledger.draining("i-1", 1500.0)
    ledger.terminated("i-1", 1600.0, DRAINED)
    ledger.terminated("i-1", 1700.0, "gone")
    node = ledger.get("i-1")
    assert node is not None
    assert (node.booted_at, node.name, node.terminated_at, node.outcome) == (
        1090.0,
        "render@a",
        1600.0,
        DRAINED,
    )
    assert node.cost(9999.0) == pytest.approx(600 * 3.6 / 3600)  # boot and idle included
    assert node.idle_seconds(9999.0) == pytest.approx(600 - 400 / 2)
    assert ledger.live() == []
    assert [n.id for n in ledger.history()] == ["i-1"]


def test_spend_per_pool_separates_busy_from_idle(redis_url: str) -> None:
    ledger = Ledger(redis.Redis.from_url(redis_url, decode_responses=True))
    for node_id, start in (("a", 0.0), ("b", 100.0)):
        ledger.requested(node_id, POOL, start)
    ledger.add_busy("a", 200.0)
    ledger.terminated("a", 300.0, DRAINED)
    spend = spend_by_pool(ledger.history(), now=400.0)["gpu"]
    assert spend.nodes == 2
    assert spend.node_seconds == pytest.approx(300 + 300)
    assert spend.busy_node_seconds == pytest.approx(100)
    assert spend.idle_node_seconds == pytest.approx(500)
    assert spend.cost == pytest.approx((300 + 300) * 3.6 / 3600)
