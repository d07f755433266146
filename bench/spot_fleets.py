"""Which pools each fleet of ``bench/spot_sim.py --diversify`` gets, by price per rendered frame.

The rules of a fair spot-against-on-demand comparison (docs/cost.md, "Spot strategy"):

1. **One offer set.** Both fleets choose from the same catalogue offers: the providers named,
   every region the catalogue lists for them, CPU types for CPU work and GPU types with NVENC
   for GPU work.
2. **Price per frame, one speed rule for every offer** (``bench.node_speed``). A node has its
   catalogue ``relative_speed`` (vCPUs / 2) worker slots, at least one, and renders like that
   many reference slots plus 3 per GPU (its share of a partitioned GPU), whatever the market;
   its list price per frame is its hourly price / that speed. Boot times are the kind's (CPU or
   GPU), whatever the market. Given a history of jobs (``sizes``: a past day of the trace, not
   the days measured), an offer is ranked by its price per frame *at those jobs' sizes*: the
   dollars the autoscaler's own placement expects each of the kind's jobs to cost alone on an
   idle pool of that class (``placement.expected_cost``: the slots a small job leaves idle,
   the boot and idle timeout of every node it launches, spot's expected interruptions), over
   their units; without one, by list price per frame.
3. **The baseline takes its cheapest class.** The on-demand fleet gets, per kind, the offer of
   the lowest on-demand price per frame (by the same measure): spot is measured against the
   best on-demand choice from the same offers, never against a dearer type.
4. **Spot diversifies.** The spot fleet keeps that on-demand pool (the autoscaler moves work
   there when spot cannot make a deadline) and adds the ``spread`` offers of the lowest spot
   price per frame, each its own pool with its own interruption band and its cloud's notice;
   the autoscaler's ``decide`` chooses among them by expected cost, interruptions included.
5. **Same capacity.** Every pool of a kind, in either fleet, holds the whole nodes that cover
   the same speed (the CPU pool 96 reference slots, the GPU pool 40: the single-type fleets'
   24 x c7i.2xlarge and 8 x g5.xlarge), so no pool has less room than the baseline's.

The reference: the on-demand fleet's node-hours at the cheapest spot price per frame of their
kind. Not a strict bound: the spot fleet's node-hours are its own (other node sizes, other idle
slot-hours), so it can pass it a little.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bench.node_speed import node_speed, seconds_per_unit
from orchestrator.autoscaler.interruptions import band_rate
from orchestrator.autoscaler.model import JobDemand, Policy, PoolState, Snapshot
from orchestrator.autoscaler.placement import expected_cost
from orchestrator.autoscaler.sizing import build_fleets
from providers.compute.pools import Pool
from providers.compute.prices.catalogue import Offer

#: The epoch the ranking's jobs are placed at (any: only times relative to it count).
EPOCH = 0.0

#: Reference slots of speed each kind's pool covers, as the single-type fleets (24 c7i.2xlarge
#: of 4, 8 g5.xlarge of 5).
SPEED_CAP = {"cpu": 96.0, "gpu": 40.0}
BOOT_SECONDS = {"cpu": 90.0, "gpu": 180.0}


@dataclass(frozen=True)
class Choice:
    """One offer chosen for a fleet, in one market, and what a frame costs on it."""

    kind: str
    market: str
    offer: Offer

    @property
    def slots(self) -> int:
        """Worker slots of one node: its relative speed, at least one."""
        return max(1, round(self.offer.relative_speed))

    @property
    def price(self) -> float:
        """Dollars per node-hour in this market."""
        return float(self.offer.spot if self.market == "spot" else self.offer.on_demand or 0.0)

    @property
    def speed(self) -> float:
        """Reference slots one node renders like (``bench.node_speed``)."""
        o = self.offer
        return node_speed(o.vcpus, max(o.gpus, 1) if o.gpu else 0, o.instance_type)

    @property
    def per_frame(self) -> float:
        """Dollars per reference slot-hour: the price of a frame, up to the work's constant."""
        return self.price / self.speed

    @property
    def max_nodes(self) -> int:
        """The whole nodes that cover the kind's speed cap (rule 5)."""
        return max(1, math.ceil(SPEED_CAP[self.kind] / self.speed - 1e-9))

    @property
    def name(self) -> str:
        """The pool's name: kind, market, and where (``cpu-spot-aws-us-east-1-c7i.2xlarge``)."""
        short = "od" if self.market == "on-demand" else "spot"
        o = self.offer
        return f"{self.kind}-{short}-{o.provider}-{o.region}-{o.instance_type}"

    def pool(self) -> Pool:
        """The pool the simulated farm runs."""
        o = self.offer
        return Pool(
            self.name, o.provider, o.instance_type, vcpus=o.vcpus, memory_gb=o.memory_gb,
            gpu=o.gpu, gpus=o.gpus, nvenc=o.nvenc, market=self.market, region=o.region,
            max_nodes=self.max_nodes,
            boot_seconds=BOOT_SECONDS[self.kind], price_per_hour=self.price, concurrency=self.slots,
        )  # fmt: skip


