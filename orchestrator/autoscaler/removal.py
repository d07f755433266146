"""Which nodes leave a pool, as pure functions: those to drain when it shrinks, those whose
boot failed (no first heartbeat in time), and those lost after booting (no heartbeat for
``lost_timeout``). The shell (loop.py) acts on all three."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from orchestrator.autoscaler.model import NodeState, NodeView, Policy, PoolState
from orchestrator.autoscaler.sizing import idle_for
from providers.compute.pools import Pool


def choose_victims(
    nodes: Sequence[NodeView],
    pool: str,
    count: int,
    now: float,
    policy: Policy,
    *,
    busy_too: bool = False,
) -> list[str]:
    """Ids of up to `count` nodes of `pool` to drain: booting nodes first (the last requested,
    furthest from taking work, first), then idle running nodes, longest idle first. Busy nodes
    and nodes with an interruption notice are never chosen, unless `busy_too` (an operator's
    override below the busy count): then the least busy come last, to finish or hand back
    their chunks while draining; running nodes idle for less than ``policy.idle_timeout`` come
    after the idle ones (only a budget cut or an override reaches them)."""
    if count <= 0:
        return []
    mine = [
        n
        for n in nodes
        if n.pool == pool
        and n.state in (NodeState.BOOTING, NodeState.RUNNING)
        and not n.notice
        and (busy_too or n.busy_slots == 0)
    ]
    booting = sorted(
        (n for n in mine if n.state is NodeState.BOOTING), key=lambda n: (-n.requested_at, n.id)
    )
    running = sorted(
        (n for n in mine if n.state is NodeState.RUNNING),
        key=lambda n: (
            n.busy_slots,
            idle_for(n, now) < policy.idle_timeout,
            -idle_for(n, now),
            -n.requested_at,
            n.id,
        ),
    )
    return [n.id for n in [*booting, *running][:count]]


def failed_boots(
    nodes: Sequence[NodeView], pools: Mapping[str, Pool], policy: Policy, now: float
) -> list[str]:
    """Ids of booting nodes with no first heartbeat ``boot_seconds x boot_timeout_factor`` after
    they were requested (oldest first); nodes of unknown pools are left alone."""
    failed = [
        n
        for n in nodes
        if n.state is NodeState.BOOTING
        and n.booted_at is None
        and n.pool in pools
        and now - n.requested_at > pools[n.pool].boot_seconds * policy.boot_timeout_factor
    ]
    return [n.id for n in sorted(failed, key=lambda n: (n.requested_at, n.id))]


def lost_nodes(
    nodes: Sequence[NodeView], pools: Mapping[str, Pool], policy: Policy, now: float
) -> list[str]:
    """Ids of running nodes whose heartbeat has not been seen for ``policy.lost_timeout``: a
    hung or dead worker on a machine its engine still holds and bills, which the decision would
    otherwise count as capacity forever. Noticed nodes are left to their cloud (it reclaims
    them), draining ones to the drain (a drained node without a heartbeat is terminated)."""
    lost = [
        n
        for n in nodes
        if n.state is NodeState.RUNNING
        and not n.notice
        and n.pool in pools
        and n.seen_at is not None
        and now - n.seen_at > policy.lost_timeout
    ]
    return [n.id for n in sorted(lost, key=lambda n: (n.seen_at or 0.0, n.id))]


def unlaunched(
    state: PoolState, pool: Pool, asked: int, present: int, policy: Policy, now: float
) -> tuple[PoolState, int]:
    """The pool's state with its shortfall tracked, and how many launches to count as failed:
    the engine's size above the nodes it holds for longer than a boot may take
    (``boot_seconds x boot_timeout_factor``) means launches it accepted and never made (an
    Auto Scaling group refused spot capacity, a quota), which no heartbeat would ever reveal."""
    if present >= asked:
        return replace(state, short_since=None), 0
    # A shortfall stored "since" after now (the clock went back) starts afresh now.
    since = min(state.short_since, now) if state.short_since is not None else now
    if now - since <= pool.boot_seconds * policy.boot_timeout_factor:
        return replace(state, short_since=since), 0
    return replace(state, short_since=None), asked - present
