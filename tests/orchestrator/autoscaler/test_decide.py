"""The autoscaling decision as tables: how many nodes each pool is asked to hold, and why.

Every case runs the real ``decide`` on a pool of $1/node-hour, one slot, 120 s boot and at most
10 nodes (tests.orchestrator.autoscaler.builders) unless it says otherwise; jobs are given in
node-seconds of work. The default policy is "deadline" with a 600 s queue target, so a job of W
node-seconds without a deadline needs ceil(W / (600 - 120)) new nodes.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import pytest

from orchestrator.autoscaler.decide import HYSTERESIS, decide
from orchestrator.autoscaler.model import NodeState, Policy, Snapshot
from orchestrator.autoscaler.removal import choose_victims, failed_boots, unlaunched
from tests.orchestrator.autoscaler.builders import NOW, job, node, nodes, pool, run, state

BOOTING = NodeState.BOOTING
DRAINING = NodeState.DRAINING

# run() arguments, nodes the "cpu" pool should take work with, words its reason holds
SIZING = [
    pytest.param({}, 0, "no work", id="empty queue: min_nodes 0"),
    pytest.param({"pools": [pool(min_nodes=2)]}, 2, "min_nodes 2", id="empty queue: min_nodes 2"),
    pytest.param(
        {"jobs": [job("a", 3000)], "name": "queue"},
        7,
        "needs 7",
        id="queue: 3000 s of work in 10 min, each new node 8 min after boot",
    ),
    pytest.param(
        {"jobs": [job("a", 3000)], "fleet": nodes(2), "name": "queue"},
        6,
        "needs 6",
        id="queue: running nodes work from now",
    ),
    pytest.param(
        {"jobs": [job("a", 60)], "name": "queue"},
        1,
        "needs 1",
        id="queue: a minute of work, one node",
    ),
    pytest.param(
        {"jobs": [job("a", 100_000)], "name": "queue"},
        10,
        "max_nodes 10",
        id="queue: more work than max_nodes",
    ),
    pytest.param(
        {"jobs": [job("a", 3000)], "name": "queue", "target_seconds": 300},
        10,
        "max_nodes",
        id="queue: a shorter target needs more",
    ),
    pytest.param(
        {"jobs": [job("a", 600)], "name": "queue", "target_seconds": 60},
        10,
        "within 3m00s",
        id="queue: target shorter than a boot, a target after it",
    ),
    pytest.param(
        {"jobs": [job("a", 60)], "pools": [pool(min_nodes=3)]},
        3,
        "min_nodes 3",
        id="min_nodes raise a small demand",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, 300)], "name": "queue"},
        4,
        "queue:",
        id="queue policy sizes deadline jobs by the target",
    ),
    pytest.param(
        {"jobs": [job("a", 3000)]},
        7,
        "within 10m00s needs 7",
        id="deadline: work without one, sized like queue",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, 300)]},
        9,
        "job a due in 5m00s needs 9",
        id="deadline: a tight deadline gets more nodes",
    ),
    pytest.param({"jobs": [job("a", 1500)]}, 4, "needs 4", id="deadline: the same job without one"),
    pytest.param(
        {"jobs": [job("a", 1500, 600)]},
        4,
        "boot 2m00s",
        id="deadline: boot time counts (2 min boot)",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, 600)], "pools": [pool(boot_seconds=300)]},
        5,
        "boot 5m00s",
        id="deadline: boot time counts (5 min boot)",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, 300)], "fleet": nodes(2, state=BOOTING, age=60)},
        8,
        "needs 8",
        id="deadline: booting nodes work once booted",
    ),
    pytest.param(
        {"jobs": [job("a", 600, 300), job("b", 1800, 600)]},
        5,
        "job b due in 10m00s needs 5",
        id="deadline: EDF adds earlier work to later deadlines",
    ),
    pytest.param({"jobs": [job("b", 1800, 600)]}, 4, "needs 4", id="deadline: the later job alone"),
    # A pool holds its deadline work and the work without one, both (the dispatcher serves
    # them in turns on the same nodes): the work without one is due at the queue target in
    # the same EDF sum. Until 2026-12-07 the pool took the larger of the two sizes.
    pytest.param(
        {"jobs": [job("a", 600, 300), job("c", 3000)]},
        8,
        "within 10m00s after 0.17 node-h due by then needs 8",
        id="deadline: queue work counts the deadline work due before the target (was 7)",
    ),
    pytest.param(
        {"jobs": [job("a", 6000, 1200), job("c", 1000)]},
        7,
        "job a due in 20m00s needs 7 (1.67 node-h due by then + 0.28 without one",
        id="deadline: a later deadline counts the work without one (was 6)",
    ),
    pytest.param(
        {"jobs": [job("a", 9000, 1200), job("c", 3000)]},
        10,
        "job a due in 20m00s needs all 10",
        id="deadline: both need more than max_nodes, the deadline alone holds: all (was 9)",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, 300), job("c", 480)]},
        9,
        "job a due in 5m00s needs 9 (0.42 node-h due by then, boot",
        id="deadline: work without one is not counted before its target",
    ),
    # The dispatcher serves a higher priority first, whatever the deadlines (scheduling.
    # choose_dispatch): that work comes before a lower priority's deadline. Until 2026-12-07
    # EDF alone counted it after, and a normal job's deadline slipped behind a high one's work.
    pytest.param(
        {"jobs": [job("a", 600, 300), job("h", 300, priority="high")]},
        5,
        "job a due in 5m00s needs 5 (0.17 node-h due by then + 0.08 of a higher priority",
        id="deadline: work without one of a higher priority comes first (was 4)",
    ),
    pytest.param(
        {"jobs": [job("a", 600, 300), job("b", 900, 1200, priority="high")]},
        9,
        "job a due in 5m00s needs 9",
        id="deadline: a later deadline of a higher priority comes first (was 4)",
    ),
    pytest.param(
        {"jobs": [job("a", 600, 300), job("h", 3000, priority="high")]},
        10,
        "job a due in 5m00s needs all 10",
        id="deadline: with a higher priority no size holds, the deadline alone does: all (was 8)",
    ),
    pytest.param(
        {"jobs": [job("a", 600, 300), job("h", 300, priority="low")]},
        4,
        "job a due in 5m00s needs 4 (0.17 node-h due by then, boot",
        id="deadline: work of a lower priority waits for the deadline",
    ),
    pytest.param(
        {"jobs": [job("a", 600, 300, priority="high"), job("b", 900, 1200)]},
        4,
        "job a due in 5m00s needs 4",
        id="deadline: a higher priority's deadline does not count the lower's later work",
    ),
    pytest.param(
        {"jobs": [job("a", 3000)], "name": "cost"},
        1,
        "cost: 1 node",
        id="cost: work without a deadline gets one node",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, 300), job("c", 3000)], "name": "cost"},
        9,
        "needs 9",
        id="cost: deadlines still hold",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, 60)]},
        10,
        "cannot make its deadline",
        id="a deadline that cannot hold: the nodes that finish soonest",
    ),
    pytest.param(
        {"jobs": [job("a", 30, 10)], "fleet": nodes(1)},
        1,
        "1 node(s) finish it soonest",
        id="a missed deadline a running node finishes soonest alone",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, -60)], "fleet": nodes(1)},
        10,
        "cannot make",
        id="a deadline already past",
    ),
    pytest.param(
        {"jobs": [job("a", 148, 30)], "pools": [pool(boot_seconds=180, max_nodes=8)]},
        1,
        "1 node(s) finish it soonest",
        id="a missed deadline launches no node that would boot longer than it renders",
    ),
]


@pytest.mark.parametrize(("args", "expected", "words"), SIZING)
def test_sizing(args: dict[str, Any], expected: int, words: str) -> None:
    decision = run(**args)
    assert decision.desired == {"cpu": expected}, decision.reasons
    assert words in decision.reasons["cpu"]


CHANGES = [
    pytest.param(
        {
            "jobs": [job("a", 3000)],
            "fleet": nodes(1, busy=1),
            "states": {"cpu": state(last_scale_up=NOW - 10)},
        },
        1,
        "scale-up cooldown until",
        id="scale-up waits for the cooldown",
    ),
    pytest.param(
        {
            "jobs": [job("a", 3000)],
            "fleet": nodes(1, busy=1),
            "states": {"cpu": state(last_scale_up=NOW - 40)},
        },
        6,
        "needs 6",
        id="after the cooldown it grows",
    ),
    pytest.param(
        {"jobs": [job("a", 3000)], "states": {"cpu": state(last_scale_up=NOW - 5)}},
        7,
        "from zero nodes",
        id="from zero nodes with work: no cooldown",
    ),
    pytest.param(
        {"fleet": nodes(4), "states": {"cpu": state(last_scale_down=NOW - 300)}},
        0,
        "no work",
        id="idle nodes go after the down cooldown",
    ),
    pytest.param(
        {"fleet": nodes(4), "states": {"cpu": state(last_scale_down=NOW - 30)}},
        4,
        "scale-down cooldown until",
        id="the down cooldown holds them",
    ),
    pytest.param(
        {"fleet": nodes(4), "states": {"cpu": state(last_scale_up=NOW - 60)}},
        4,
        "scale-down cooldown",
        id="the down cooldown counts from an increase too",
    ),
    pytest.param(
        {"fleet": nodes(4, idle=30)},
        4,
        "0 node(s) idle 1m00s",
        id="nodes idle less than idle_timeout stay",
    ),
    pytest.param(
        {"fleet": nodes(2, idle=600) + nodes(2, prefix="m", idle=30)},
        2,
        "2 node(s) idle",
        id="only nodes idle long enough go",
    ),
    pytest.param(
        {"fleet": nodes(4, idle=600), "idle_timeout": 900},
        4,
        "idle 15m00s",
        id="a longer idle_timeout keeps them",
    ),
    pytest.param(
        {"jobs": [job("a", 60)], "fleet": nodes(3, busy=1)},
        3,
        "3 busy",
        id="busy nodes are never removed",
    ),
    pytest.param(
        {"fleet": nodes(3, state=BOOTING, age=90)},
        0,
        "no work",
        id="booting nodes long unneeded are removable",
    ),
    pytest.param(
        {"jobs": [job("a", 1700)], "fleet": nodes(4)},
        4,
        "hysteresis band",
        id="hysteresis: a small dip keeps every node",
    ),
    pytest.param(
        {"jobs": [job("a", 1000)], "fleet": nodes(4)},
        3,
        "needs 2",
        id="hysteresis: a larger drop shrinks only to the band",
    ),
    pytest.param(
        {
            "jobs": [job("a", 1800)],
            "fleet": nodes(2, busy=1) + [node("x", busy=1, notice=True)],
            "states": {"cpu": state(last_scale_up=NOW - 10)},
        },
        3,
        "replacing 1 node(s) with an interruption notice",
        id="a noticed node is replaced at once, even in the cooldown",
    ),
    pytest.param(
        {"jobs": [job("a", 1500)], "fleet": nodes(2, busy=1) + [node("x", busy=1, notice=True)]},
        3,
        "needs 3",
        id="a noticed node does not count as taking work",
    ),
    pytest.param(
        {
            "jobs": [job("a", 3000)],
            "states": {"cpu": state(backoff_until=NOW + 300, launch_failures=3)},
        },
        0,
        "backing off after 3 failed boots until 08:05:00Z (in 5m00s)",
        id="back-off: no increase, says why and until when",
    ),
    pytest.param(
        # Before, launches the engine refused were reported as failed boots.
        {
            "jobs": [job("a", 3000)],
            "states": {"cpu": state(backoff_until=NOW + 300, refused_launches=2)},
        },
        0,
        "backing off after 2 launches the engine never made (capacity refused, a quota?) until",
        id="back-off after refused capacity says so, not failed boots",
    ),
    pytest.param(
        {
            "jobs": [job("a", 3000)],
            "states": {
                "cpu": state(backoff_until=NOW + 300, launch_failures=1, refused_launches=1)
            },
        },
        0,
        "after 1 failed boot and 1 launch the engine never made",
        id="back-off after both names both",
    ),
    pytest.param(
        {
            "jobs": [job("a", 3000)],
            "states": {"cpu": state(backoff_until=NOW - 1, launch_failures=3)},
        },
        7,
        "needs 7",
        id="back-off over: it grows again",
    ),
    pytest.param(
        # Before, a scale-up stored before the clock went back an hour held every increase
        # in its cooldown for that hour.
        {
            "jobs": [job("a", 3000)],
            "fleet": nodes(2, busy=1),
            "states": {"cpu": state(desired=2, last_scale_up=NOW + 3600)},
        },
        6,
        "needs 6",
        id="clock went back: a scale-up 'in the future' does not hold growth",
    ),
    pytest.param(
        {
            "jobs": [job("a", 3000)],
            "states": {"cpu": state(backoff_until=NOW + 3600 + 600, launch_failures=3)},
        },
        0,
        "(in 10m00s)",
        id="clock went back: a back-off lasts at most backoff_seconds from now",
    ),
    pytest.param(
        {"fleet": nodes(2), "states": {"cpu": state(backoff_until=NOW + 300)}},
        0,
        "no work",
        id="back-off does not stop a decrease",
    ),
    pytest.param(
        {"states": {"cpu": state(override=5, override_until=NOW + 600)}},
        5,
        "manual override 5 until 08:10:00Z",
        id="an override wins over an empty queue",
    ),
    pytest.param(
        # Stored by an override of 99999999999h: the round failed for every pool (ValueError).
        {"states": {"cpu": state(override=2, override_until=NOW + 3.6e14)}},
        2,
        "manual override 2 until the end of time",
        id="an override far beyond the year 9999 is still a reason",
    ),
    pytest.param(
        {"jobs": [job("a", 3000)], "states": {"cpu": state(override=1, override_until=NOW + 600)}},
        1,
        "manual override 1",
        id="an override wins over the work",
    ),
    pytest.param(
        {"states": {"cpu": state(override=50, override_until=NOW + 600)}},
        10,
        "clamped to max_nodes 10",
        id="an override is clamped to max_nodes",
    ),
    pytest.param(
        # Below min_nodes the engine refuses the size or replaces each node terminated: churn.
        {
            "fleet": nodes(2),
            "pools": [pool(min_nodes=2)],
            "states": {"cpu": state(override=0, override_until=NOW + 600)},
        },
        2,
        "manual override 0 until 08:10:00Z (in 10m00s), clamped to min_nodes 2",
        id="an override is clamped to min_nodes",
    ),
    pytest.param(
        {"states": {"cpu": state(override=5, override_until=NOW - 1)}},
        0,
        "no work",
        id="an expired override is ignored",
    ),
    pytest.param(
        {
            "fleet": nodes(4, idle=5),
            "states": {"cpu": state(override=2, override_until=NOW + 60, last_scale_down=NOW - 5)},
        },
        2,
        "manual override 2",
        id="an override skips the cooldowns",
    ),
    pytest.param(
        {"jobs": [job("a", 1400)], "fleet": nodes(3, state=BOOTING, age=10)},
        3,
        "needs 3",
        id="booting nodes are not launched again",
    ),
    pytest.param(
        {"jobs": [job("a", 400)], "fleet": nodes(1, state=BOOTING, age=200)},
        2,
        "needs 2",
        id="a boot long overdue is not counted on",
    ),
    pytest.param(
        {"jobs": [job("a", 400)], "fleet": nodes(1, state=BOOTING, age=170)},
        1,
        "needs 1",
        id="a boot a little late still is",
    ),
    pytest.param(
        {"jobs": [job("a", 1400)], "states": {"cpu": state(desired=3, last_scale_up=NOW - 10)}},
        3,
        "needs 3",
        id="launches the engine has not listed yet count",
    ),
]


@pytest.mark.parametrize(("args", "expected", "words"), CHANGES)
def test_change_rules(args: dict[str, Any], expected: int, words: str) -> None:
    decision = run(**args)
    assert decision.desired == {"cpu": expected}, decision.reasons
    assert words in decision.reasons["cpu"]


# Pools for the cost cases: $3.6/h is $0.001 a second, so a new node's 120 s boot costs $0.12
# and 1500 node-seconds of work $1.50.
DEAR = pool(price_per_hour=3.6)
GPU2 = pool("gpu", gpu="L4", price_per_hour=2.0)
SPARE = pool("spare", price_per_hour=0.5, queues=("merge",))  # cheap, but takes no render work

COSTS = [
    pytest.param(
        {"jobs": [job("a", 3000)], "hourly_budget": 4},
        {"cpu": 4},
        "cpu",
        "budget $4/h: cut 7 -> 4",
        id="the budget caps a pool and says so",
    ),
    pytest.param(
        {"jobs": [job("a", 3000)], "fleet": nodes(2, state=DRAINING), "hourly_budget": 4},
        {"cpu": 2},
        "cpu",
        "cut 7 -> 2",
        id="draining nodes' spend counts",
    ),
    pytest.param(
        {"jobs": [job("a", 3000)], "fleet": [node("x", notice=True)], "hourly_budget": 4},
        {"cpu": 3},
        "cpu",
        "cut 7 -> 3",
        id="noticed nodes' spend counts",
    ),
    pytest.param(
        {"jobs": [job("a", 3000)], "fleet": nodes(5, busy=1), "hourly_budget": 3},
        {"cpu": 5},
        "cpu",
        "over the $3/h budget",
        id="busy nodes stay over budget, and it says so",
    ),
    pytest.param(
        {
            "fleet": nodes(5, idle=10),
            "states": {"cpu": state(last_scale_down=NOW - 5)},
            "hourly_budget": 2,
        },
        {"cpu": 2},
        "cpu",
        "cut 5 -> 2",
        id="over budget, idle nodes go at once",
    ),
    pytest.param(
        {
            "jobs": [job("c", 3000), job("g", 3000, needs_gpu=True)],
            "pools": [pool(), GPU2],
            "hourly_budget": 15,
        },
        {"cpu": 7, "gpu": 4},
        "gpu",
        "budget $15/h: cut 7 -> 4 (the most expensive per unit of work first)",
        id="the most expensive per unit of work is cut first",
    ),
    pytest.param(
        {
            "jobs": [job("c", 3000)],
            "pools": [pool(), SPARE],
            "fleet": nodes(3, "spare"),
            "states": {"spare": state(last_scale_down=NOW - 10)},
            "hourly_budget": 8,
        },
        {"cpu": 7, "spare": 2},
        "spare",
        "cut 3 -> 2",
        id="pools without work are cut before any with work",
    ),
    pytest.param(
        {
            "jobs": [job("c", 3000)],
            "pools": [pool(), SPARE],
            "states": {"spare": state(override=4, override_until=NOW + 60)},
            "hourly_budget": 6,
        },
        {"cpu": 4, "spare": 4},
        "cpu",
        "cut 7 -> 4",
        id="an override is not cut, but its spend counts",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, 300, max_cost=1.87)], "pools": [DEAR]},
        {"cpu": 3},
        "cpu",
        "job a's max_cost $1.87 allows 3 more node(s): 9 -> 3",
        id="max_cost limits new nodes",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, 300, max_cost=1.87, cost_so_far=0.24)], "pools": [DEAR]},
        {"cpu": 1},
        "cpu",
        "allows 1 more",
        id="max_cost counts what the job has spent",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, 300, max_cost=1.63)], "pools": [DEAR], "fleet": nodes(2, busy=1)},
        {"cpu": 3},
        "cpu",
        "allows 1 more",
        id="max_cost counts from the nodes there are",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, 300, max_cost=0.5)], "pools": [DEAR]},
        {"cpu": 1},
        "cpu",
        "allows 0 more",
        id="max_cost never forbids a pool's first node",
    ),
    pytest.param(
        # b's term counts a's work due before b's target (the same nodes serve both): 10
        # (7 when a pool took the larger of its terms)
        {"jobs": [job("a", 1500, 300, max_cost=1.87), job("b", 3000)], "pools": [DEAR]},
        {"cpu": 10},
        "cpu",
        "after 0.42 node-h due by then needs 10",
        id="a job without max_cost is not held back by one with",
    ),
    pytest.param(
        {"jobs": [job("a", 1500, 300, max_cost=0.01)], "pools": [pool(price_per_hour=0.0)]},
        {"cpu": 9},
        "cpu",
        "needs 9",
        id="a free pool ignores max_cost",
    ),
]


@pytest.mark.parametrize(("args", "expected", "pool_name", "words"), COSTS)
def test_costs(args: dict[str, Any], expected: dict[str, int], pool_name: str, words: str) -> None:
    decision = run(**args)
    assert decision.desired == expected, decision.reasons
    assert words in decision.reasons[pool_name]


OD = pool("od")
SPOT = pool("spot", market="spot", price_per_hour=0.3)
SPOT4 = pool("spot", market="spot", price_per_hour=0.3, max_nodes=4)
SPOT1 = pool("spot", market="spot", price_per_hour=0.3, max_nodes=1)
GPU = pool("gpu", gpu="L4", price_per_hour=3.0)
SMALL = pool("small", max_nodes=1, price_per_hour=0.5)
BIG = pool("big")

PLACEMENT = [
    pytest.param(
        {"jobs": [job("g", 600, needs_gpu=True)], "pools": [pool(), GPU]},
        {"g": "gpu"},
        {"cpu": 0, "gpu": 2},
        id="GPU jobs go only to GPU pools",
    ),
    pytest.param(
        {"jobs": [job("c", 600)], "pools": [pool(), GPU]},
        {"c": "cpu"},
        {"cpu": 2, "gpu": 0},
        id="CPU jobs go to the cheaper pool",
    ),
    pytest.param(
        {"jobs": [job("g", 600, needs_gpu=True)]},
        {},
        {"cpu": 0},
        id="a GPU job with no GPU pool is not placed",
    ),
    pytest.param(
        {"jobs": [job("h", 600, prefers_gpu=True)], "pools": [pool(), GPU]},
        {"h": "gpu"},
        {"cpu": 0, "gpu": 2},
        id="a hardware-accelerated job goes to the GPU pool, though it costs more",
    ),
    pytest.param(
        {"jobs": [job("h", 600, prefers_gpu=True)]},
        {"h": "cpu"},
        {"cpu": 2},
        id="a hardware-accelerated job with no GPU pool renders on the CPU",
    ),
    pytest.param(
        {"jobs": [job("c", 600)], "pools": [pool(queues=("merge",), price_per_hour=0.1), BIG]},
        {"c": "big"},
        {"cpu": 0, "big": 2},
        id="a pool without the render queue takes nothing",
    ),
    pytest.param(
        {"jobs": [job("c", 600)], "pools": [pool(max_nodes=0, price_per_hour=0.1), BIG]},
        {"c": "big"},
        {"cpu": 0, "big": 2},
        id="a pool of max 0 nodes takes nothing",
    ),
    pytest.param(
        {"jobs": [job("c", 600)], "pools": [OD, SPOT]},
        {"c": "spot"},
        {"od": 0, "spot": 2},
        id="spot when there is no deadline",
    ),
    pytest.param(
        {"jobs": [job("c", 600, 3600)], "pools": [OD, SPOT]},
        {"c": "spot"},
        {"od": 0, "spot": 1},
        id="spot when the slack covers an interruption and a re-render",
    ),
    # 4 spot nodes supply 720 node-seconds in 5 min: no room for an interruption (180 s), and
    # at 99.5 % the 0.8 % chance of one (600 node-s at 5 %/h) is too much.
    pytest.param(
        {"jobs": [job("c", 600, 300)], "pools": [OD, SPOT4], "confidence": 0.995},
        {"c": "od"},
        {"od": 4, "spot": 0},
        id="on demand when it does not",
    ),
    pytest.param(
        {
            "jobs": [job("c", 600, 3600)],
            "pools": [OD, SPOT1],
            "interruption_seconds": 3500,
            "confidence": 0.995,
        },
        {"c": "od"},
        {"od": 1, "spot": 0},
        id="a longer interruption tips it to on demand",
    ),
    # 2 without the margin: at 99 % one interruption (2 % likely) must fit.
    pytest.param(
        {"jobs": [job("c", 1500, 900)], "pools": [OD, SPOT], "confidence": 0.99},
        {"c": "spot"},
        {"od": 0, "spot": 3},
        id="a spot deadline is sized with its margin",
    ),
    pytest.param(
        {"jobs": [job("c", 1500, 600)], "pools": [SMALL, BIG]},
        {"c": "big"},
        {"small": 0, "big": 4},
        id="the cheapest pool too small for a deadline: the next",
    ),
    pytest.param(
        {"jobs": [job("c", 300, 600)], "pools": [SMALL, BIG]},
        {"c": "small"},
        {"small": 1, "big": 0},
        id="the cheapest pool big enough: itself",
    ),
    pytest.param(
        {"jobs": [job("a", 400, 600), job("b", 400, 700)], "pools": [SMALL, BIG]},
        {"a": "small", "b": "big"},
        {"small": 1, "big": 1},
        id="EDF: the second job no longer fits the cheap pool",
    ),
    pytest.param(
        {"jobs": [job("c", 3000)], "pools": [SMALL, BIG], "name": "queue"},
        {"c": "big"},
        {"small": 0, "big": 7},
        id="queue: the target spills work to the next pool",
    ),
    pytest.param(
        {"jobs": [job("c", 3000)], "pools": [SMALL, BIG], "name": "cost"},
        {"c": "small"},
        {"small": 1, "big": 0},
        id="cost: no target, the cheapest pool",
    ),
    pytest.param(
        {"jobs": [job("c", 3000, 60)], "pools": [SMALL, BIG]},
        {"c": "big"},
        {"small": 0, "big": 10},
        id="nobody makes the deadline: where it finishes first",
    ),
    pytest.param(
        {
            "jobs": [job("c", 1500, 600)],
            "pools": [SMALL, BIG],
            "states": {"big": state(backoff_until=NOW + 600)},
        },
        {"c": "small"},
        {"small": 1, "big": 0},
        id="a pool backing off is not counted on to grow",
    ),
    pytest.param(
        {
            "jobs": [job("c", 300)],
            "pools": [replace(SMALL, min_nodes=1), BIG],
            "states": {"small": state(desired=1, backoff_until=NOW + 500, last_scale_up=NOW - 10)},
        },
        {"c": "big"},
        {"small": 1, "big": 1},
        id="min_nodes launch refused, backing off: not counted, the work goes elsewhere",
    ),
    pytest.param(
        {
            "jobs": [job("c", 300)],
            "pools": [replace(SMALL, min_nodes=1), BIG],
            "states": {"small": state(desired=1, short_since=NOW - 400, last_scale_up=NOW - 10)},
        },
        {"c": "big"},
        {"small": 1, "big": 1},
        id="a launch unlisted past a failed boot's time (re-asked since): not counted",
    ),
    pytest.param(
        {
            "jobs": [job("c", 300)],
            "pools": [replace(SMALL, min_nodes=1), BIG],
            "states": {"small": state(desired=1, short_since=NOW - 60, last_scale_up=NOW - 60)},
        },
        {"c": "small"},
        {"small": 1, "big": 0},
        id="a launch unlisted within its boot's time: still counted on",
    ),
    pytest.param(
        {
            "jobs": [job("c", 100_000)],
            "pools": [pool("cheap", price_per_hour=0.2), BIG],
            "states": {"cheap": state(backoff_until=NOW + 600)},
            "name": "queue",
        },
        {"c": "big"},
        {"cheap": 0, "big": 10},
        id="past every target: not the cheap pool backing off with no node, it renders nothing",
    ),
]


@pytest.mark.parametrize(("args", "placement", "expected"), PLACEMENT)
def test_placement(
    args: dict[str, Any], placement: dict[str, str], expected: dict[str, int]
) -> None:
    decision = run(**args)
    assert dict(decision.placement) == placement, decision.reasons
    assert decision.desired == expected, decision.reasons


def test_a_faster_gpu_pool_takes_cpu_work_when_cheaper_per_unit() -> None:
    # $2/h at 0.01 s/unit is $0.02 per unit-hour; the CPU pool's $1/h at 0.05 s/unit is $0.05.
    gpu = pool("gpu", gpu="L4", price_per_hour=2.0)
    decision = run(
        [job("c", 600)], pools=[pool(), gpu], states={"gpu": state(seconds_per_unit=0.01)}
    )
    assert decision.placement == {"c": "gpu"}
    assert decision.desired == {"cpu": 0, "gpu": 1}  # 120 node-seconds there


def test_concurrency_divides_the_work() -> None:
    # Two slots per node: 3000 slot-seconds are 1500 node-seconds, 4 nodes in 10 minutes.
    assert run([job("a", 3000)], pools=[pool(concurrency=2)]).desired == {"cpu": 4}


def test_every_pool_gets_a_size_and_a_one_line_reason() -> None:
    pools = [pool(), GPU, SPOT, pool("idle", min_nodes=1)]
    decision = run([job("c", 600), job("g", 600, needs_gpu=True)], pools=pools)
    assert set(decision.desired) == set(decision.reasons) == {"cpu", "gpu", "spot", "idle"}
    for reason in decision.reasons.values():
        assert reason and "\n" not in reason


def test_a_tight_deadline_gets_more_nodes_than_the_same_job_without_one() -> None:
    for name in ("deadline", "cost"):
        loose = run([job("a", 1800)], name=name).desired["cpu"]
        tight = run([job("a", 1800, 240)], name=name).desired["cpu"]
        assert tight > loose, name


def test_the_hysteresis_band_is_a_quarter() -> None:
    # The band the docs describe: a node goes only when the rest take a quarter more work.
    assert HYSTERESIS == 0.25


def test_the_decision_reads_no_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_clock() -> float:
        raise AssertionError("decide read the clock")

    monkeypatch.setattr(time, "time", no_clock)
    monkeypatch.setattr(time, "monotonic", no_clock)
    args: dict[str, Any] = {
        "jobs": [job("a", 1500, 300), job("b", 600)],
        "fleet": nodes(2, busy=1) + [node("x", notice=True)],
        "states": {"cpu": state(backoff_until=NOW + 30)},
    }
    assert run(**args) == run(**args)


def test_terminated_nodes_and_other_pools_nodes_do_not_count() -> None:
    fleet = nodes(3, state=NodeState.TERMINATED) + nodes(3, "elsewhere")
    assert run([job("a", 60)], fleet=fleet).desired == {"cpu": 1}


# -- choose_victims --------------------------------------------------------------------------

VICTIM_NODES = [
    node("boot-old", state=BOOTING, age=60),
    node("boot-new", state=BOOTING, age=10),
    node("idle-long", idle=900),
    node("idle-short", idle=30),
    node("idle-mid", idle=300),
    node("busy", busy=1),
    node("noticed", idle=2000, notice=True),
    node("draining", state=DRAINING, idle=3000),
    node("other", "gpu", idle=5000),
]

VICTIMS = [
    (0, "cpu", []),
    (1, "cpu", ["boot-new"]),
    (2, "cpu", ["boot-new", "boot-old"]),
    (4, "cpu", ["boot-new", "boot-old", "idle-long", "idle-mid"]),
    (5, "cpu", ["boot-new", "boot-old", "idle-long", "idle-mid", "idle-short"]),
    (20, "cpu", ["boot-new", "boot-old", "idle-long", "idle-mid", "idle-short"]),
    (3, "gpu", ["other"]),
    (3, "none", []),
]


@pytest.mark.parametrize(("count", "pool_name", "expected"), VICTIMS)
def test_choose_victims(count: int, pool_name: str, expected: list[str]) -> None:
    assert choose_victims(VICTIM_NODES, pool_name, count, NOW, Policy()) == expected


def test_victims_never_include_a_busy_node() -> None:
    busy = nodes(4, busy=2)
    assert choose_victims(busy, "cpu", 4, NOW, Policy()) == []


# -- failed_boots ----------------------------------------------------------------------------

BOOTS = [
    # (node, boot_timeout_factor, failed?) with a 120 s boot: 360 s at the default factor 3
    (node("b", state=BOOTING, age=400), 3.0, True),
    (node("b", state=BOOTING, age=300), 3.0, False),
    (node("b", state=BOOTING, age=300), 2.0, True),
    (node("b", state=BOOTING, age=10), 0.05, True),
    (node("b", age=5000), 3.0, False),
    (node("b", "unknown", state=BOOTING, age=5000), 3.0, False),
    (node("b", state=BOOTING, age=5000, notice=True), 3.0, True),
]


@pytest.mark.parametrize(("view", "factor", "failed"), BOOTS)
def test_failed_boots(view: Any, factor: float, failed: bool) -> None:
    found = failed_boots([view], {"cpu": pool()}, Policy(boot_timeout_factor=factor), NOW)
    assert found == (["b"] if failed else [])


def test_failed_boots_oldest_first() -> None:
    views = [node("late", state=BOOTING, age=400), node("early", state=BOOTING, age=900)]
    assert failed_boots(views, {"cpu": pool()}, Policy(), NOW) == ["early", "late"]


def test_an_empty_snapshot_is_a_decision() -> None:
    decision = decide(Snapshot(), {}, Policy(), NOW)
    assert decision.desired == {} and decision.placement == {}


def test_a_noticed_node_at_max_nodes_leaves_room_for_itself() -> None:
    """The engine holds a noticed node until it goes and no more than max_nodes in all: asking
    for its replacement on top was refused every round. It is replaced as it goes."""
    full = nodes(2, busy=2) + [node("x", busy=1, notice=True)]
    decision = run(jobs=[job("a", 100_000)], fleet=full, pools=[pool(max_nodes=3)])
    assert decision.desired["cpu"] == 2  # + the noticed one: the engine's 3
    assert "max_nodes 3 less 1 node(s) with an interruption notice" in decision.reasons["cpu"]
    assert "replacing" not in decision.reasons["cpu"]
    override = {"cpu": state(override=3, override_until=NOW + 600)}
    held = run(fleet=full, pools=[pool(max_nodes=3)], states=override)
    assert held.desired["cpu"] == 2 and "clamped to max_nodes 3 less 1" in held.reasons["cpu"]


def test_a_launch_never_made_is_named_in_the_pools_reason() -> None:
    # `cluster pools` shows why the work went elsewhere while the pool holds its size.
    states = {"small": state(desired=1, backoff_until=NOW + 500, last_scale_up=NOW - 10)}
    decision = run([job("c", 300)], pools=[replace(SMALL, min_nodes=1), BIG], states=states)
    assert "1 launch(es) the engine has not made" in decision.reasons["small"]


# -- unlaunched ------------------------------------------------------------------------------

# stored short_since (from NOW), engine size, nodes it holds, seconds on -> launches never made
SHORTFALLS = [
    pytest.param(None, 3, 3, 0.0, 0, id="holds its size: nothing"),
    pytest.param(None, 3, 1, 0.0, 0, id="a shortfall first seen: given a boot's time"),
    pytest.param(0.0, 3, 1, 360.0, 0, id="within boot x factor: not yet"),
    pytest.param(0.0, 3, 1, 361.0, 2, id="past boot x factor: the missing ones"),
    # Before, a shortfall stored before the clock went back an hour was found an hour late:
    # its launches counted as on their way all that time.
    pytest.param(3600.0, 3, 1, 361.0, 2, id="clock went back: the shortfall counts from now"),
]


@pytest.mark.parametrize(("since", "asked", "present", "later", "refused"), SHORTFALLS)
def test_unlaunched(
    since: float | None, asked: int, present: int, later: float, refused: int
) -> None:
    policy = Policy()  # boot 120 s x 3
    stored = state(short_since=None if since is None else NOW + since)
    first, none = unlaunched(stored, pool(), asked, present, policy, NOW)
    assert none == 0
    _, found = unlaunched(first, pool(), asked, present, policy, NOW + later)
    assert found == refused
