"""Which pool each job's remaining work is counted on: the cheapest in expectation that can
still make it, on spot only while the deadline holds there with the policy's confidence.

Jobs are placed earliest deadline first (then by priority and age). The pools that may take a
job are those whose queues include "render" (a GPU job: with a GPU) and whose nodes, at the most
the pool may hold, finish the work already placed there plus this job by its deadline; nodes not
yet running count from when their boot ends. Among them the job goes to the lowest *expected*
cost: its node-seconds there x the pool's price, and on a spot pool the work interruptions are
expected to add; a job of fewer chunks than a node has slots pays for the slots it leaves idle
(``idle_share``), and a job that makes the pool launch nodes pays for what each new node bills
beyond its work (``launches``: its boot and the idle timeout after its last chunk), so the price
that decides is the price per frame *at the job's size*, as a price-capacity-optimized fleet
weighs its instance types: a small job does not pick a big node for its price per slot. A job
without a deadline fills nodes already running before it boots new ones; a deadline job is
priced at its size on an idle pool (the nodes it would launch there), never drawn onto running
nodes by their being paid for already.

**Spot.** Interruptions of a job's nodes are a Poisson process over its node-hours on the pool,
at the pool's interruption rate (``PoolState.interruption_rate``, learned from the ledger and
the catalogue; ``interruptions.DEFAULT_RATE`` when unknown): ``mu = rate x W / 3600`` expected
for W node-seconds. Each costs ``policy.interruption_seconds`` node-seconds (a replacement's
boot; at least the pool's ``boot_seconds``) plus the re-render of the chunk the node was
running, when a chunk outlasts the cloud's notice (``interruptions.NOTICE_SECONDS``; a shorter
chunk finishes within it). A job with a
deadline goes to spot only if the pool's room by the deadline, beyond the work, absorbs the
fewest interruptions k with ``P(at most k) >= policy.confidence``; its work there is counted
padded with those k interruptions, so the pool is sized to survive them. Placement runs every
tick on the work left, so as slack shrinks (an interruption struck, the work fell behind) a job
whose spot plan no longer holds moves to on-demand.

**Spill.** A job with a deadline that no one pool can hold (with the confidence, on spot) is
split over several: the pools in order of expected cost each take the largest share of its work
they hold by the deadline (on spot padded for its interruptions at the confidence), the next the
rest, so the pools are sized for it together (the dispatcher feeds any pool's nodes from any
job). Only if all of them together cannot, it stays where it finishes first.

A job without a deadline may always go to spot, its work counted with the expected
interruptions; under the "queue" and "deadline" policies it should still finish within
``target_seconds`` where some pool can do that (a soft deadline), and otherwise goes to the
cheapest pool that can finish it at all (not one backing off with no node, whose work would wait
out the back-off). A job no pool can finish in time goes to the pool that finishes it first.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from common.names import LEVELS
from orchestrator.autoscaler.billing import billable_seconds
from orchestrator.autoscaler.interruptions import (
    DEFAULT_RATE,
    MOST_INTERRUPTIONS,
    interruptions_to_absorb,
    notice_seconds,
    poisson_cdf,
)
from orchestrator.autoscaler.model import JobDemand, Policy
from orchestrator.autoscaler.sizing import (
    CHUNK_UNITS,
    EPSILON,
    Fleet,
    capacity,
    earliest_finish,
    nodes_for,
)
from providers.compute.pools import Pool

#: The queue render nodes consume.
RENDER = "render"
#: Halvings that find a pool's share of a spilled job (to 1/1024 of its work).
SHARE_STEPS = 10


@dataclass(frozen=True)
class Placed:
    """A job's remaining work counted on one pool."""

    job: JobDemand
    pool: str
    #: node-seconds on that pool (on spot: with the interruptions it must absorb)
    work: float
    #: seconds from now the work must be done by; None: no deadline
    due: float | None
    #: whether the pool, at its most, can make the deadline (always True without one)
    feasible: bool = True
    #: interruptions the work was padded for (spot, with a deadline)
    absorbs: int = 0
    #: the probability the deadline holds there (None without a deadline)
    odds: float | None = None


@dataclass(frozen=True)
class SpotRisk:
    """What interruptions mean for one job's work on one spot pool."""

    #: interruptions per node-hour
    rate: float
    #: interruptions expected over the job's node-hours there
    expected: float
    #: node-seconds each costs: a replacement's boot and the re-rendered chunk
    loss: float


