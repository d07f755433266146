"""The spot strategy as tables: spot or on-demand per job, by expected cost subject to the
deadline holding with the policy's confidence, re-decided as slack shrinks.

Pools (tests.orchestrator.autoscaler.builders): on-demand "od" at $1/h and spot "spot" at
$0.3/h, one slot, 120 s boot, at most 10 nodes, 0.05 s per unit; AWS, so chunks (19 s here)
finish within the 2-minute notice and an interruption costs ``interruption_seconds`` (180
node-seconds: a replacement's boot). Jobs are in node-seconds; the spot pool's interruption rate
is 5 % per node-hour unless a case says otherwise.

A job of 2 node-hours (7200 node-s) expects 0.1 interruptions at 5 %/h: P(none) = 90.5 %,
P(at most one) = 99.5 %, so at 95 % its spot plan must leave room for one (180 node-s). Ten new
nodes supply ``10 x (T - 120)`` node-seconds by T.
"""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.autoscaler.interruptions import DEFAULT_RATE
from orchestrator.autoscaler.model import NodeState, Policy, Snapshot
from orchestrator.autoscaler.placement import launch_seconds, launches, spot_risk
from orchestrator.autoscaler.policy import load_policy
from orchestrator.autoscaler.sizing import build_fleets
from providers.compute.pools import PoolConfigError
from tests.orchestrator.autoscaler.builders import NOW, job, nodes, pool, run, state

OD = pool("od")
SPOT = pool("spot", market="spot", price_per_hour=0.3)
BOTH = [OD, SPOT]
HOURS_2 = 7200.0


def spot_rate(rate: float) -> dict[str, Any]:
    """run() arguments giving the spot pool this interruption rate."""
    return {"states": {"spot": state(interruption_rate=rate)}}


# run() arguments, where job "c" goes, the pools' sizes
TABLE = [
    pytest.param(
        {"jobs": [job("c", HOURS_2, 850)], "pools": BOTH},
        "od",
        {"od": 10, "spot": 0},
        id="no slack: 7300 node-s by the deadline, no room for the likely interruption",
    ),
    pytest.param(
        {"jobs": [job("c", HOURS_2, 3 * 3600)], "pools": BOTH},
        "spot",
        {"od": 0, "spot": 1},
        id="plenty of slack: spot",
    ),
    pytest.param(
        {"jobs": [job("c", HOURS_2, 900)], "pools": BOTH},
        "spot",
        {"od": 0, "spot": 10},
        id="room for one interruption: spot, sized for it",
    ),
    pytest.param(
        {"jobs": [job("c", HOURS_2, 900)], "pools": BOTH, **spot_rate(0.5)},
        "spot",
        {"od": 0, "spot": 10},
        id="50 %/h: 1 expected, room for the 3 that 95 % needs",
    ),
    pytest.param(
        {"jobs": [job("c", HOURS_2, 900)], "pools": BOTH, **spot_rate(1.0)},
        "od",
        {"od": 10, "spot": 0},
        id="high interruption rate: 5 needed, room for 3: on demand",
    ),
    pytest.param(
        {"jobs": [job("c", HOURS_2, 900)], "pools": BOTH, **spot_rate(0.0)},
        "spot",
        {"od": 0, "spot": 10},
        id="a pool never interrupted is as safe as on demand",
    ),
    pytest.param(
        {
            "jobs": [job("c", 600, 300)],
            "pools": [OD, pool("spot", market="spot", price_per_hour=0.3, max_nodes=4)],
        },
        "spot",
        {"od": 0, "spot": 4},
        id="a 10-minute job without room: P(no interruption) 99.2 % >= 95 %: spot",
    ),
    pytest.param(
        {
            "jobs": [job("c", 600, 300)],
            "pools": [OD, pool("spot", market="spot", price_per_hour=0.3, max_nodes=4)],
            "confidence": 0.995,
        },
        "od",
        {"od": 4, "spot": 0},
        id="the same job at 99.5 % confidence: on demand",
    ),
    pytest.param(
        {"jobs": [job("c", HOURS_2, 850)], "pools": [OD]},
        "od",
        {"od": 10},
        id="no spot pool: on demand",
    ),
    pytest.param(
        {
            "jobs": [job("c", HOURS_2, 3 * 3600)],
            "pools": BOTH,
            "states": {"spot": state(backoff_until=NOW + 3600)},
        },
        "od",
        {"od": 1, "spot": 0},
        id="no spot capacity (backing off with no node): on demand",
    ),
    pytest.param(
        {"jobs": [job("c", HOURS_2, 850)], "pools": BOTH, "hourly_budget": 4.0},
        "od",
        {"od": 4, "spot": 0},
        id="budget still applies: on demand held to $4/h",
    ),
    pytest.param(
        {"jobs": [job("c", HOURS_2)], "pools": BOTH, **spot_rate(5.0)},
        "spot",
        {"od": 0, "spot": 10},
        id="no deadline: spot whatever the rate while it is cheaper in expectation",
    ),
]


