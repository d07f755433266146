"""Step 3 of the autoscaling decision (orchestrator.autoscaler.decide): the policy's size for a
pool's placed work, as sizing terms (queue, EDF deadlines, cost), each held to what its jobs'
max_cost pays for, then clamped to the pool's min_nodes and max_nodes."""

from __future__ import annotations

import math
from collections.abc import Sequence

from orchestrator.autoscaler.billing import billable_seconds
from orchestrator.autoscaler.model import JobDemand, Policy
from orchestrator.autoscaler.placement import Placed, priority_rank
from orchestrator.autoscaler.sizing import EPSILON, Fleet, earliest_finish, nodes_for
from orchestrator.autoscaler.wording import hours, span


def target(
    fleet: Fleet, jobs: Sequence[Placed], policy: Policy, now: float, scale: float
) -> tuple[int, str, list[str]]:
    """The policy's size for the pool's work (x `scale`), clamped, why, and the caps applied."""
    pool = fleet.pool
    notes: list[str] = []
    hard = sorted((j for j in jobs if j.due is not None), key=lambda j: (j.due, j.job.id))
    soft = [j for j in jobs if j.due is None]
    terms: list[tuple[int, str]] = []
    if policy.name == "queue":
        terms.append(_queue_term(fleet, jobs, policy, scale, notes))
    elif policy.name == "deadline" and soft:
        # Both, not the larger: the dispatcher serves a pool's jobs in turns, so the work
        # without a deadline takes the same nodes as the deadline work; it is due at the queue
        # target in the same EDF sum (the larger of the two terms let deadlines slip).
        terms += _deadline_terms(fleet, hard, scale, notes, now, soft, policy.target_seconds)
    else:
        terms += _deadline_terms(fleet, hard, scale, notes, now)
        if soft:
            terms.append((fleet.holding(1), "cost: 1 node for work without a deadline"))
    size, why = (
        max(terms, key=lambda t: t[0]) if terms else (0, f"{policy.name}: no work placed here")
    )
    most = most_nodes(fleet)
    if size > most:
        why += f", {most_nodes_why(fleet)}"
    elif size < pool.min_nodes:
        why += f", min_nodes {pool.min_nodes}"
    return min(max(size, pool.min_nodes), most), why, notes


def most_nodes(fleet: Fleet) -> int:
    """The most nodes the pool may have taking work: its max_nodes, less the nodes with an
    interruption notice, which its engine holds until they go and counts against the maximum
    (asking for more is refused): their replacements launch as they go."""
    return max(fleet.pool.max_nodes - fleet.noticed, 0)


def most_nodes_why(fleet: Fleet) -> str:
    """Why `most_nodes` is what it is, for the reason line."""
    why = f"max_nodes {fleet.pool.max_nodes}"
    if fleet.noticed:
        why += f" less {fleet.noticed} node(s) with an interruption notice (replaced as they go)"
    return why


def _queue_term(
    fleet: Fleet, jobs: Sequence[Placed], policy: Policy, scale: float, notes: list[str]
) -> tuple[int, str]:
    """Nodes that finish the jobs' work within the target (or a target after a boot)."""
    work = sum(j.work for j in jobs) * scale
    if work <= EPSILON:
        return 0, f"{policy.name}: no work placed here"
    target = policy.target_seconds
    need = nodes_for(work, target, fleet.ready, fleet.boot)
    if need is None:
        target = fleet.boot + policy.target_seconds
        need = nodes_for(work, target, fleet.ready, fleet.boot) or 1
    need = fleet.holding(need)
    why = f"{policy.name}: {hours(work)} node-h within {span(target)} needs {need}"
    return _cap(fleet, [j.job for j in jobs], [j.work for j in jobs], need, why, notes)