@dataclass(frozen=True)
class _Option:
    """One pool a job could be counted on."""

    fleet: Fleet
    #: node-seconds counted there, and the seconds it is due in
    work: float
    due: float | None
    ok: bool
    #: seconds from now the pool's work (this job's included) would be done, at its most
    finish: float
    #: expected dollars of this job's work there
    cost: float
    odds: float | None = None
    absorbs: int = 0

    def cheap(self) -> tuple[float, bool, str]:
        """Cheapest in expectation first, on demand before spot at one cost."""
        return (self.cost, self.fleet.pool.spot, self.fleet.name)

    def soonest(self) -> tuple[float, float, str]:
        """Earliest finish first (a spot pool's expected interruptions added)."""
        return (self.finish, self.cost, self.fleet.name)


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
        return max(min(max(state.override, fleet.pool.min_nodes), fleet.pool.max_nodes), 0)
    if state.backoff_until is not None and now < state.backoff_until:
        return min(fleet.active, fleet.pool.max_nodes)
    return fleet.pool.max_nodes


def rerender_seconds(fleet: Fleet, job: JobDemand) -> float:
    """Node-seconds an interruption throws away: the job's chunk on every slot when a chunk
    outlasts the cloud's notice (a shorter one finishes within it), else nothing."""
    chunk = fleet.chunk_seconds(job)
    return chunk if chunk > notice_seconds(fleet.pool.provider) else 0.0


def idle_share(fleet: Fleet, job: JobDemand) -> float:
    """How much dearer a job's work is on the pool than perfectly packed: a job of fewer chunks
    than a node has slots keeps only that many busy, and the rest of the node bills too (1.0 when
    its chunks fill a node)."""
    slots = max(fleet.pool.concurrency, 1)
    chunks = max(math.ceil(max(job.units, 0.0) / CHUNK_UNITS - EPSILON), 1)
    return slots / min(slots, chunks)


def launches(
    fleet: Fleet, reach: Sequence[float], load: float, work: float, due: float | None
) -> int:
    """New nodes the pool launches for `work` node-seconds on top of the `load` already placed
    there: those the work due in `due` seconds needs beyond the nodes it has (and beyond those
    the load already launches); without a due time, one node if the pool has nothing."""
    if work <= EPSILON:
        return 0
    if due is None:
        return 0 if fleet.ready or load > EPSILON else 1

    def launched(total: float) -> int:
        # A size no number of nodes reaches in time asks for the most the pool holds.
        need = nodes_for(total, due, fleet.ready, fleet.boot)
        most = len(reach)
        return max(min(most if need is None else need, most) - len(fleet.ready), 0)

    return max(launched(load + work) - launched(load), 0)


def launch_seconds(fleet: Fleet, policy: Policy) -> float:
    """Node-seconds a new node bills beyond the work it renders: its boot (billed from the
    request, at least the cloud's minimum) and the idle timeout it waits after its last chunk
    before it is drained."""
    return billable_seconds(0.0, fleet.boot) + max(policy.idle_timeout, 0.0)


def expected_cost(
    fleet: Fleet, job: JobDemand, policy: Policy, now: float, load: float = 0.0
) -> float:
    """Expected dollars of the job's remaining work on the pool after `load` node-seconds placed
    there: what ``place`` compares (a pool with no node prices its class at the job's size)."""
    reach = fleet.reach(launch_limit(fleet, now))
    return _option(fleet, job, load, reach, policy, now).cost


def spot_risk(fleet: Fleet, job: JobDemand, policy: Policy) -> SpotRisk | None:
    """The interruptions a job's work risks on this pool (None on demand)."""
    if not fleet.pool.spot:
        return None
    rate = fleet.state.interruption_rate
    rate = DEFAULT_RATE if rate is None else max(rate, 0.0)
    expected = rate * fleet.work(job.units) / 3600.0
    # A replacement takes at least the pool's boot to take work.
    replacement = max(policy.interruption_seconds, fleet.boot)
    return SpotRisk(rate, expected, replacement + rerender_seconds(fleet, job))


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
        fitting = [
            f
            for f in fleets.values()
            if takes(f.pool, job) and f.pool.max_nodes > 0 and job.units > 0
        ]
        if job.prefers_gpu and any(f.pool.has_gpu for f in fitting):
            fitting = [f for f in fitting if f.pool.has_gpu]
        options = [_option(f, job, load[f.name], reach[f.name], policy, now) for f in fitting]
        if not options:
            continue
        good = [o for o in options if o.ok]
        if not good and job.deadline is not None:
            parts = _spill(job, fitting, load, reach, policy, now)
            if parts:
                for part in parts:
                    load[part.pool] += part.work
                placed.extend(parts)
                continue
        if good or job.deadline is None:
            # (Without a deadline only the soft target is out of reach: cost decides, among
            # the pools that can finish it at all: one backing off with no node cannot.)
            able = [o for o in options if math.isfinite(o.finish)]
            chosen = min(good or able or options, key=_Option.cheap)
        else:
            chosen = min(options, key=_Option.soonest)
        load[chosen.fleet.name] += chosen.work
        hard = job.deadline is not None
        placed.append(
            Placed(
                job,
                chosen.fleet.name,
                chosen.work,
                chosen.due if hard else None,
                chosen.ok,
                chosen.absorbs,
                chosen.odds if hard else None,
            )
        )
    return placed


