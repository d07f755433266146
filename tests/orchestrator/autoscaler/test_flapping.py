"""No flapping: a noisy queue replayed through ``decide`` tick by tick launches few nodes.

The test plays the cluster: every 15 simulated seconds for two hours it sets the queue to a
seeded noisy level, boots nodes after the pool's boot time, marks as many nodes busy as the
queue has chunks for, drains the victims ``choose_victims`` picks when ``decide`` asks for fewer
(they leave at once: they are idle) and remembers, as the shell does, when the size last went
up or down. A launch is one node asked of the engine.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

import pytest

from orchestrator.autoscaler import decide as decide_module
from orchestrator.autoscaler.decide import decide
from orchestrator.autoscaler.model import NodeState, NodeView, Policy, PoolState, Snapshot
from orchestrator.autoscaler.removal import choose_victims
from tests.orchestrator.autoscaler.builders import NOW, SECONDS_PER_UNIT, job, pool

TICK = 15.0
HOURS = 2.0
#: The queue's level: 2400 node-seconds, 4-5 nodes' worth within the 600 s target.
LEVEL = 2400.0
#: Node-seconds one chunk takes: a node is busy while the queue has a chunk for it.
CHUNK = 30.0
POOL = pool(max_nodes=20)


def noisy_queue(seed: int) -> list[float]:
    """Node-seconds queued at each tick: a seeded AR(1) wobble around LEVEL (ups and downs of a
    few minutes, from about a third to three times the level) with now and then an empty tick,
    then 20 minutes of nothing (the work is done)."""
    rng = random.Random(seed)
    x, levels = 0.0, []
    for _ in range(int(HOURS * 3600 / TICK)):
        x = 0.9 * x + 0.45 * rng.gauss(0.0, 1.0)
        empty = rng.random() < 0.05
        levels.append(0.0 if empty else LEVEL * math.exp(0.5 * x))
    return levels + [0.0] * int(1200 / TICK)


@dataclass
class Played:
    """What a replay did."""

    launches: int
    removals: int
    peak: int
    #: nodes at the end
    left: int


def replay(levels: list[float], policy: Policy) -> Played:
    """Run decide over the queue levels, playing the nodes; count launches and removals."""
    nodes: dict[str, NodeView] = {}
    state = PoolState(seconds_per_unit=SECONDS_PER_UNIT)
    removals = peak = serial = 0
    for tick, queued in enumerate(levels):
        now = NOW + tick * TICK
        chunks = math.ceil(queued / CHUNK)
        for node_id, view in sorted(nodes.items(), key=lambda item: item[1].requested_at):
            if view.state is NodeState.BOOTING and now >= view.requested_at + POOL.boot_seconds:
                view = replace(view, state=NodeState.RUNNING, booted_at=now, idle_since=now)
            if view.state is NodeState.RUNNING:
                busy = 1 if chunks > 0 else 0
                chunks -= busy
                idle_since = None if busy else (view.idle_since or now)
                view = replace(view, busy_slots=busy, idle_since=idle_since)
            nodes[node_id] = view
        jobs = [job("q", queued)] if queued > 0 else []
        snapshot = Snapshot(jobs=tuple(jobs), nodes=tuple(nodes.values()), pools={"cpu": state})
        desired = decide(snapshot, {"cpu": POOL}, policy, now).desired["cpu"]
        if desired > len(nodes):
            for _ in range(desired - len(nodes)):
                serial += 1
                nodes[f"n{serial}"] = NodeView(f"n{serial}", "cpu", NodeState.BOOTING, now)
            state = replace(state, desired=desired, last_scale_up=now)
        elif desired < len(nodes):
            victims = choose_victims(list(nodes.values()), "cpu", len(nodes) - desired, now, policy)
            for victim in victims:
                del nodes[victim]
            removals += len(victims)
            if victims:
                state = replace(state, desired=len(nodes), last_scale_down=now)
        peak = max(peak, len(nodes))
    return Played(launches=serial, removals=removals, peak=peak, left=len(nodes))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_noisy_queue_does_not_make_launches_flap(seed: int) -> None:
    played = replay(noisy_queue(seed), Policy())
    # The bound: the peak fleet plus two. Every launch should be on the way up to the largest
    # fleet the queue's highs ask for. A node goes only after a minute idle, two minutes after
    # the last change, and when the rest could take a quarter more work than is queued; here a
    # node idles only in the empty ticks, and four of those in a row (a minute) are a one in
    # 160,000 event, so nodes are not shed and relaunched within the wobble. The two spare
    # launches are slack for a seed where that happens once.
    assert played.launches <= played.peak + 2, played
    # ... and it does scale in once the queue is really empty: every node went.
    assert played.left == 0 and played.removals == played.launches, played


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_without_cooldowns_and_hysteresis_the_same_queue_flaps(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The control: the bound above holds because of the rules, not because of the queue.
    careful = replay(noisy_queue(seed), Policy())
    monkeypatch.setattr(decide_module, "HYSTERESIS", 0.0)
    naive = replay(
        noisy_queue(seed), Policy(scale_up_cooldown=0, scale_down_cooldown=0, idle_timeout=0)
    )
    assert naive.launches > 10 * naive.peak, naive
    assert naive.launches > 10 * careful.launches, (naive, careful)
