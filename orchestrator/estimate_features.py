"""Per-feature corrections to the complexity weights, learned from a cluster's finished jobs
(pure).

The weights (``chunking.weights``) were measured once, on one renderer and one machine; when the
renderer gets faster at some things and not others (C blending kernels, NumPy effects left as
they were) or the cluster's footage differs from the measurement's, a feature's weight drifts
from what it costs here, and one learned rate per unit cannot follow: it takes the majority's
side and misses the jobs of the feature that drifted (sharpen + glow 16-20 % short in the
2026-12-07 run, docs/cost.md). Each finished job records its units split by feature
(``chunking.complexity.complexity_parts``, kept in its estimate record); the fit here takes
each feature's units times a factor of its own, fitted with the rate to the jobs' slot-seconds
and shrunk toward 1 (the static weight) until enough jobs had the feature.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from chunking.complexity import ENCODE_PART
from orchestrator.estimate_fit import Fit, JobTiming, least_squares

#: Jobs' worth of evidence the static weight counts as: a feature seen in n jobs moves n / (n +
#: PRIOR_JOBS) of the way to what those jobs alone say.
PRIOR_JOBS = 2.0
#: How far a weight is expected to be off (relative standard deviation of a factor before any
#: job): with the jobs' own scatter around the rate, what a noisy cluster's factors are held
#: back by, so a factor follows a render's noise only as far as that noise allows.
PRIOR_SPREAD = 0.4
#: The least scatter a cluster's renders are taken to have (as the rate's fit floors its spread).
MIN_NOISE = 0.05
#: The range a factor is kept in: a weight off by more than 4x is a different feature.
LOWEST, HIGHEST = 0.25, 4.0
#: A feature is learned only where it was at least this share of some job's units: below, a
#: render's own noise (5-10 %) says more about the job than the feature does.
MIN_SHARE = 0.05


@dataclass(frozen=True)
class Corrections:
    """A factor per feature (``complexity_parts``' names; 1 for any not listed) and how many
    jobs taught each."""

    factors: Mapping[str, float] = field(default_factory=dict)
    jobs: Mapping[str, int] = field(default_factory=dict)

    def units(self, parts: Mapping[str, float]) -> float:
        """The corrected total of units split as `parts`."""
        return sum(value * self.factors.get(name, 1.0) for name, value in parts.items())


NONE = Corrections()


def corrected(timing: JobTiming, corrections: Corrections) -> JobTiming:
    """`timing` with its units corrected feature by feature (unchanged without a split)."""
    if not timing.parts:
        return timing
    return replace(timing, units=corrections.units(timing.parts))


def learn_corrections(
    timings: Sequence[JobTiming],
    fit: Callable[[Sequence[JobTiming]], Fit | None],
    *,
    decay: float = 0.9,
    prior_jobs: float = PRIOR_JOBS,
) -> tuple[Corrections, Fit | None]:
    """Factors per feature and the throughput `fit` on the units they correct.

    The factors are fitted with the rate, in one weighted ridge regression: the terms the plain
    `fit` kept (per chunk, per frame, per unit) and, per feature, its units' extra cost, held
    toward none by `prior_jobs` pseudo-jobs; each job weighing `decay` times the next newer, by
    relative error, as the plain fit. The frame and its encoding are never corrected: the rate
    itself is their scale. The rate is then fitted again on the corrected units. NONE and the
    plain fit when the jobs do not split their units or cannot tell a feature from the rate."""
    plain = fit(timings)
    if plain is None:
        return NONE, None
    corrections = _factors(timings, plain, decay, prior_jobs)
    if corrections is None:
        return NONE, plain
    result = fit([corrected(t, corrections) for t in timings])
    if result is None:
        return NONE, plain
    # The factors are fitted to the same jobs as the rate: their scatter around it reads smaller
    # than a new job's will be, by the parameters spent (as the rate's own fit adjusts).
    spent = len(corrections.factors)
    widen = math.sqrt(result.samples / max(result.samples - spent, 1))
    return corrections, replace(result, spread=result.spread * widen)


def _factors(
    timings: Sequence[JobTiming], plain: Fit, decay: float, prior_jobs: float
) -> Corrections | None:
    """Each feature's factor, fitted jointly with the terms of the `plain` fit."""
    jobs = [
        (age, t)
        for age, t in enumerate(timings)
        if t.parts and t.busy_seconds > 0 and t.rendered_frames > 0
    ]
    if plain.seconds_per_unit <= 0:
        return None  # a rate per frame alone: units do not price these jobs, nor their parts
    names = sorted(
        {
            name
            for _, t in jobs
            for name, value in t.parts.items()
            if name != ENCODE_PART and value >= MIN_SHARE * sum(t.parts.values())
        }
    )
    if not names:
        return None
    # Every base term the jobs can tell (the per-chunk one only when each says its chunks),
    # whatever the plain fit kept: a cost it left out would be taken up by the factors. First
    # with the jobs' worth of prior alone, to see how far the jobs scatter once corrected (the
    # plain fit's scatter counts the very drift the factors are for), then held back by it too.
    kept = [0, 1] if all(t.chunks > 0 for _, t in jobs) else [1]
    found = _solve(jobs, names, kept, decay, prior_jobs, 0.0)
    if found is None:
        return None
    kept, solved = found
    noise = _scatter(jobs, names, kept, solved, decay)
    # a factor's spread of PRIOR_SPREAD against that scatter, in the units of the extra seconds
    # per unit (through the rate)
    held = (noise / PRIOR_SPREAD / plain.seconds_per_unit) ** 2
    found = _solve(jobs, names, kept, decay, prior_jobs, held)
    if found is None:
        return None
    kept, solved = found
    terms = len(kept) + 1
    rate = solved[terms - 1]
    counts = {name: sum(1 for _, t in jobs if t.parts.get(name, 0.0) > 0) for name in names}
    factors = {
        name: min(max(1.0 + extra / rate, LOWEST), HIGHEST)
        for name, extra in zip(names, solved[terms:], strict=True)
    }
    return Corrections(factors, counts)


def _solve(
    jobs: Sequence[tuple[int, JobTiming]],
    names: Sequence[str],
    kept: Sequence[int],
    decay: float,
    prior_jobs: float,
    held: float,
) -> tuple[list[int], list[float]] | None:
    """The base terms left and the joint solution, dropping the most negative base term while
    one is negative (as a non-negative fit would); None when it cannot be solved or the rate
    is not positive."""
    kept = list(kept)
    while True:
        solved = _joint(jobs, names, kept, decay, prior_jobs, held)
        if solved is None:
            return None
        negative = [(solved[n], i) for n, i in enumerate(kept) if solved[n] < 0]
        if not negative:
            break
        kept.remove(min(negative)[1])
    return (kept, solved) if solved[len(kept)] > 0 else None


def _scatter(
    jobs: Sequence[tuple[int, JobTiming]],
    names: Sequence[str],
    kept: Sequence[int],
    solved: Sequence[float],
    decay: float,
) -> float:
    """The jobs' weighted relative scatter around the joint solution, widened for the
    parameters it spent, at least MIN_NOISE."""
    squares = total = 0.0
    for age, t in jobs:
        predicted = sum(c * x for c, x in zip(solved, _row(t, names, kept), strict=True))
        squares += decay**age * ((predicted - t.busy_seconds) / t.busy_seconds) ** 2
        total += decay**age
    spent = len(solved)
    widen = len(jobs) / max(len(jobs) - spent, 1)
    return max(math.sqrt(squares / total * widen), MIN_NOISE)


def _row(t: JobTiming, names: Sequence[str], kept: Sequence[int]) -> list[float]:
    """A job's regressors: the kept base terms, its static units, each feature's units."""
    base = (float(t.chunks), float(t.rendered_frames))
    extra = [t.parts.get(name, 0.0) for name in names]
    return [base[i] for i in kept] + [sum(t.parts.values())] + extra


def _joint(
    jobs: Sequence[tuple[int, JobTiming]],
    names: Sequence[str],
    kept: Sequence[int],
    decay: float,
    prior_jobs: float,
    held: float,
) -> list[float] | None:
    """The `kept` base terms (0: per chunk, 1: per frame), the rate per static unit and each
    feature's extra seconds per its unit, by weighted ridge regression (None: collinear)."""
    rows: list[list[float]] = []
    busy: list[float] = []
    weights: list[float] = []
    for age, t in jobs:
        rows.append(_row(t, names, kept))
        busy.append(t.busy_seconds)
        weights.append(decay**age / t.busy_seconds**2)
    # The prior as pseudo-jobs (no extra cost), each worth `prior_jobs` of the typical job that
    # has the feature: of what a job tells of it beyond the rate (its units' part the base
    # terms cannot stand in for), else a feature that grows with the units would be held at 1
    # by any prior, the rate taking its extra cost for every job.
    terms = len(kept) + 1
    count = len(rows)
    for i in range(len(names)):
        column = [r[terms + i] for r in rows[:count]]
        partial = _beyond([r[:terms] for r in rows[:count]], column, weights[:count])
        total = sum(w * x * x for w, x in zip(weights, column, strict=False))
        having = sum(1 for x in column if x > 0)
        rows.append([0.0] * terms + [1.0 if j == i else 0.0 for j in range(len(names))])
        busy.append(0.0)
        # Held back by the larger of two priors: `prior_jobs` jobs' worth of evidence, and
        # `held`, the jobs' scatter against a factor's expected spread (a cluster whose renders
        # vary by 30 % cannot tell a feature that is 20 % of a job from noise). A feature the
        # base terms stand in for entirely cannot be told apart at all: held at 1.
        weights.append(
            max(prior_jobs * partial / having, held) if partial > 1e-6 * total else 1e6 * total
        )
    return least_squares(rows, busy, weights)


def _beyond(base: Sequence[Sequence[float]], column: Sequence[float], ws: Sequence[float]) -> float:
    """The weighted sum of squares of `column` left once the `base` terms explain what they can
    of it (the information its coefficient has beyond theirs)."""
    coefficients = least_squares(base, column, ws) or [0.0] * len(base[0])
    left = [
        x - sum(c * b for c, b in zip(coefficients, row, strict=True))
        for row, x in zip(base, column, strict=True)
    ]
    return sum(w * r * r for w, r in zip(ws, left, strict=True))