def _spill(
    job: JobDemand,
    fitting: Sequence[Fleet],
    load: Mapping[str, float],
    reach: Mapping[str, Sequence[float]],
    policy: Policy,
    now: float,
) -> list[Placed]:
    """The job's work split over pools that together hold its deadline (see the module
    docstring), the largest share first; [] when they cannot."""
    whole = {f.name: _option(f, job, load[f.name], reach[f.name], policy, now) for f in fitting}
    left, parts = 1.0, []
    for fleet in sorted(fitting, key=lambda f: whole[f.name].cheap()):
        share, option = _largest_share(fleet, job, left, load[fleet.name], reach[fleet.name],
                                       policy, now)  # fmt: skip
        if option is None:
            continue
        parts.append((share, option))
        left -= share
        if left <= EPSILON:
            break
    if left > EPSILON or len(parts) < 2:
        return []
    parts.sort(key=lambda p: -p[0])
    return [Placed(job, o.fleet.name, o.work, o.due, True, o.absorbs, o.odds) for _, o in parts]


def _largest_share(
    fleet: Fleet,
    job: JobDemand,
    most: float,
    load: float,
    reach: Sequence[float],
    policy: Policy,
    now: float,
) -> tuple[float, _Option | None]:
    """The largest share (up to `most`) of the job's work the pool holds by its deadline, and
    that share's option; (0, None) when it holds none (the share found by halving)."""

    def part(share: float) -> _Option:
        return _option(fleet, dataclasses.replace(job, units=job.units * share), load, reach,
                       policy, now)  # fmt: skip

    whole = part(most)
    if whole.ok:
        return most, whole
    low, high, best = 0.0, most, None
    for _ in range(SHARE_STEPS):
        mid = (low + high) / 2
        option = part(mid)
        if option.ok:
            low, best = mid, option
        else:
            high = mid
    return (low, best) if best is not None and low > EPSILON else (0.0, None)


def _option(
    fleet: Fleet,
    job: JobDemand,
    load: float,
    reach: Sequence[float],
    policy: Policy,
    now: float,
) -> _Option:
    """The job's work on one pool: what it counts, whether it makes its (soft) deadline there
    with the policy's confidence, its expected cost, and when it would finish."""
    base = fleet.work(job.units)
    price = fleet.pool.price_per_hour / 3600.0
    if job.deadline is not None:
        due: float | None = job.deadline - now
    else:
        due = None if policy.name == "cost" else policy.target_seconds
    room = capacity(reach, due) - load - base if due is not None else math.inf
    # What the nodes it launches bill beyond their work; the slots it leaves idle.
    if job.deadline is None:
        n = launches(fleet, reach, load, base, due)
    else:
        # At its size on an idle pool: counting the running nodes as free drew deadline work
        # onto nodes the work placed after it counts on too (a pool's size was then the largest
        # of its terms, not both), and more deadlines slipped in bench/spot_sim.py.
        idle = dataclasses.replace(fleet, ready=(), suspect=0)
        n = launches(idle, (fleet.boot,) * len(reach), 0.0, base, due)
    overhead = n * launch_seconds(fleet, policy)
    share = idle_share(fleet, job)
    risk = spot_risk(fleet, job, policy)
    if risk is None:
        ok = room >= -EPSILON
        finish = earliest_finish(load + base, reach)
        cost = (base * share + overhead) * price
        return _Option(fleet, base, due, ok, finish, cost, 1.0 if ok else 0.0)
    average = base + risk.expected * risk.loss
    cost = (average * share + overhead) * price
    finish = earliest_finish(load + average, reach)
    if job.deadline is None:
        soft_ok = room >= risk.expected * risk.loss - EPSILON
        return _Option(fleet, average, due, soft_ok, finish, cost)
    need = interruptions_to_absorb(risk.expected, policy.confidence)
    if room < -EPSILON:
        fits = -1
    elif risk.loss <= EPSILON:
        fits = MOST_INTERRUPTIONS
    else:
        fits = min(math.floor((room + EPSILON) / risk.loss), MOST_INTERRUPTIONS)
    odds = poisson_cdf(fits, risk.expected)
    if need is not None and fits >= need:
        return _Option(fleet, base + need * risk.loss, due, True, finish, cost, odds, need)
    # Not at the confidence asked: counted with the interruptions expected, should no pool
    # make the deadline and this one finish first.
    return _Option(fleet, average, due, False, finish, cost, odds)
