"""The autoscaling decision: how many nodes each pool should hold, as a pure function.

``decide(snapshot, pools, policy, now)`` reads nothing but its arguments (no clock, no Redis,
no engine) and answers a ``Decision``: per pool the number of nodes that should *take work*
(booting + running; draining nodes and nodes with an interruption notice are not counted, so
the latter are replaced), a one-line reason, and the pool each job's work was counted on.

The algorithm, each tick:

1. **What each pool has** (``sizing.build_fleets``): its active nodes and when each takes work
   (running: now; booting: when its boot ends), which are busy, which have been idle for
   ``idle_timeout`` (a booting node: since it was requested), draining and noticed nodes (still
   billed). Launches the engine was asked for but does not list yet count as booting. A node
   booting 1.5x its boot time after its request is *suspect*: not counted on to take work (it
   may never boot); a size that needs nodes holds it on top, so a replacement starts meanwhile.
   So are launches the engine has not listed while the pool backs off or once it has been
   short for a failed boot's time (``PoolState.short_since``): capacity refused, a quota;
   its work moves to another pool.
2. **Placement** (``placement.place``): jobs earliest-deadline-first, each on the pool of the
   lowest expected cost that may take it (render queue; GPU jobs on GPU pools) and can still
   make its deadline at its largest size, boot time counted; a spot pool only while the
   deadline holds there with probability ``policy.confidence``, interruptions being a Poisson
   process at the pool's ``interruption_rate`` over the job's node-hours, each costing
   ``interruption_seconds`` + the chunk it cuts short. Re-decided each tick on the work left:
   a job whose spot plan no longer holds moves to on-demand. A deadline job no one pool holds
   spills over several, each sized for its share (``placement``'s "Spill").
3. **Sizing** (``terms.target``) of each pool's placed work,
   ``W = units x seconds_per_unit / concurrency`` node-seconds, by the policy:

   - ``queue``: the fewest nodes that finish all of it within ``target_seconds`` (new nodes
     work only after their boot; if the target is shorter than a boot, within a target after
     the boot);
   - ``deadline``: EDF, for each deadline k the fewest nodes that supply the work due by k in
     the time left to k (each new node supplying that time less its boot), the work without a
     deadline counted as due at ``target_seconds`` (a target after a boot if no size makes
     it): the pool holds both, as its nodes serve both in turns (until 2026-12-07 the larger
     of the two sizes, and deadlines slipped); work of a higher priority (without a deadline
     or due later) counts before a deadline as well, as the dispatcher serves the higher level
     first; a deadline that holds only if that other work waits asks for ``max_nodes``;
   - ``cost``: the EDF deadline sizing alone, and one node for a pool with work without one.

   A deadline no size can hold asks for the nodes that finish soonest (the fewest reaching the
   earliest finish the pool's ``max_nodes`` allows), but for no new node that would render for
   less time than it boots (it would mostly bill its boot). A sizing term driven by jobs that
   all have a ``max_cost`` asks for no more new nodes than the richest of them can pay: each
   new node costs at least its billed boot (``billing.billable_seconds``: the boot, a 60 s
   minimum) at the pool's price, on top of the job's work; a pool with work always gets its
   first node.
   Then ``min_nodes``/``max_nodes`` clamp; nodes with an interruption notice count against
   ``max_nodes`` until they go (the engine holds them and holds no more than ``max_nodes``), so
   at the maximum a noticed node is replaced when it leaves.
4. **Change rules** against the active count: an increase waits ``scale_up_cooldown`` after the
   last increase, except from zero nodes with work waiting and except replacing noticed nodes;
   no increase during a back-off (``backoff_until``). A decrease uses the sizing of the work
   inflated by ``HYSTERESIS`` (so a node goes only when the rest could take a quarter more than
   there is: a noisy queue does not make launches flap), waits ``scale_down_cooldown`` after
   the last change and removes only nodes idle for ``idle_timeout`` (busy nodes never).
   An operator's override (``PoolState.override`` until ``override_until``) replaces all this,
   clamped to ``min_nodes``..``max_nodes``. Times the pool's memory holds from after ``now``
   (the clock went back) are taken as unknown (``sizing.clock_safe``).
5. **Budget**: if the whole fleet (draining and noticed nodes too) would cost more than
   ``hourly_budget`` an hour, pools are cut, those without work first, then the most expensive
   per unit of work, down to their busy nodes and ``min_nodes``; a cut below what a pool has
   ignores the down cooldown and the idle timeout (never a busy node). Overrides are not cut,
   but their spend counts.

``removal.choose_victims`` and ``removal.failed_boots`` are the two other pure choices the shell
needs: which nodes to drain for a decrease, and which booting nodes have failed to boot.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from orchestrator.autoscaler.model import (
    Decision,
    Policy,
    PoolState,
    Snapshot,
)
from orchestrator.autoscaler.placement import Placed, place
from orchestrator.autoscaler.sizing import (
    EPSILON,
    Fleet,
    build_fleets,
    clock_safe,
)
from orchestrator.autoscaler.terms import most_nodes, most_nodes_why, target
from orchestrator.autoscaler.wording import clock, span
from providers.compute.pools import Pool

_T = TypeVar("_T")

#: A decrease must hold the work inflated by this fraction: the hysteresis band.
HYSTERESIS = 0.25


@dataclass
class _Outcome:
    """One pool's answer while it is being worked out."""

    desired: int
    why: str
    notes: list[str] = field(default_factory=list)
    has_work: bool = False
    #: an operator's override: the budget does not cut it
    fixed: bool = False

    def reason(self) -> str:
        """The one line: what drove the size, then every rule that changed it."""
        return "; ".join([self.why, *self.notes])