@pytest.mark.parametrize(("args", "where", "sizes"), TABLE)
def test_spot_or_on_demand(args: dict[str, Any], where: str, sizes: dict[str, int]) -> None:
    decision = run(**args)
    assert decision.placement == {"c": where}, decision.reasons
    assert decision.desired == sizes, decision.reasons


SPOT_B = pool("spot-b", market="spot", price_per_hour=0.3)

# (pools, deadline in s, where "c" is shown, pools sized for it): 2 node-hours, ten new nodes
# per pool supply 10 x (T - 120) node-s by T
SPILLS = [
    pytest.param(BOTH, 820, "spot", {"od", "spot"}, id="7000 node-s per pool: spot and od"),
    pytest.param(
        [OD, SPOT, SPOT_B], 820, "spot", {"spot", "spot-b"}, id="over two spot pools, none od"
    ),
    pytest.param(BOTH, 400, "od", {"od"}, id="2 x 2800 node-s: no spill, where it ends first"),
]


@pytest.mark.parametrize(("pools", "due", "where", "sized"), SPILLS)
def test_a_deadline_no_one_pool_holds_spills_over_several(
    pools: list[Any], due: float, where: str, sized: set[str]
) -> None:
    decision = run([job("c", HOURS_2, due)], pools=pools)
    assert decision.placement == {"c": where}, decision.reasons
    assert {name for name, n in decision.desired.items() if n > 0} == sized, decision.reasons
    if len(sized) > 1:
        assert decision.odds["c"] >= 0.95
        for name in sized:
            assert "job c due in" in decision.reasons[name], decision.reasons


def test_the_budget_reason_says_the_on_demand_pool_was_cut() -> None:
    decision = run([job("c", HOURS_2, 850)], pools=BOTH, hourly_budget=4.0)
    assert "budget $4/h: cut 10 -> 4" in decision.reasons["od"]


def test_a_spot_plan_is_sized_for_the_interruptions_it_must_absorb() -> None:
    # 3 h of work due in 45 min: 0.15 expected, one to absorb at 95 %: 10980 node-s instead of
    # 10800; ten new nodes supply 25800 by then, so 5 nodes (5 x 2580 = 12900) would do either
    # way, but the reason shows the room kept.
    decision = run([job("c", 10800, 2700)], pools=BOTH)
    assert decision.placement == {"c": "spot"}
    assert "room for 1 interruption(s)" in decision.reasons["spot"]
    assert decision.odds["c"] > 0.95


def test_slack_shrinking_over_ticks_moves_the_job_to_on_demand() -> None:
    # The job's 2 node-hours do not shrink (its chunks wait behind others); every 30 s the
    # deadline is nearer. Spot while the room by the deadline holds an interruption (until
    # 10 x (1000 - 120 - 30t) - 7200 < 180, t = 5), then on demand, which still makes it for one
    # tick; then no one pool makes it (10 x 700 < 7200) and it spills over both, spot taking
    # the most it holds with room for an interruption, on demand the rest.
    where, odds, sizes = [], [], []
    for tick in range(8):
        decision = run([job("c", HOURS_2, 1000)], pools=BOTH, now=NOW + 30 * tick)
        where.append(decision.placement["c"])
        odds.append(decision.odds["c"])
        sizes.append(decision.desired)
    assert where == ["spot"] * 5 + ["od"] + ["spot"] * 2
    spot_odds = odds[:5]
    assert all(a >= b for a, b in zip(spot_odds, spot_odds[1:], strict=False))
    assert min(spot_odds) >= 0.95
    assert odds[5] == 1.0 and min(odds[6:]) >= 0.95
    assert all(s["od"] > 0 and s["spot"] > 0 for s in sizes[6:]), sizes[6:]


