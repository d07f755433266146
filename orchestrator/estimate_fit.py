"""What a cluster's finished jobs teach the estimate: planning and merge overheads as medians,
and a per-frame plus per-unit cost with its spread fitted to the last jobs' chunks (pure)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

from orchestrator.estimates import Overheads

#: The overheads assumed before any job has finished.
PRIOR = Overheads()


@dataclass(frozen=True)
class JobTiming:
    """What a finished job measured: planning, the merge, and the slot-seconds its chunks took
    for the frames and units it rendered (0 when unknown)."""

    frames: int
    #: submission to the job rendering (planning: media ids, probing, the chunk plan)
    startup_seconds: float
    merge_seconds: float
    busy_seconds: float = 0.0
    rendered_frames: int = 0
    units: float = 0.0


def learned_overheads(
    timings: Sequence[JobTiming], prior: Overheads = PRIOR, minimum: int = 3
) -> Overheads:
    """`prior` with startup and merge per frame replaced by the medians of finished jobs'
    measurements, once there are `minimum` of them (a few outliers do not move a median)."""
    usable = [t for t in timings if t.frames > 0 and t.startup_seconds >= 0 <= t.merge_seconds]
    if len(usable) < minimum:
        return prior
    startup = statistics.median(t.startup_seconds for t in usable)
    per_frame = statistics.median(
        max(t.merge_seconds - prior.merge_seconds, 0.0) / t.frames for t in usable
    )
    return replace(prior, startup_seconds=startup, merge_seconds_per_frame=per_frame)


@dataclass(frozen=True)
class Fit:
    """Slot-seconds per frame and per unit fitted to finished jobs, and the scatter around it."""

    seconds_per_frame: float
    seconds_per_unit: float
    #: weighted relative standard deviation of the jobs around the fit
    spread: float
    samples: int


def fit_throughput(
    timings: Sequence[JobTiming], *, decay: float = 0.8, minimum: int = 3, floor: float = 0.05
) -> Fit | None:
    """Fit ``busy = frames x a + units x b`` (a, b >= 0) to finished jobs, newest first in
    `timings`, each weighing `decay` times the one after it, by relative error (a 10-s job counts
    as much as a 10-min one); None with fewer than `minimum` jobs that rendered something.

    Why two terms: on the development cluster a 320x180 frame costs about 8 ms whatever it
    shows, which a per-unit rate alone spreads over its units (docs/cost.md).
    """
    jobs = [t for t in timings if t.busy_seconds > 0 and t.rendered_frames > 0 and t.units > 0]
    if len(jobs) < minimum:
        return None
    weights = [decay**age / t.busy_seconds**2 for age, t in enumerate(jobs)]
    xs = [(float(t.rendered_frames), t.units) for t in jobs]
    ys = [t.busy_seconds for t in jobs]
    a, b = _least_squares(xs, ys, weights)
    if a < 0 or b < 0:
        # One term alone: whichever fits better (both non-negative by construction).
        only_a = _one_term(xs, ys, weights, 0)
        only_b = _one_term(xs, ys, weights, 1)
        a, b = min(((only_a, 0.0), (0.0, only_b)), key=lambda ab: _scatter(xs, ys, weights, *ab))
    if a == 0 == b:
        return None
    dof = max(len(jobs) - 2, 1)
    spread = _scatter(xs, ys, weights, a, b) * math.sqrt(len(jobs) / dof)
    return Fit(a, b, max(spread, floor), len(jobs))


def _least_squares(
    xs: Sequence[tuple[float, float]], ys: Sequence[float], ws: Sequence[float]
) -> tuple[float, float]:
    """Weighted least squares of y = a x0 + b x1 (the 2x2 normal equations)."""
    s00 = sum(w * x0 * x0 for (x0, _), w in zip(xs, ws, strict=True))
    s01 = sum(w * x0 * x1 for (x0, x1), w in zip(xs, ws, strict=True))
    s11 = sum(w * x1 * x1 for (_, x1), w in zip(xs, ws, strict=True))
    t0 = sum(w * x0 * y for (x0, _), y, w in zip(xs, ys, ws, strict=True))
    t1 = sum(w * x1 * y for (_, x1), y, w in zip(xs, ys, ws, strict=True))
    det = s00 * s11 - s01 * s01
    if abs(det) <= 1e-12 * max(s00 * s11, 1e-300):
        return -1.0, -1.0  # collinear (every job alike): one term
    return (t0 * s11 - t1 * s01) / det, (t1 * s00 - t0 * s01) / det


def _one_term(
    xs: Sequence[tuple[float, float]], ys: Sequence[float], ws: Sequence[float], i: int
) -> float:
    """Weighted least squares of y = c x_i."""
    den = sum(w * x[i] * x[i] for x, w in zip(xs, ws, strict=True))
    return sum(w * x[i] * y for x, y, w in zip(xs, ys, ws, strict=True)) / den if den else 0.0


def _scatter(
    xs: Sequence[tuple[float, float]],
    ys: Sequence[float],
    ws: Sequence[float],
    a: float,
    b: float,
) -> float:
    """Weighted root mean square of the relative residuals (weights without the 1/y^2)."""
    rel = [((a * x0 + b * x1) - y) / y for (x0, x1), y in zip(xs, ys, strict=True)]
    plain = [w * y * y for w, y in zip(ws, ys, strict=True)]
    return math.sqrt(sum(p * r * r for p, r in zip(plain, rel, strict=True)) / sum(plain))