def decide(snapshot: Snapshot, pools: Mapping[str, Pool], policy: Policy, now: float) -> Decision:
    """Nodes each pool should hold to take work, why, and where each job was counted."""
    states = {
        name: clock_safe(s, now, policy.backoff_seconds) for name, s in snapshot.pools.items()
    }
    snapshot = dataclasses.replace(snapshot, pools=states)
    fleets = build_fleets(snapshot, pools, policy.idle_timeout, now, policy.boot_timeout_factor)
    placed = place(snapshot.jobs, fleets, policy, now)
    by_pool: dict[str, list[Placed]] = {name: [] for name in pools}
    for item in placed:
        by_pool[item.pool].append(item)
    outcomes = {name: _settle(fleet, by_pool[name], policy, now) for name, fleet in fleets.items()}
    _hold_budget(outcomes, fleets, policy)
    return Decision(
        desired={name: o.desired for name, o in outcomes.items()},
        reasons={name: o.reason() for name, o in outcomes.items()},
        placement=_first(placed, lambda item: item.pool),
        odds={
            job: odds
            for job, odds in _first(placed, lambda item: item.odds).items()
            if odds is not None
        },
    )


def _first(placed: Sequence[Placed], value: Callable[[Placed], _T]) -> dict[str, _T]:
    """Per job, the value of its first part: a job spilled over pools is shown on the pool that
    holds the largest share of it."""
    found: dict[str, _T] = {}
    for item in placed:
        found.setdefault(item.job.id, value(item))
    return found


def _settle(fleet: Fleet, jobs: Sequence[Placed], policy: Policy, now: float) -> _Outcome:
    """A pool's size after sizing and the change rules (the budget comes after)."""
    state, active = fleet.state, fleet.active
    if state.override is not None and (state.override_until is None or now < state.override_until):
        # Below min_nodes the engine refuses the size (or, terminating, replaces the node):
        # the nodes would churn, each billing its boot.
        size = max(min(max(state.override, fleet.pool.min_nodes), most_nodes(fleet)), 0)
        why = f"manual override {state.override}"
        if state.override_until is not None:
            why += f" until {clock(state.override_until)} (in {span(state.override_until - now)})"
        if size < state.override:
            why += f", clamped to {most_nodes_why(fleet)}"
        elif size > state.override:
            why += f", clamped to min_nodes {fleet.pool.min_nodes}"
        return _Outcome(size, why, has_work=bool(jobs), fixed=True)
    up, why, notes = target(fleet, jobs, policy, now, 1.0)
    down = max(target(fleet, jobs, policy, now, 1.0 + HYSTERESIS)[0], up)
    out = _Outcome(active, why, notes, has_work=bool(jobs))
    if fleet.unmade:
        # Why work went elsewhere while the pool still holds its size.
        out.notes.append(
            f"{fleet.unmade} launch(es) the engine has not made (capacity refused, a quota?): "
            "not counted on"
        )
    if up > active:
        _grow(out, fleet, up, policy, now)
    elif down < active:
        _shrink(out, fleet, down, policy, now)
    elif up < active:
        out.notes.append(
            f"holding {active}: {up} would do, within the {HYSTERESIS:.0%} hysteresis band"
        )
    return out


