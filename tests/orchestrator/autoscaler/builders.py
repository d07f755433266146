"""Builders for the autoscaler's decision tests: pools, nodes and jobs in a line each.

Every pool defaults to $1/node-hour, one slot per node, 120 s boot, at most 10 nodes, and every
pool state to 0.05 s per unit: a job of ``node_seconds`` work has ``node_seconds / 0.05`` units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from orchestrator.autoscaler.decide import decide
from orchestrator.autoscaler.model import (
    Decision,
    JobDemand,
    NodeState,
    NodeView,
    Policy,
    PoolState,
    Snapshot,
)
from providers.compute.pools import Pool

NOW = 1_800_000_000.0
SECONDS_PER_UNIT = 0.05


def pool(name: str = "cpu", **fields: Any) -> Pool:
    """A pool with the defaults above; keyword arguments replace them."""
    values: dict[str, Any] = {
        "provider": "aws",
        "region": "us-east-1",
        "max_nodes": 10,
        "boot_seconds": 120.0,
        "price_per_hour": 1.0,
    }
    return Pool(name=name, **{**values, **fields})


def job(job_id: str, node_seconds: float, due_in: float | None = None, **fields: Any) -> JobDemand:
    """A job of `node_seconds` of single-slot work at the default rate, due `due_in` from NOW."""
    deadline = None if due_in is None else NOW + due_in
    return JobDemand(id=job_id, units=node_seconds / SECONDS_PER_UNIT, deadline=deadline, **fields)


def node(
    node_id: str,
    pool_name: str = "cpu",
    *,
    state: NodeState = NodeState.RUNNING,
    busy: int = 0,
    idle: float = 600.0,
    age: float = 3600.0,
    notice: bool = False,
) -> NodeView:
    """A node requested `age` seconds ago; running ones booted then, idle for `idle` seconds
    unless `busy` slots run chunks."""
    booted = None if state is NodeState.BOOTING else NOW - age + 60
    return NodeView(
        id=node_id,
        pool=pool_name,
        state=state,
        requested_at=NOW - age,
        booted_at=booted,
        busy_slots=busy,
        idle_since=None if busy or state is NodeState.BOOTING else NOW - idle,
        notice=notice,
    )


def nodes(count: int, pool_name: str = "cpu", prefix: str = "n", **fields: Any) -> list[NodeView]:
    """`count` alike nodes named prefix0, prefix1, ..."""
    return [node(f"{prefix}{i}", pool_name, **fields) for i in range(count)]


def run(
    jobs: Iterable[JobDemand] = (),
    fleet: Iterable[NodeView] = (),
    pools: Iterable[Pool] | None = None,
    states: Mapping[str, PoolState] | None = None,
    now: float = NOW,
    **policy: Any,
) -> Decision:
    """decide() over these jobs, nodes and pools (one default pool) with Policy(**policy)."""
    chosen = {p.name: p for p in (pools if pools is not None else [pool()])}
    pool_states = {name: PoolState(seconds_per_unit=SECONDS_PER_UNIT) for name in chosen}
    pool_states.update(states or {})
    snapshot = Snapshot(jobs=tuple(jobs), nodes=tuple(fleet), pools=pool_states)
    return decide(snapshot, chosen, Policy(**policy), now)


def state(**fields: Any) -> PoolState:
    """A pool state at the default rate."""
    return PoolState(**{"seconds_per_unit": SECONDS_PER_UNIT, **fields})
