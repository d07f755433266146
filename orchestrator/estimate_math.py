"""The laws under the estimates (``orchestrator.estimates``): how chunks share a node's slots
and cores over time, and the lognormal throughput factor and Poisson interruption counts.

Pure functions of plain numbers.
"""

from __future__ import annotations

import heapq
import itertools
import math
import statistics
from collections.abc import Callable, Sequence

#: z-scores of the 10th and 90th percentiles of a normal distribution.
Z90 = 1.2815515655446004
#: Above this many expected interruptions, Poisson counts are taken from the normal law.
EXACT_POISSON = 500.0


def concurrency_speed(busy: int, slots: int, cores: float, parallelism: float) -> float:
    """How much faster a chunk runs while `busy` of its node's `slots` render than with all of
    them busy: it keeps up to `parallelism` of the node's `cores` busy (decode, composite and
    encode overlap), and busy chunks share the cores. 1 when either is unknown (0)."""
    if cores <= 0 or parallelism <= 0 or slots < 1:
        return 1.0
    busy = min(max(busy, 1), slots)
    return max(1.0, min(parallelism, cores / busy) / min(parallelism, cores / slots))


def shared_schedule(
    durations: Sequence[float], slots: int, speed: Callable[[int], float]
) -> tuple[float, float]:
    """(Makespan, busy slot-seconds) of tasks handed out in order, each to the slot that frees
    first, where `durations` are each task's seconds with every slot busy and all running tasks
    run ``speed(running)`` times as fast (a job's tail, or a job of fewer tasks than slots,
    runs faster on the cores the others left)."""
    if slots < 1:
        raise ValueError(f"slots must be at least 1, got {slots}")
    # Every running task progresses at the same pace, so each one's end is fixed on a clock of
    # work done (`done`); real time advances by the work over the pace between ends.
    ends: list[float] = []
    pending = iter(durations)
    for seconds in itertools.islice(pending, slots):
        heapq.heappush(ends, seconds)
    done = elapsed = busy = 0.0
    while ends:
        running = len(ends)
        step = (ends[0] - done) / speed(running)
        elapsed += step
        busy += step * running
        done = heapq.heappop(ends)
        following = next(pending, None)
        if following is not None:
            heapq.heappush(ends, done + following)
    return elapsed, busy


def sigma(spread: float) -> float:
    """The lognormal sigma whose relative standard deviation is `spread`."""
    return math.sqrt(math.log1p(spread * spread))


def poisson_quantile(mean: float, q: float) -> int:
    """The smallest k with P(N <= k) >= q for N ~ Poisson(mean)."""
    if mean <= 0:
        return 0
    if mean > EXACT_POISSON:  # exp(-mean) would underflow: the normal approximation
        return max(0, math.ceil(mean + statistics.NormalDist().inv_cdf(q) * math.sqrt(mean)))
    k, term = 0, math.exp(-mean)
    total = term
    while total < q and k < 10_000:
        k += 1
        term *= mean / k
        total += term
    return k


def poisson_weights(mean: float) -> list[tuple[int, float]]:
    """(count, probability) pairs covering N ~ Poisson(mean) (deciles beyond EXACT_POISSON)."""
    if mean > EXACT_POISSON:
        return [(poisson_quantile(mean, (i + 0.5) / 10), 0.1) for i in range(10)]
    found, k, weight, covered = [], 0, math.exp(-mean), 0.0
    while covered < 1 - 1e-9 and weight > 0:
        found.append((k, weight))
        covered += weight
        k += 1
        weight *= mean / k
    return found


def factor_probability(seconds: Callable[[float], float], s: float, deadline: float) -> float:
    """P(seconds(F) <= deadline) for F lognormal(0, s); seconds() grows with F."""
    if s == 0:
        return 1.0 if seconds(1.0) <= deadline else 0.0
    lo, hi = -8.0, 8.0  # in standard deviations of log F
    if seconds(math.exp(lo * s)) > deadline:
        return 0.0
    if seconds(math.exp(hi * s)) <= deadline:
        return 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if seconds(math.exp(mid * s)) <= deadline:
            lo = mid
        else:
            hi = mid
    return 0.5 * (1 + math.erf(lo / math.sqrt(2)))