def _grow(out: _Outcome, fleet: Fleet, up: int, policy: Policy, now: float) -> None:
    state, active = fleet.state, fleet.active
    if state.backoff_until is not None and now < state.backoff_until:
        out.notes.append(
            f"wants {up} but backing off after {_failures(state)} until "
            f"{clock(state.backoff_until)} (in {span(state.backoff_until - now)})"
        )
        return
    cooled = (
        state.last_scale_up is None
        or now - state.last_scale_up >= policy.scale_up_cooldown - EPSILON
    )
    if cooled or (active == 0 and out.has_work):
        out.desired = up
        if not cooled:
            out.notes.append("from zero nodes: no cooldown")
    else:
        assert state.last_scale_up is not None
        out.desired = max(active, min(up, fleet.held))
        until = state.last_scale_up + policy.scale_up_cooldown
        out.notes.append(
            f"wants {up}, scale-up cooldown until {clock(until)} (in {span(until - now)})"
        )
    replaced = min(out.desired, fleet.held) - active
    if fleet.noticed and replaced > 0:
        out.notes.append(f"replacing {replaced} node(s) with an interruption notice")


def _failures(state: PoolState) -> str:
    """What backed the pool off: boots that failed, launches the engine refused, or both."""
    causes = []
    if state.launch_failures:
        causes.append(f"{state.launch_failures} failed boot{'s' * (state.launch_failures != 1)}")
    if state.refused_launches:
        causes.append(
            f"{state.refused_launches} launch{'es' * (state.refused_launches != 1)} the engine "
            "never made (capacity refused, a quota?)"
        )
    return " and ".join(causes) or "failed launches"


def _shrink(out: _Outcome, fleet: Fleet, down: int, policy: Policy, now: float) -> None:
    state, active = fleet.state, fleet.active
    changes = [t for t in (state.last_scale_up, state.last_scale_down) if t is not None]
    if changes and now - max(changes) < policy.scale_down_cooldown - EPSILON:
        until = max(changes) + policy.scale_down_cooldown
        out.notes.append(
            f"{down} would do; scale-down cooldown until {clock(until)} (in {span(until - now)})"
        )
        return
    out.desired = max(down, active - fleet.idle)
    if out.desired > down:
        out.notes.append(
            f"{down} would do; {fleet.idle} node(s) idle {span(policy.idle_timeout)}"
            f" ({fleet.busy} busy)"
        )


def _hold_budget(
    outcomes: dict[str, _Outcome], fleets: Mapping[str, Fleet], policy: Policy
) -> None:
    """Cut pools until the fleet's spend fits the hourly budget (see the module docstring)."""
    budget = policy.hourly_budget
    if budget is None:
        return
    total = sum(fleets[name].spend(o.desired) for name, o in outcomes.items())
    order = sorted(
        (name for name, o in outcomes.items() if not o.fixed),
        key=lambda name: (outcomes[name].has_work, -fleets[name].unit_price, name),
    )
    for name in order:
        excess = total - budget
        if excess <= EPSILON:
            return
        fleet, out = fleets[name], outcomes[name]
        price = fleet.pool.price_per_hour
        if price <= 0:
            continue
        floor = max(fleet.pool.min_nodes, fleet.busy)
        cut = min(math.ceil(excess / price - EPSILON), out.desired - floor)
        if cut <= 0:
            continue
        before = out.desired
        out.desired -= cut
        total -= cut * price
        out.notes.append(
            f"budget ${budget:g}/h: cut {before} -> {out.desired} "
            "(the most expensive per unit of work first)"
        )
    if total > budget + EPSILON:
        for name, out in outcomes.items():
            if fleets[name].spend(out.desired) > 0:
                out.notes.append(
                    f"over the ${budget:g}/h budget (${total:.2f}/h): busy, draining, "
                    "min_nodes and overridden nodes cannot be cut"
                )
