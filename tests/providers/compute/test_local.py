"""The ``local`` engine: a pool's nodes are real ``cloudrender worker`` processes on this machine.

A private Redis (``redis_url``) and a storage folder; every call goes through a fresh engine
object, as the autoscaler builds one per tick, so the state files are what carries the pool.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.job_store import JobStore
from providers.compute.base import RUNNING, ComputeError
from providers.compute.local import LocalCompute
from providers.compute.pools import Pool

pytestmark = pytest.mark.timeout(120)

POOL = Pool(
    name="cpu",
    provider="local",
    max_nodes=3,
    market="spot",
    concurrency=1,
    queues=("render",),
    options={"stop_seconds": "10"},
)

Engine = Callable[[], LocalCompute]


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "nodes"


@pytest.fixture
def engine(redis_url: str, tmp_path: Path, state_dir: Path) -> Iterator[Engine]:
    """A new engine object per call; every node still running afterwards is terminated."""
    context = {
        "broker_url": redis_url,
        "storage_url": f"file://{tmp_path / 'storage'}",
        "state_dir": str(state_dir),
    }

    def make() -> LocalCompute:
        return LocalCompute.for_pool(POOL, **context)

    yield make
    for node in make().nodes(POOL):
        make().terminate(POOL, node.id)


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def beats_by_instance(redis_url: str) -> dict[str, dict[str, Any]]:
    beats = JobStore.from_url(redis_url).heartbeats().values()
    return {str(b.get("instance")): b for b in beats}


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def recorded_pid(state_dir: Path, node_id: str) -> int:
    """The node's process, from its state file (documented in providers.compute.local)."""
    return int(json.loads((state_dir / POOL.name / f"{node_id}.json").read_text())["pid"])


def test_nodes_are_workers_that_join_the_cluster_and_leave_when_terminated(
    engine: Engine, redis_url: str
) -> None:
    # When the pool is asked for two nodes
    before = time.time()
    engine().set_desired(POOL, 2)
    after = time.time()

    # Then two processes run, listed with their start time and market
    nodes = engine().nodes(POOL)
    assert len({n.id for n in nodes}) == 2 and engine().desired(POOL) == 2
    for node in nodes:
        assert node.state == RUNNING and node.market == "spot" and node.pool == "cpu"
        assert node.launched_at is not None and before - 0.05 <= node.launched_at <= after + 0.05
    # and each becomes a worker whose heartbeat names its pool and its engine id
    ids = {n.id for n in nodes}
    beats = wait_for(
        "both heartbeats",
        lambda: ids <= beats_by_instance(redis_url).keys() and beats_by_instance(redis_url),
    )
    for node_id in ids:
        assert beats[node_id]["pool"] == "cpu" and beats[node_id]["busy"] == 0
        assert beats[node_id]["draining"] is False and beats[node_id]["concurrency"] == 1
    first, second = sorted(ids)

    # When one is terminated with a replacement, its process is gone and the size holds
    engine().terminate(POOL, first, replace=True)
    assert not running(beats[first]["pid"])
    assert first not in {n.id for n in engine().nodes(POOL)}
    assert len(engine().nodes(POOL)) == 2 and engine().desired(POOL) == 2

    # When the other is terminated plainly, it is gone (its heartbeat too) and the size drops
    engine().terminate(POOL, second)
    assert not running(beats[second]["pid"])
    assert second not in beats_by_instance(redis_url)
    assert len(engine().nodes(POOL)) == 1 and engine().desired(POOL) == 1
    # and a node that is already gone is no error
    engine().terminate(POOL, second)
    assert engine().desired(POOL) == 1


def test_a_dead_node_is_replaced_and_shrinking_spares_protected_nodes(
    engine: Engine, state_dir: Path
) -> None:
    engine().set_desired(POOL, 2)
    older, newer = (n.id for n in engine().nodes(POOL))

    # When a node's processes die (its machine, as it were)
    pid = recorded_pid(state_dir, older)
    os.killpg(pid, signal.SIGKILL)
    wait_for("the kill", lambda: older not in {n.id for n in engine().nodes(POOL)})
    # Then it is no longer listed, nor kept on file, while the size still says two
    assert [n.id for n in engine().nodes(POOL)] == [newer]
    assert not (state_dir / POOL.name / f"{older}.json").exists()
    assert engine().desired(POOL) == 2
    # and the next set_desired replaces it, as an Auto Scaling group would
    engine().set_desired(POOL, 2)
    nodes = engine().nodes(POOL)
    assert len(nodes) == 2 and newer in {n.id for n in nodes}
    replacement = next(n.id for n in nodes if n.id != newer)

    # When the newest node is protected and the pool shrinks on its own
    engine().protect(POOL, [replacement], True)
    assert {n.id: n.protected for n in engine().nodes(POOL)} == {newer: False, replacement: True}
    newer_pid = recorded_pid(state_dir, newer)
    engine().set_desired(POOL, 1)
    # Then the engine stopped the other one, and its process is gone
    assert [n.id for n in engine().nodes(POOL)] == [replacement]
    assert not running(newer_pid)

    # Unprotected, it goes too
    engine().protect(POOL, [replacement], False)
    replacement_pid = recorded_pid(state_dir, replacement)
    engine().set_desired(POOL, 0)
    assert engine().nodes(POOL) == [] and not running(replacement_pid)


def test_the_engine_says_in_one_line_what_is_missing_or_out_of_bounds(
    redis_url: str, tmp_path: Path
) -> None:
    with pytest.raises(ComputeError, match="pool 'cpu': the local engine needs .*broker_url"):
        LocalCompute.for_pool(POOL, storage_url="file:///x", state_dir=str(tmp_path))
    engine = LocalCompute.for_pool(
        POOL, broker_url=redis_url, storage_url="file:///x", state_dir=str(tmp_path)
    )
    with pytest.raises(ComputeError, match=r"pool 'cpu': 4 nodes is outside 0\.\.3"):
        engine.set_desired(POOL, 4)
    assert engine.desired(POOL) == 0 and engine.nodes(POOL) == []
