"""The in-memory engine keeps the real engines' rules the autoscaler relies on."""

from __future__ import annotations

import pytest

from providers.compute.base import ComputeError
from providers.compute.memory import MemoryCompute
from providers.compute.pools import Pool

POOL = Pool("cpu", "memory", min_nodes=1, max_nodes=4, boot_seconds=30.0)


def test_a_size_outside_the_pool_bounds_is_refused_as_an_auto_scaling_group_does() -> None:
    engine = MemoryCompute(lambda: 0.0)
    for count in (-1, 0, 5):
        with pytest.raises(ComputeError, match=f"cannot hold {count} nodes.*1 to 4"):
            engine.set_desired(POOL, count)
    assert engine.nodes(POOL) == []


def test_scale_in_passes_protected_nodes_over() -> None:
    now = [0.0]
    engine = MemoryCompute(lambda: now[0])
    for count in range(1, 4):
        now[0] += 1
        engine.set_desired(POOL, count)
    oldest, middle, newest = (n.id for n in engine.nodes(POOL))
    engine.protect(POOL, [newest], True)
    engine.set_desired(POOL, 2)
    # The newest node runs chunks: the engine removes the newest unprotected one instead.
    assert [n.id for n in engine.nodes(POOL)] == [oldest, newest]


def test_capacity_caps_the_nodes_made_while_the_size_is_held() -> None:
    engine = MemoryCompute(lambda: 0.0, capacity=1)
    engine.set_desired(POOL, 3)
    assert engine.desired(POOL) == 3
    assert len(engine.nodes(POOL)) == 1


def test_a_node_killed_by_its_cloud_is_replaced_as_an_auto_scaling_group_does() -> None:
    # Before, a spot reclaim left the group one node short for ever, where a real group holds
    # its size: simulations over the in-memory engine under-counted node-hours and launches.
    now = [0.0]
    engine = MemoryCompute(lambda: now[0])
    engine.set_desired(POOL, 2)
    reclaimed, kept = (n.id for n in engine.nodes(POOL))
    now[0] = 100.0
    engine.kill(POOL, reclaimed)
    nodes = engine.nodes(POOL)
    assert engine.desired(POOL) == 2 and len(nodes) == 2
    assert kept in {n.id for n in nodes} and reclaimed not in {n.id for n in nodes}
    replacement = next(n for n in nodes if n.id != kept)
    assert replacement.state == "pending" and replacement.launched_at == 100.0


def test_a_replacement_waits_for_capacity() -> None:
    engine = MemoryCompute(lambda: 0.0, capacity=1)
    engine.set_desired(POOL, 1)
    [node] = engine.nodes(POOL)
    engine.capacity = 0
    engine.kill(POOL, node.id)
    assert engine.desired(POOL) == 1 and engine.nodes(POOL) == []


def test_terminating_at_min_nodes_replaces_the_node_as_aws_does() -> None:
    # AWS refuses to lower a group below its MinSize; the fake lowered it to 0 nodes.
    engine = MemoryCompute(lambda: 0.0)
    engine.set_desired(POOL, 2)
    first, second = (n.id for n in engine.nodes(POOL))
    engine.terminate(POOL, first)
    assert engine.desired(POOL) == 1 and [n.id for n in engine.nodes(POOL)] == [second]
    engine.terminate(POOL, second)
    assert engine.desired(POOL) == 1
    [replacement] = engine.nodes(POOL)
    assert replacement.id not in (first, second)