def test_a_spot_job_whose_nodes_are_reclaimed_moves_to_on_demand() -> None:
    # 8 running spot nodes render 3500 node-s due in 10 min: spot. Then six get a notice (they
    # leave) with the work still 3500 node-s due in 8 min: two nodes and eight new ones booting
    # for 2 min supply 960 + 8 x 360 = 3840, room for one interruption (180 node-s), where
    # 3500 node-s at 50 %/h expect 0.49 and 95 % needs room for 2: the rest goes to on demand
    # (10 x 360 = 3600 node-s by then).
    rate = spot_rate(0.5)
    before = run([job("c", 3500, 600)], nodes(8, "spot", busy=1), pools=BOTH, **rate)
    assert before.placement == {"c": "spot"}
    reclaimed = nodes(6, "spot", busy=1, notice=True) + nodes(2, "spot", prefix="m", busy=1)
    after = run([job("c", 3500, 480)], reclaimed, pools=BOTH, **rate)
    assert after.placement == {"c": "od"}, after.reasons
    assert after.desired["od"] == 10


def test_expected_cost_counts_the_re_rendered_work() -> None:
    # A slow node class (0.5 s per unit: 192 s chunks, past AWS's 2-minute notice): each
    # interruption loses a chunk (192 node-s) and a boot (180). Spot at 90 % of the price wins
    # at 0.5 interruptions per node-hour, loses at 2: 0.9 x (1 + 2 x 372 / 3600) > 1.
    slow = {"seconds_per_unit": 0.5}
    cheap_spot = pool("spot", market="spot", price_per_hour=0.9)
    for rate, where in ((0.5, "spot"), (2.0, "od")):
        states = {"od": state(**slow), "spot": state(interruption_rate=rate, **slow)}
        decision = run([job("c", 3600 * 10)], pools=[OD, cheap_spot], states=states)
        assert decision.placement == {"c": where}, (rate, decision.reasons)


def loss(provider: str, seconds_per_unit: float, boot: float = 120.0) -> float:
    """Node-seconds one interruption costs a 1-hour job on a spot pool of this provider."""
    policy = Policy()
    spot = pool("spot", market="spot", provider=provider, boot_seconds=boot)
    snapshot = Snapshot(pools={"spot": state(seconds_per_unit=seconds_per_unit)})
    fleet = build_fleets(snapshot, {"spot": spot}, policy.idle_timeout, NOW)["spot"]
    risk = spot_risk(fleet, job("c", 3600), policy)
    assert risk is not None
    return risk.loss


def test_a_chunk_within_the_notice_is_not_re_rendered() -> None:
    assert loss("aws", 0.025) == 180.0  # 19 s chunks inside AWS's 2 minutes
    assert loss("gcp", 0.025) == 180.0  # and inside GCP's 30 s
    assert loss("gcp", 0.05) == pytest.approx(180.0 + 38.4)  # 38 s chunks are not
    assert loss("aws", 0.25) == pytest.approx(180.0 + 192.0)


def test_a_replacement_costs_at_least_the_pool_s_boot() -> None:
    assert loss("aws", 0.05, boot=300.0) == 300.0


def test_an_unmeasured_spot_pool_assumes_the_default_rate() -> None:
    fleet = build_fleets(Snapshot(), {"spot": SPOT}, 60.0, NOW)["spot"]
    risk = spot_risk(fleet, job("c", 3600), Policy())
    assert risk is not None and risk.rate == DEFAULT_RATE
    on_demand = build_fleets(Snapshot(), {"od": OD}, 60.0, NOW)["od"]
    assert spot_risk(on_demand, job("c", 3600), Policy()) is None


def test_odds_are_reported_for_deadline_jobs_only() -> None:
    decision = run([job("c", HOURS_2, 850), job("d", 600)], pools=BOTH)
    assert decision.odds == {"c": 1.0}  # on demand, and it fits


def test_booting_spot_nodes_count_from_their_boot() -> None:
    # Nodes already booting on spot supply work once booted, like on demand.
    booting = nodes(5, "spot", state=NodeState.BOOTING, age=60)
    decision = run([job("c", HOURS_2, 900)], booting, pools=BOTH)
    assert decision.placement == {"c": "spot"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [({}, 0.95), ({"confidence": 0.99}, 0.99), ({"confidence": "0.5"}, 0.5)],
)
def test_the_confidence_knob_is_read_from_the_policy_table(
    raw: dict[str, Any], expected: float
) -> None:
    assert load_policy(raw, {}).confidence == expected


