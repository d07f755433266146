"""Spot interruptions: the rate a pool learns from its ledger, the chunk a notice allows, the
Poisson arithmetic behind spot plans, and the ledger recording notices the nodes announce."""

from __future__ import annotations

import json
import math

import pytest
import redis

from orchestrator import keys
from orchestrator.autoscaler.interruptions import (
    DEFAULT_RATE,
    NOTICE_SECONDS,
    PRIOR_NODE_HOURS,
    interruption_rate,
    interruptions_to_absorb,
    poisson_cdf,
    spot_chunk_frames,
)
from orchestrator.autoscaler.ledger import DRAINED, GONE, INTERRUPTED, Ledger, LedgerNode
from orchestrator.autoscaler.loop import Autoscaler
from orchestrator.autoscaler.model import Policy, PoolState
from orchestrator.autoscaler.observe import (
    catalogue_band,
    load_pool_state,
    pool_interruption_rate,
    save_pool_state,
)
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from providers.compute.memory import MemoryCompute
from providers.compute.pools import Pool, PoolsConfig

T0 = 1_800_000_000.0
HOUR = 3600.0


def life(
    node_id: str,
    hours: float,
    *,
    pool: str = "spot",
    market: str = "spot",
    outcome: str | None = DRAINED,
    noticed: bool = False,
) -> LedgerNode:
    """A node requested at T0 that lived `hours` (still alive when outcome is None)."""
    end = T0 + hours * HOUR
    return LedgerNode(
        id=node_id,
        pool=pool,
        provider="aws",
        market=market,
        price_per_hour=0.3,
        slots=1,
        requested_at=T0,
        terminated_at=end if outcome is not None else None,
        outcome=outcome,
        noticed_at=end - 60 if noticed else None,
    )


def test_the_notice_each_cloud_gives() -> None:
    assert NOTICE_SECONDS == {"aws": 120, "gcp": 30, "azure": 30}


def test_no_history_and_no_band_is_the_stated_default() -> None:
    assert interruption_rate([], "spot", None, T0) == DEFAULT_RATE == 0.05


def test_a_band_alone_gives_its_middle() -> None:
    assert interruption_rate([], "spot", (0.02, 0.08), T0) == pytest.approx(0.05)
    assert interruption_rate([], "spot", (0.1, math.inf), T0) == pytest.approx(0.1)


def test_history_outweighs_the_prior_as_node_hours_add_up() -> None:
    # 40 interruptions over 200 node-hours (20 %/h) against a band saying 1-3 %/h.
    nodes = [life(f"n{i}", 5.0, outcome=INTERRUPTED) for i in range(40)]
    nodes += [life(f"q{i}", 0.0, outcome=DRAINED) for i in range(10)]  # no hours lived
    rate = interruption_rate(nodes, "spot", (0.01, 0.03), T0 + 10 * HOUR)
    assert rate == pytest.approx((40 + 0.02 * PRIOR_NODE_HOURS) / (200 + PRIOR_NODE_HOURS))
    assert 0.17 < rate < 0.2
    # A little history moves the prior only a little.
    few = interruption_rate([life("n", 1.0, outcome=INTERRUPTED)], "spot", (0.01, 0.03), T0)
    assert 0.02 < few < 0.1


def test_a_quiet_history_lowers_the_rate_below_the_prior() -> None:
    nodes = [life(f"n{i}", 10.0) for i in range(20)]  # 200 node-hours, no interruption
    assert interruption_rate(nodes, "spot", None, T0 + 10 * HOUR) == pytest.approx(
        DEFAULT_RATE * PRIOR_NODE_HOURS / 220
    )


def test_only_the_pool_s_spot_nodes_count_and_a_noticed_live_node_is_an_interruption() -> None:
    now = T0 + 2 * HOUR
    others = [
        life("od", 10.0, market="on-demand", outcome=GONE),
        life("x", 10.0, pool="other", outcome=INTERRUPTED),
    ]
    assert interruption_rate(others, "spot", None, now) == DEFAULT_RATE
    noticed = life("live", 0.0, outcome=None, noticed=True)  # alive, 2 h so far, noticed
    assert interruption_rate([noticed], "spot", None, now) == pytest.approx(
        (1 + DEFAULT_RATE * PRIOR_NODE_HOURS) / (2 + PRIOR_NODE_HOURS)
    )


@pytest.mark.parametrize(
    ("notice", "seconds_per_frame", "margin", "frames"),
    [
        (120, 0.5, 0.25, 60),  # AWS: 30 s of a 2-minute notice
        (30, 0.5, 0.25, 15),  # GCP/Azure: 7.5 s
        (30, 0.1, 0.25, 75),
        (120, 0.5, 0.5, 120),
        (30, 10.0, 0.25, 1),  # a frame longer than the margin: still one frame
        (0, 0.5, 0.25, 1),  # no notice
    ],
)
def test_a_spot_chunk_renders_well_inside_the_notice(
    notice: float, seconds_per_frame: float, margin: float, frames: int
) -> None:
    assert spot_chunk_frames(notice, seconds_per_frame, margin) == frames
    if frames > 1:
        assert frames * seconds_per_frame <= margin * notice


def test_spot_chunk_frames_refuses_a_speed_of_zero() -> None:
    with pytest.raises(ValueError, match="above 0"):
        spot_chunk_frames(120, 0.0)


@pytest.mark.parametrize(
    ("k", "mu", "p"),
    [
        (0, 0.1, math.exp(-0.1)),
        (1, 0.1, math.exp(-0.1) * 1.1),
        (2, 1.0, math.exp(-1) * 2.5),
        (-1, 1.0, 0.0),
        (0, 0.0, 1.0),
        (600, 400.0, 1.0),  # far in the tail, no overflow
    ],
)
def test_poisson_cdf(k: int, mu: float, p: float) -> None:
    assert poisson_cdf(k, mu) == pytest.approx(p, abs=1e-9)


