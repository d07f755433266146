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