def test_the_confidence_can_be_overridden_from_the_environment() -> None:
    policy = load_policy({"confidence": 0.9}, {"CLOUDRENDER_AUTOSCALER_CONFIDENCE": "0.99"})
    assert policy.confidence == 0.99


@pytest.mark.parametrize("bad", [0, 1, 95, "high", -0.5])
def test_a_confidence_that_is_not_a_probability_is_refused(bad: Any) -> None:
    with pytest.raises(PoolConfigError, match=r"\[autoscaler\] confidence: must be"):
        load_policy({"confidence": bad}, {})


BIG = pool("big", concurrency=24, price_per_hour=10.0)  # $0.42 per slot-hour
SMALL = pool("small", concurrency=2, price_per_hour=1.0)  # $0.50 per slot-hour

# (single-slot node-seconds of the job, its chunks of 768 units = 38.4 s, due in, where it goes).
# A new node bills its 120 s boot and the 60 s idle timeout beyond its work: 180 node-seconds,
# $0.50 on the big pool, $0.05 on the small one.
PACKING = [
    pytest.param(30.0, None, "small", id="1 chunk: 23 of the big node's 24 slots would idle"),
    pytest.param(6 * 38.4, None, "small", id="6 chunks: the big node 4x dearer per busy slot"),
    pytest.param(
        100 * 38.4,
        None,
        "small",
        id="100 chunks in the 10-min target: 1 big node $0.44 + $0.50 boot, 4 small $0.53 + $0.20",
    ),
    pytest.param(
        1000 * 38.4,
        4 * 3600.0,
        "big",
        id="1000 chunks due in 4 h: 1 big node $4.44 + $0.50, 2 small $5.33 + $0.10",
    ),
]


@pytest.mark.parametrize(("work", "due_in", "where"), PACKING)
def test_a_job_goes_where_its_frames_cost_least_at_its_size(
    work: float, due_in: float | None, where: str
) -> None:
    decision = run([job("c", work, due_in)], pools=[BIG, SMALL])
    assert decision.placement == {"c": where}, decision.reasons


def test_a_job_fills_a_running_idle_node_before_booting_a_cheaper_one() -> None:
    # "cheap" is 10 % cheaper per node-hour but has no node: booting one bills 180 node-seconds
    # for 30 s of work; "dear" has an idle node running.
    dear, cheap = pool("dear"), pool("cheap", price_per_hour=0.9)
    decision = run([job("c", 30.0)], nodes(1, "dear"), pools=[dear, cheap])
    assert decision.placement == {"c": "dear"}, decision.reasons
    assert decision.desired == {"dear": 1, "cheap": 0}
    # With no node anywhere the cheaper class wins.
    assert run([job("c", 30.0)], pools=[dear, cheap]).placement == {"c": "cheap"}


def test_a_deadline_job_is_priced_on_an_idle_pool_not_drawn_onto_running_nodes() -> None:
    # The same 30 s job due in an hour: both pools would launch one node for it on their own,
    # so the cheaper class takes it although "dear" has a node running (the work placed after
    # it may count on that node too).
    dear, cheap = pool("dear"), pool("cheap", price_per_hour=0.9)
    decision = run([job("c", 30.0, 3600.0)], nodes(1, "dear"), pools=[dear, cheap])
    assert decision.placement == {"c": "cheap"}, decision.reasons


def test_the_launch_overhead_is_a_boot_and_an_idle_timeout_per_new_node() -> None:
    policy = Policy(idle_timeout=45.0)
    fleet = build_fleets(Snapshot(), {"p": pool("p", boot_seconds=30.0)}, 45.0, NOW)["p"]
    # A 30 s boot bills the cloud's 60 s minimum.
    assert launch_seconds(fleet, policy) == 105.0
    reach = fleet.reach(10)
    # 1000 node-s due in 10 min: 2 nodes of 570 s each; 100 more after them: still 2.
    assert launches(fleet, reach, 0.0, 1000.0, 600.0) == 2
    assert launches(fleet, reach, 1000.0, 100.0, 600.0) == 0
    assert launches(fleet, reach, 0.0, 1e9, 600.0) == 10  # no size makes it: the most
    assert launches(fleet, reach, 0.0, 10.0, None) == 1
    assert launches(fleet, reach, 5.0, 10.0, None) == 0