@pytest.mark.parametrize(
    ("mu", "confidence", "k"),
    [
        (0.0, 0.95, 0),
        (0.05, 0.95, 0),  # P(0) = 95.1 %
        (0.06, 0.95, 1),  # P(0) = 94.2 %
        (1.0, 0.95, 3),  # P(<=2) = 92.0 %, P(<=3) = 98.1 %
        (2.0, 0.95, 5),
        (1.0, 0.5, 1),
        (0.1, 1.0, None),  # certainty while interruptions are expected: no plan
        (1000.0, 0.95, None),
    ],
)
def test_interruptions_a_plan_must_absorb(mu: float, confidence: float, k: int | None) -> None:
    assert interruptions_to_absorb(mu, confidence) == k
    if k is not None and mu > 0:
        assert poisson_cdf(k, mu) >= confidence
        assert k == 0 or poisson_cdf(k - 1, mu) < confidence


# -- the ledger learns from notices the nodes announce ------------------------------------------

SPOT = Pool("spot", "memory", market="spot", max_nodes=2, boot_seconds=30.0, price_per_hour=0.3)
POLICY = Policy(name="queue", target_seconds=300.0, scale_up_cooldown=0.0)


class Clock:
    """Simulated time shared by the engine and the rounds."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def beat(store: JobStore, node_id: str, now: float) -> str:
    """A worker's heartbeat for the node; returns its name."""
    name = f"render-{node_id}@host"
    payload = {
        "name": name,
        "concurrency": 1,
        "since": now,
        "time": now,
        "pool": "spot",
        "instance": node_id,
        "busy": 1,
        "queues": ["render"],
    }
    store.redis.set(keys.node(name), json.dumps(payload), ex=60)
    return name


def test_a_noticed_node_that_disappears_ends_as_interrupted(redis_url: str) -> None:
    store = JobStore.from_url(redis_url)
    clock = Clock()
    engine = MemoryCompute(clock)
    scaler = Autoscaler(store, PoolsConfig({"spot": SPOT}), POLICY, engines={"spot": engine})
    # 5 minutes of work at the prior's 0.025 s per unit
    record = JobRecord(
        id="job", state=JobState.QUEUED, frames=6_000, submitted_at=T0, complexity=2.0
    )
    store.create(record, {})
    scaler.run(T0)
    first, second = sorted(n.id for n in engine.nodes(SPOT))
    clock.now = T0 + 40
    names = {node_id: beat(store, node_id, clock.now) for node_id in (first, second)}
    scaler.run(clock.now)
    ledger = Ledger(store.redis)
    before = pool_interruption_rate(store.redis, SPOT, clock.now)
    assert before == pytest.approx(DEFAULT_RATE, rel=0.01)  # a few node-seconds of history

    # The first node's worker saw its cloud's notice (orchestrator.node_signals writes this);
    # the second hands its chunks back at the end of a drain, which is no interruption.
    store.redis.set(keys.evict(names[first]), "aws: terminate at 2027-01-15T08:02:00Z", ex=600)
    store.redis.set(keys.evict(names[second]), "drain", ex=600)
    clock.now = T0 + 50
    for node_id in (first, second):
        beat(store, node_id, clock.now)
    scaler.run(clock.now)
    noticed = ledger.get(first)
    assert noticed is not None and noticed.noticed_at == clock.now
    drained = ledger.get(second)
    assert drained is not None and drained.noticed_at is None

    # The cloud reclaims the noticed node; the other one is killed without a notice.
    engine.kill(SPOT, first)
    engine.kill(SPOT, second)
    clock.now = T0 + 170
    scaler.run(clock.now)
    ended = {n.id: n.outcome for n in ledger.history()}
    assert ended[first] == INTERRUPTED and ended[second] == GONE
    after = pool_interruption_rate(store.redis, SPOT, clock.now)
    assert after is not None and before is not None and after > before
    expected_hours = 2 * 170 / HOUR  # both lived from T0 to T0+170
    assert after == pytest.approx(
        (1 + DEFAULT_RATE * PRIOR_NODE_HOURS) / (expected_hours + PRIOR_NODE_HOURS), rel=0.05
    )


def test_an_on_demand_pool_has_no_interruption_rate(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    on_demand = Pool("od", "memory", price_per_hour=1.0)
    assert pool_interruption_rate(client, on_demand, T0) is None


def test_the_interruption_rate_is_measured_each_round_not_stored(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    save_pool_state(client, "spot", PoolState(desired=3, interruption_rate=0.4))
    loaded = load_pool_state(client, "spot")
    assert loaded.desired == 3 and loaded.interruption_rate is None


def test_a_new_spot_pool_starts_from_the_catalogue_s_band(redis_url: str) -> None:
    prices = pytest.importorskip("providers.compute.prices")
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    g5 = Pool("gpu-spot", "aws", "g5.xlarge", region="us-east-1", market="spot", gpu="A10G")
    offer = prices.load_catalogue().lookup("aws", "us-east-1", "g5.xlarge")
    assert offer is not None
    assert catalogue_band(g5) == (offer.interruption_low, offer.interruption_high)
    middle = (offer.interruption_low + offer.interruption_high) / 2
    assert pool_interruption_rate(client, g5, T0) == pytest.approx(middle)
    unknown = Pool("odd-spot", "aws", "x9.huge", region="us-east-1", market="spot")
    assert catalogue_band(unknown) is None
    assert pool_interruption_rate(client, unknown, T0) == DEFAULT_RATE