def _deadline_terms(
    fleet: Fleet,
    hard: Sequence[Placed],
    scale: float,
    notes: list[str],
    now: float,
    soft: Sequence[Placed] = (),
    target: float = 0.0,
) -> list[tuple[int, str]]:
    """EDF: for each deadline, the nodes that supply all work due by then in time; with `soft`
    work (no deadline), that work too, due at the queue `target` (or a target after a boot)."""
    terms = []
    reach = fleet.reach(fleet.pool.max_nodes)
    soft_work = sum(j.work for j in soft) * scale
    horizon = math.inf
    if soft_work > EPSILON:
        early = sum(j.work for j in hard if j.due is not None and j.due <= target) * scale
        horizon = target
        if nodes_for(early + soft_work, target, fleet.ready, fleet.boot) is None:
            horizon = fleet.boot + target
    due_work = 0.0
    counted: list[Placed] = []
    for item in hard:
        assert item.due is not None
        if item.due > horizon:
            terms.append(_soft_term(fleet, counted, soft, due_work, soft_work, horizon, notes))
            horizon = math.inf
        due_work += item.work * scale
        counted.append(item)
        extra = soft_work if math.isinf(horizon) and soft_work > EPSILON else 0.0
        # The dispatcher serves a higher priority first, whatever its deadline: that work
        # comes before this deadline too (EDF alone let a normal job's deadline slip behind a
        # high-priority job without one on the same nodes, bench/spot_sim.py).
        first = _ahead(item, hard, soft if not extra else ())
        ahead = sum(j.work for j in first) * scale
        with_soft = f" + {hours(extra)} without one" if extra else ""
        if ahead > EPSILON:
            with_soft += f" + {hours(ahead)} of a higher priority"
        extra += ahead
        need = nodes_for(due_work + extra, item.due, fleet.ready, fleet.boot)
        alone = nodes_for(due_work, item.due, fleet.ready, fleet.boot) if extra else need
        if need is not None and fleet.holding(need) <= fleet.pool.max_nodes:
            need = fleet.holding(need)
            room = ""
            if item.absorbs:
                room = f", room for {item.absorbs} interruption(s) at {item.odds:.0%}"
            why = (
                f"deadline: job {item.job.id} due in {span(item.due)} needs {need} "
                f"({hours(due_work)} node-h due by then{with_soft}, boot {span(fleet.boot)}{room})"
            )
        elif alone is not None and fleet.holding(alone) <= fleet.pool.max_nodes:
            # The deadline holds only if the work without one waits: all the nodes, and the
            # dispatcher's escalation of a job near its deadline puts it first.
            need = fleet.pool.max_nodes
            why = (
                f"deadline: job {item.job.id} due in {span(item.due)} needs all {need} "
                f"({hours(due_work)} node-h due by then and {hours(extra)} it would wait on)"
            )
        else:
            need, late = _late(fleet, due_work, item.due, reach)
            why = (
                f"deadline: job {item.job.id} cannot make its deadline (in {span(item.due)}): "
                f"{need} node(s) finish it soonest, {late}"
            )
        jobs = [item, *(soft if math.isinf(horizon) else ()), *first] if extra else [item]
        terms.append(_cap(fleet, [j.job for j in jobs], [j.work for j in jobs], need, why, notes))
    if not math.isinf(horizon):
        terms.append(_soft_term(fleet, counted, soft, due_work, soft_work, horizon, notes))
    return terms


def _ahead(item: Placed, hard: Sequence[Placed], soft: Sequence[Placed]) -> list[Placed]:
    """The pool's work of a higher priority than the item's job that EDF does not count
    before its deadline: later deadlines and (`soft`) work without one."""
    rank = priority_rank(item.job.priority)
    assert item.due is not None
    later = [j for j in hard if j.due is not None and j.due > item.due]
    return [j for j in (*later, *soft) if priority_rank(j.job.priority) < rank]


def _soft_term(
    fleet: Fleet,
    counted: Sequence[Placed],
    soft: Sequence[Placed],
    due_work: float,
    soft_work: float,
    horizon: float,
    notes: list[str],
) -> tuple[int, str]:
    """Nodes that finish the work without a deadline by `horizon` on top of the `due_work` of
    the deadlines before it (`counted`)."""
    need = fleet.holding(nodes_for(due_work + soft_work, horizon, fleet.ready, fleet.boot) or 1)
    why = f"deadline: {hours(soft_work)} node-h without a deadline within {span(horizon)}"
    if due_work > EPSILON:
        why += f" after {hours(due_work)} node-h due by then"
    why += f" needs {need}"
    jobs = [*counted, *soft]
    return _cap(fleet, [j.job for j in jobs], [j.work for j in jobs], need, why, notes)


def _late(fleet: Fleet, work: float, due: float, reach: Sequence[float]) -> tuple[int, str]:
    """Nodes for a deadline no size holds: those that finish the work soonest, but no new node
    that would render for less time than it boots (it would mostly bill its boot); and how late
    that finishes."""
    finish = earliest_finish(work, reach)
    if not math.isfinite(finish):
        return 0, "never"
    soonest = nodes_for(work, finish * (1 + EPSILON) + EPSILON, fleet.ready, fleet.boot) or 0
    worth = fleet.boot + billable_seconds(0.0, fleet.boot)
    thrifty = nodes_for(work, worth, fleet.ready, fleet.boot) or soonest
    need = min(soonest, thrifty)
    ready = sorted(fleet.ready + (fleet.boot,) * max(need - len(fleet.ready), 0))[:need]
    late = f"{span(earliest_finish(work, ready) - due)} late"
    return min(fleet.holding(need), fleet.pool.max_nodes), late


def _cap(
    fleet: Fleet,
    jobs: Sequence[JobDemand],
    works: Sequence[float],
    need: int,
    why: str,
    notes: list[str],
) -> tuple[int, str]:
    """A sizing term held to the new nodes the richest of its jobs' max_cost pays for."""
    price = fleet.pool.price_per_hour
    if price <= 0 or need <= fleet.active:
        return need, why
    per_node = billable_seconds(0.0, fleet.boot) * price / 3600.0
    best: tuple[int, str, float] | None = None
    for job, work in zip(jobs, works, strict=True):
        if job.max_cost is None:
            return need, why
        left = job.max_cost - job.cost_so_far - work * price / 3600.0
        extra = max(math.floor(left / per_node + EPSILON), 0)
        if best is None or extra > best[0]:
            best = (extra, job.id, job.max_cost)
    assert best is not None
    cap = max(fleet.active + best[0], 1)
    if need <= cap:
        return need, why
    note = f"job {best[1]}'s max_cost ${best[2]:.2f} allows {best[0]} more node(s): {need} -> {cap}"
    if note not in notes:
        notes.append(note)
    return cap, why
