"""Which pool each job's remaining work is counted on: the cheapest that can still make it.

Jobs are placed earliest deadline first (then by priority and age), each on the pool with the
lowest price per unit of work (``price_per_hour x seconds_per_unit / concurrency``) among those
that may take it (queues include "render"; a GPU job needs a GPU) and whose nodes, at the most
the pool may hold, finish the work already placed there plus this job by its deadline. Nodes not
yet running count from when their boot ends.

A spot pool takes a job with a deadline only when the job's slack there also covers an
interruption: the deadline is moved earlier by ``policy.interruption_seconds`` plus one chunk's
re-render. A job without a deadline may always go to spot; under the "queue" and "deadline"
policies it should still finish within ``target_seconds`` where some pool can do that (a soft
deadline), and otherwise goes to the cheapest pool. A job no pool can finish in time goes to
the pool that finishes it first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from common.names import LEVELS
from orchestrator.autoscaler.model import JobDemand, Policy
from orchestrator.autoscaler.sizing import EPSILON, Fleet, capacity, earliest_finish
from providers.compute.pools import Pool

#: The queue render nodes consume.
RENDER = "render"


@dataclass(frozen=True)
class Placed:
    """A job's remaining work counted on one pool."""

    job: JobDemand
    pool: str
    #: node-seconds on that pool
    work: float
    #: seconds from now the work must be done by on that pool (a spot pool's interruption
    #: margin taken off); None: no deadline
    due: float | None
    #: whether the pool, at its most, can make the deadline (always True without one)
    feasible: bool = True


@dataclass(frozen=True)
class _Option:
    """One pool a job could be counted on."""

    fleet: Fleet
    work: float
    due: float | None
    ok: bool
    finish: float

    def cheap(self) -> tuple[float, bool, str]:
        """Cheapest per unit of work first, on demand before spot at one price."""
        return (self.fleet.unit_price, self.fleet.pool.spot, self.fleet.name)

    def soonest(self) -> tuple[float, float, str]:
        """Earliest finish first (a spot pool's interruption margin added)."""
        return (self.finish, self.fleet.unit_price, self.fleet.name)


def priority_rank(priority: str) -> int:
    """0 for urgent .. 3 for low (an unknown priority counts as normal)."""
    return LEVELS.index(priority) if priority in LEVELS else LEVELS.index("normal")


def edf_order(jobs: Sequence[JobDemand]) -> list[JobDemand]:
    """Jobs with deadlines first, earliest first; then the rest by priority and age."""

    def key(job: JobDemand) -> tuple[int, float, int, float, str]:
        due = job.deadline if job.deadline is not None else math.inf
        return (job.deadline is None, due, priority_rank(job.priority), job.submitted_at, job.id)

    return sorted(jobs, key=key)


def takes(pool: Pool, job: JobDemand) -> bool:
    """Whether the pool's nodes may render the job."""
    return RENDER in pool.queues and (pool.has_gpu or not job.needs_gpu)


def launch_limit(fleet: Fleet, now: float) -> int:
    """The most nodes the pool can hold soon: max_nodes, an operator's override, or only what
    it has while it backs off."""
    state = fleet.state
    if state.override is not None and (state.override_until is None or now < state.override_until):
        return max(min(state.override, fleet.pool.max_nodes), 0)
    if state.backoff_until is not None and now < state.backoff_until:
        return min(fleet.active, fleet.pool.max_nodes)
    return fleet.pool.max_nodes


def spot_margin(fleet: Fleet, job: JobDemand, policy: Policy) -> float:
    """Seconds of slack a job needs on this pool to survive an interruption (0 on demand)."""
    if not fleet.pool.spot:
        return 0.0
    return policy.interruption_seconds + fleet.chunk_seconds(job)


def place(
    jobs: Sequence[JobDemand], fleets: Mapping[str, Fleet], policy: Policy, now: float
) -> list[Placed]:
    """Every job that some pool may take, placed (see the module docstring); EDF order."""
    load = dict.fromkeys(fleets, 0.0)
    reach = {name: fleet.reach(launch_limit(fleet, now)) for name, fleet in fleets.items()}
    placed = []
    for job in edf_order(jobs):
        # A pool that cannot grow now (backing off, overridden) still counts: it may be the
        # only one that takes the job, and its reason should show the work waiting.
        eligible = [
            f
            for f in fleets.values()
            if takes(f.pool, job) and f.pool.max_nodes > 0 and job.units > 0
        ]
        if not eligible:
            continue
        options = []
        for fleet in eligible:
            work = fleet.work(job.units)
            due = _due(fleet, job, policy, now)
            total = load[fleet.name] + work
            ok = due is None or capacity(reach[fleet.name], due) >= total - EPSILON
            # When no pool can make the deadline: the one that finishes soonest.
            finish = earliest_finish(total, reach[fleet.name]) + spot_margin(fleet, job, policy)
            options.append(_Option(fleet, work, due, ok, finish))
        good = [o for o in options if o.ok]
        if good or job.deadline is None:
            # (Without a deadline only the soft target is out of reach: cost decides.)
            chosen = min(good or options, key=_Option.cheap)
        else:
            chosen = min(options, key=_Option.soonest)
        load[chosen.fleet.name] += chosen.work
        hard_due = chosen.due if job.deadline is not None else None
        placed.append(Placed(job, chosen.fleet.name, chosen.work, hard_due, chosen.ok))
    return placed


def _due(fleet: Fleet, job: JobDemand, policy: Policy, now: float) -> float | None:
    if job.deadline is not None:
        return job.deadline - now - spot_margin(fleet, job, policy)
    if policy.name == "cost":
        return None
    return policy.target_seconds
