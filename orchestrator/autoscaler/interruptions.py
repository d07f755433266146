"""Spot interruptions: how often a pool's nodes are reclaimed, and what that risks for a job.

A pool's *interruption rate* is interruptions per node-hour. It is learned from the ledger's own
history (spot nodes of the pool whose life ended by an interruption notice, over the node-hours
they lived) blended with a prior: the catalogue's interruption band for the instance type, or
``DEFAULT_RATE`` without one. The blend is the posterior mean of a Gamma-Poisson model in which
the prior counts as ``PRIOR_NODE_HOURS`` node-hours of evidence at the prior's rate, so a new
pool starts at the catalogue's figure and a pool with a few hundred node-hours behind it follows
its own.

Interruptions of a job's nodes are taken as a Poisson process over the job's node-hours on the
pool: ``poisson_cdf(k, mu)`` is the chance of at most k of them, ``interruptions_to_absorb`` the
fewest a plan must leave room for to hold with a given confidence.

A chunk on spot should finish within the notice its cloud gives (2 minutes on AWS, 30 seconds on
GCP and Azure): the node stops taking chunks when noticed and lets its running ones end, so a
chunk well inside the notice is never re-rendered (``spot_chunk_frames``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from orchestrator.autoscaler.ledger import INTERRUPTED, LedgerNode

#: Seconds of warning each cloud gives before it reclaims a spot node.
NOTICE_SECONDS = {"aws": 120, "gcp": 30, "azure": 30}
#: Interruptions per node-hour assumed with no history and no catalogue band.
DEFAULT_RATE = 0.05
#: How many node-hours of evidence the prior (band or default) is worth.
PRIOR_NODE_HOURS = 20.0
#: The share of the notice a spot chunk may take at the pool's measured speed.
CHUNK_MARGIN = 0.25
#: A plan that must absorb more interruptions than this is no plan.
MOST_INTERRUPTIONS = 500


def notice_seconds(provider: str) -> float:
    """Seconds of notice the provider gives (0 where it gives none we know of)."""
    return float(NOTICE_SECONDS.get(provider, 0))


def band_rate(band: tuple[float, float] | None) -> float | None:
    """The middle of a catalogue band of interruptions per node-hour (None: no usable band)."""
    if band is None:
        return None
    low, high = band
    if not (math.isfinite(low) and low >= 0):
        return None
    if not (math.isfinite(high) and high >= low):
        return low
    return (low + high) / 2


def interruption_rate(
    ledger_nodes: Iterable[LedgerNode],
    pool: str,
    band: tuple[float, float] | None,
    now: float,
) -> float:
    """Interruptions per node-hour of the spot nodes of `pool`: the ledger's history blended with
    the band's middle (or DEFAULT_RATE) worth PRIOR_NODE_HOURS node-hours."""
    prior = band_rate(band)
    if prior is None:
        prior = DEFAULT_RATE
    hours, events = 0.0, 0
    for node in ledger_nodes:
        if node.pool != pool or node.market != "spot":
            continue
        hours += node.node_seconds(now) / 3600.0
        # A noticed node still alive is an interruption already (it leaves within the notice).
        if node.outcome == INTERRUPTED or node.noticed_at is not None:
            events += 1
    return (events + prior * PRIOR_NODE_HOURS) / (hours + PRIOR_NODE_HOURS)


def spot_chunk_frames(
    notice_seconds: float, seconds_per_frame: float, margin: float = CHUNK_MARGIN
) -> int:
    """The most frames a chunk on spot may have: it renders within `margin` x the notice at
    `seconds_per_frame` (at least one frame)."""
    if not seconds_per_frame > 0:
        raise ValueError(f"seconds_per_frame must be above 0, not {seconds_per_frame!r}")
    return max(1, math.floor(margin * max(notice_seconds, 0.0) / seconds_per_frame + 1e-9))


def poisson_cdf(k: int, mu: float) -> float:
    """The chance of at most `k` events when `mu` are expected (a Poisson law)."""
    if k < 0:
        return 0.0
    if mu <= 0:
        return 1.0
    # In logs: exp(-mu) underflows for mu past ~745.
    log_mu = math.log(mu)
    total = sum(math.exp(i * log_mu - mu - math.lgamma(i + 1)) for i in range(k + 1))
    return min(total, 1.0)


def interruptions_to_absorb(mu: float, confidence: float) -> int | None:
    """The fewest interruptions k with P(at most k) >= `confidence` when `mu` are expected
    (None when no plan can: certainty asked while interruptions are expected, or more than
    MOST_INTERRUPTIONS needed)."""
    if mu <= 0:
        return 0
    if confidence >= 1.0 or mu > MOST_INTERRUPTIONS:
        return None
    k, term, total = 0, math.exp(-mu), math.exp(-mu)
    while total < confidence:
        k += 1
        if k > MOST_INTERRUPTIONS:
            return None
        term *= mu / k
        total += term
    return k