@dataclass(frozen=True)
class Sizes:
    """The jobs an offer's price per frame is weighed at, and the policy that places them."""

    jobs: Sequence[JobDemand]
    policy: Policy


def sized_price(choice: Choice, sizes: Sizes) -> float:
    """Dollars per unit of work the kind's jobs of `sizes` cost, each alone on an idle pool of
    the choice's class, as the autoscaler's placement expects them to (rule 2); inf without
    such a job."""
    pool = choice.pool()
    rate = band_rate((float(choice.offer.interruption_low), float(choice.offer.interruption_high)))
    state = PoolState(seconds_per_unit=seconds_per_unit(pool), interruption_rate=rate)
    snapshot = Snapshot(pools={pool.name: state})
    fleet = build_fleets(snapshot, {pool.name: pool}, sizes.policy.idle_timeout, EPOCH)[pool.name]
    mine = [j for j in sizes.jobs if j.needs_gpu == (choice.kind == "gpu") and j.units > 0]
    units = sum(j.units for j in mine)
    if not units:
        return math.inf
    return sum(expected_cost(fleet, j, sizes.policy, EPOCH) for j in mine) / units


def kind_of(offer: Offer) -> str | None:
    """ "cpu" for a CPU type, "gpu" for a GPU type with NVENC, None for a GPU type without."""
    if offer.gpu is None:
        return "cpu"
    return "gpu" if offer.nvenc else None


def choose(
    offers: Iterable[Offer], providers: Iterable[str], spread: int, sizes: Sizes | None = None
) -> dict[str, dict[str, list[Choice]]]:
    """Per kind, the on-demand fleet's one offer and the spot fleet's `spread` offers, each the
    cheapest per frame in its market among `providers`' offers, at the job sizes of `sizes`
    when given (rules 1-4 above)."""
    wanted = set(providers)
    pool = [o for o in offers if o.provider in wanted and kind_of(o) is not None]
    chosen: dict[str, dict[str, list[Choice]]] = {}

    def order(choice: Choice) -> tuple[float, float, str]:
        # Then list price per frame and the name, so equal prices in two regions pick the same
        # one each run.
        sized = sized_price(choice, sizes) if sizes is not None else 0.0
        return (round(sized, 9), round(choice.per_frame, 6), choice.name)

    for kind in SPEED_CAP:
        mine = [o for o in pool if kind_of(o) == kind]
        on_demand = sorted((Choice(kind, "on-demand", o) for o in mine), key=order)
        spot = sorted((Choice(kind, "spot", o) for o in mine if o.spot), key=order)
        if not on_demand:
            raise ValueError(f"no {kind} offer from {', '.join(sorted(wanted))} in the catalogue")
        chosen[kind] = {"on-demand": on_demand[:1], "spot": spot[: max(spread, 0)]}
    return chosen


def spot_bound_share(chosen: dict[str, dict[str, list[Choice]]], kind: str) -> float:
    """The cheapest spot price per frame of `kind` over the on-demand fleet's: what the
    on-demand fleet's node-hours would cost at it, as a share (1.0 without spot)."""
    base = chosen[kind]["on-demand"][0].per_frame
    spot = chosen[kind]["spot"]
    return min(c.per_frame for c in spot) / base if spot else 1.0


def bands(chosen: dict[str, dict[str, list[Choice]]]) -> dict[str, tuple[float, float] | None]:
    """Each spot pool's interruption band from its offer (rates per node-hour)."""
    return {
        c.name: (float(c.offer.interruption_low), float(c.offer.interruption_high))
        for kinds in chosen.values()
        for c in kinds["spot"]
    }
