"""What a cluster's finished jobs teach the estimate: planning and merge overheads (medians and a
robust line), and a per-chunk, per-frame and per-unit cost with its spread fitted to the last
jobs' chunks (pure)."""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from orchestrator.estimates import Overheads

#: One-chunk jobs measured before a one-chunk job is priced at their speed-up (lone_speedup).
LONE_JOBS = 2

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
    #: chunks rendered (0: not known)
    chunks: int = 0
    #: median seconds a node's slot waited between one chunk of the job ending and its next
    #: starting (None: no slot ran two)
    chunk_gap: float | None = None
    #: busy seconds of chunks that ran alone on their node, and how much faster per frame they
    #: ran than the job's chunks that ran beside another (None: not both kinds ran)
    alone_seconds: float = 0.0
    alone_speedup: float | None = None
    #: how many cores the job's render could keep busy (``pipeline_parallelism``; 0: unknown)
    pipeline: float = 0.0
    #: what the job took besides planning, its chunks' span (first start to last end) and the
    #: merge: the first chunk's pick-up, the merge's dispatch, the completion (None: unknown)
    idle_seconds: float | None = None
    #: `units` split by feature (``chunking.complexity.complexity_parts`` times the frames
    #: rendered; empty: not known), what per-feature corrections are learned from
    parts: Mapping[str, float] = field(default_factory=dict)
    #: how many of its chunks were the first of their slot, and the seconds each took over the
    #: job's later chunks' rate (``estimate_inputs.slot_starts``; None: not measured)
    first_chunks: int = 0
    start_seconds: float | None = None


def learned_overheads(
    timings: Sequence[JobTiming], prior: Overheads = PRIOR, minimum: int = 1
) -> Overheads:
    """`prior` with startup, the merge's line, the gap between chunks and the idle rest replaced
    by what finished jobs measured, from the `minimum`-th on: medians (a few outliers do not move a
    median), the merge as a line through the jobs' (frames, seconds) (``merge_line``).

    Why from the first job: the planning, the merge and the gap are measured by every job, and
    the first one says more about this cluster than a prior measured elsewhere (on the
    development cluster a prior of 0.5 s planning, 0.1 s a gap and 0.1 s + 0.2 ms a frame merging
    put the cold job 2.5 s and the first two warm ones 16-21 % high, docs/cost.md)."""
    usable = [t for t in timings if t.frames > 0 and t.startup_seconds >= 0 <= t.merge_seconds]
    if not usable or len(usable) < minimum:
        return prior
    startup = statistics.median(t.startup_seconds for t in usable)
    fixed, per_frame = merge_line([(t.frames, t.merge_seconds) for t in usable], prior)
    gaps = [t.chunk_gap for t in usable if t.chunk_gap is not None and t.chunk_gap >= 0]
    gap = statistics.median(gaps) if gaps and len(gaps) >= minimum else prior.per_chunk_seconds
    idle = [t.idle_seconds for t in usable if t.idle_seconds is not None]
    starts = [t.start_seconds for t in usable if t.start_seconds is not None]
    return replace(
        prior,
        startup_seconds=startup,
        merge_seconds=fixed,
        merge_seconds_per_frame=per_frame,
        per_chunk_seconds=gap,
        idle_seconds=max(statistics.median(idle), 0.0) if idle else prior.idle_seconds,
        slot_start_seconds=(
            max(statistics.median(starts), 0.0) if starts else prior.slot_start_seconds
        ),
    )


def merge_line(
    merges: Sequence[tuple[int, float]], prior: Overheads = PRIOR
) -> tuple[float, float]:
    """(Fixed seconds, seconds per frame) of the merge, from jobs' (frames, merge seconds): the
    Theil-Sen line (the median of the slopes between every two jobs of different lengths, then
    the median intercept; one slow merge does not tilt it), each part at least 0; jobs all of
    one length only scale the `prior`'s line through their median."""
    slopes = [
        (m2 - m1) / (f2 - f1)
        for (f1, m1), (f2, m2) in itertools.combinations(merges, 2)
        if f1 != f2
    ]
    if not slopes:
        scale = statistics.median(m / max(prior.merge(f), 1e-9) for f, m in merges)
        return prior.merge_seconds * scale, prior.merge_seconds_per_frame * scale
    slope = max(statistics.median(slopes), 0.0)
    return max(statistics.median(m - slope * f for f, m in merges), 0.0), slope


def alone_speedup(
    timings: Sequence[JobTiming], minimum: int = 1, pipeline: float = 0.0
) -> float | None:
    """How much faster a chunk runs alone on its node than beside others, never below 1: for a
    timeline of this `pipeline` parallelism (``chunking.complexity.pipeline_parallelism``), the
    finished jobs' median gain scaled by how much more of the render can overlap than theirs
    typically could (at most the fastest they measured), once `minimum` jobs measured it and
    said their parallelism; else the median of what they measured; None before `minimum` jobs
    measured it.

    Why scaled: a lone chunk is faster because decode, compositing and encoding overlap on the
    cores its neighbour would take, so a timeline whose compositing dwarfs its encoder (sharpen
    + glow) gains little and one whose encoder is half the work (a vignetted film) up to 1.7x;
    one median priced every one-chunk job as the typical one (docs/cost.md). Why from one job:
    before it, a lone chunk is priced from the node benchmark's CPU over wall time, which said
    1.18x for a vignetted 720p film that ran 1.5x alone, the speed-up the first job had measured
    (+29 % on the 2026-12-07 quiet run)."""
    found = [t for t in timings if t.alone_speedup is not None]
    if len(found) < minimum:
        return None
    gain = statistics.median(max(t.alone_speedup or 1.0, 1.0) - 1.0 for t in found)
    known = [t.pipeline - 1.0 for t in found if t.pipeline > 1.0]
    if pipeline <= 0 or len(known) < minimum or gain <= 0:
        return 1.0 + gain
    typical = statistics.median(known)
    # Never past the fastest the cluster measured: the line through (1, 1) is a guess between
    # the timelines seen, not a law beyond them (a 2x lone chunk on a 2-slot node is all of it).
    most = max(t.alone_speedup or 1.0 for t in found)
    return min(max(1.0 + gain * max(pipeline - 1.0, 0.0) / typical, 1.0), max(most, 1.0))


def without_starts(timings: Sequence[JobTiming], seconds: float) -> list[JobTiming]:
    """Each job's busy seconds less what starting it cost its slots (`seconds` for each chunk
    that was its slot's first, ``Overheads.slot_start_seconds``), what the rate per chunk,
    frame and unit is fitted to; a job's lone seconds likewise where all its chunks ran alone.

    Why: the start is a cost per job and slot, not per unit: left in, it raised the rate a
    long job is priced at and still left a short one short (docs/cost.md)."""
    found = []
    for t in timings:
        spent = min(seconds * t.first_chunks, 0.5 * t.busy_seconds) if seconds > 0 else 0.0
        alone = t.alone_seconds - spent if ran_alone(t) else t.alone_seconds
        found.append(replace(t, busy_seconds=t.busy_seconds - spent, alone_seconds=alone))
    return found


def as_if_busy(timing: JobTiming, speedup: float) -> JobTiming:
    """The job's timing as if each of its chunks had run beside others: its alone chunks'
    seconds times `speedup`."""
    extra = timing.alone_seconds * (speedup - 1.0)
    return replace(timing, busy_seconds=timing.busy_seconds + extra, alone_seconds=0.0)


def as_if_all_busy(timings: Sequence[JobTiming]) -> list[JobTiming]:
    """Each job as if its chunks had all run beside another: its lone seconds times the speed-up
    it measured itself, else the one its parallelism predicts from the others (unchanged before
    a job measured one)."""
    if alone_speedup(timings) is None:
        return list(timings)
    busy = []
    for t in timings:
        own = t.alone_speedup
        speedup = max(own, 1.0) if own is not None else alone_speedup(timings, pipeline=t.pipeline)
        busy.append(t if speedup is None else as_if_busy(t, speedup))
    return busy


def ran_alone(timing: JobTiming) -> bool:
    """Whether all of the job's chunks ran alone on their node (a job of one chunk, or of as
    many as the slots on as many nodes), so that it measured no speed-up of its own: 9/10 of
    its busy seconds at least (the rest: its audio task, which runs beside)."""
    return (
        timing.alone_speedup is None
        and timing.busy_seconds > 0
        and timing.alone_seconds >= 0.9 * timing.busy_seconds
    )


def beside_jobs(
    timings: Sequence[JobTiming],
    measured: Sequence[JobTiming] | None = None,
    minimum: int = 3,
) -> list[JobTiming]:
    """The jobs of `timings` whose chunks did not all run alone, the ones the all-busy rate is
    fitted to, once `minimum` of them rendered; else all of `timings`. `measured`: the same
    jobs as they were recorded, where `timings` are already ``as_if_all_busy`` (which forgets
    which chunks ran alone); default `timings` themselves.

    Why: a job whose chunks all ran alone enters the fit only through the speed-up the model
    assumed for it (``as_if_all_busy``), so its seconds confirm that assumption instead of
    testing it; ``lone_speedup`` measures it against the fit of the others instead."""
    measured = timings if measured is None else measured
    if len(measured) != len(timings):
        raise ValueError(f"{len(measured)} measured jobs for {len(timings)} timings")
    found = [t for t, m in zip(timings, measured, strict=True) if not ran_alone(m)]
    rendered = [t for t in found if t.busy_seconds > 0 and t.rendered_frames > 0 and t.units > 0]
    return found if len(rendered) >= minimum else list(timings)


def lone_speedup(
    timings: Sequence[JobTiming],
    fit: Fit | None,
    units: Callable[[JobTiming], float] = lambda t: t.units,
    minimum: int = 1,
    start: float = 0.0,
) -> float | None:
    """How much faster than `fit`'s all-busy slot-seconds the jobs whose chunks all ran alone
    ran (the median over them of the fit's seconds over theirs, never below 1), None before
    `minimum` such jobs or without a fit. `units`: a job's units as the fit counts them (the
    learned per-feature corrections applied); `start`: what each slot's first chunk of a job
    costs besides (``Overheads.slot_start_seconds``), run at the lone speed as the schedule
    runs it.

    Why: the speed-up credited to a one-chunk job was only ever measured on the tail chunks of
    jobs of many chunks and scaled by a guess (``alone_speedup``); the one-chunk jobs were
    priced 13-32 % short in every run of 2026-12-07 and never taught the model otherwise,
    because ``as_if_all_busy`` turned their seconds into the assumed speed-up's (docs/cost.md)."""
    if fit is None:
        return None
    found = []
    for t in timings:
        if not ran_alone(t) or t.rendered_frames <= 0:
            continue
        predicted = (
            fit.seconds_per_chunk * max(t.chunks, 1)
            + fit.seconds_per_frame * t.rendered_frames
            + fit.seconds_per_unit * units(t)
            + start * max(t.first_chunks, 1)
        )
        found.append(predicted / t.busy_seconds)
    if len(found) < minimum:
        return None
    return max(statistics.median(found), 1.0)


@dataclass(frozen=True)
class Fit:
    """Slot-seconds per chunk, per frame and per unit fitted to finished jobs, and the scatter
    around the fit."""

    seconds_per_frame: float
    seconds_per_unit: float
    #: weighted relative standard deviation of the jobs around the fit
    spread: float
    samples: int
    seconds_per_chunk: float = 0.0


#: What a chunk's slot-seconds may be made of: a cost per chunk (the render process starting,
#: the upload), per frame (whatever it shows) and per complexity unit.
_TERMS: tuple[Callable[[JobTiming], float], ...] = (
    lambda t: float(t.chunks),
    lambda t: float(t.rendered_frames),
    lambda t: t.units,
)


def fit_throughput(
    timings: Sequence[JobTiming], *, decay: float = 0.8, minimum: int = 3, floor: float = 0.05
) -> Fit | None:
    """Fit ``busy = chunks x c + frames x a + units x b`` (each >= 0) to finished jobs, newest
    first in `timings`, each weighing `decay` times the one after it, by relative error (a 10-s
    job counts as much as a 10-min one); None with fewer than `minimum` jobs that rendered.

    Every non-negative fit of a subset of the three terms is tried and the one with the least
    scatter, adjusted for the terms it spends (fewer jobs, fewer terms), is kept (on a tie, the
    per-unit term); the per-chunk term only when every job says how many chunks it rendered.
    Why more than a per-unit rate: on the development cluster a chunk's render process costs
    about half a second to start, and a 320x180 frame a few milliseconds whatever it shows
    (docs/cost.md).
    """
    jobs = [t for t in timings if t.busy_seconds > 0 and t.rendered_frames > 0 and t.units > 0]
    if len(jobs) < minimum:
        return None
    weights = [decay**age / t.busy_seconds**2 for age, t in enumerate(jobs)]
    # The per-unit term first: a tie (jobs of one project, whose frames and units are in one
    # ratio) keeps the cost that carries a new timeline's complexity, not one per frame.
    usable = (2, 1, 0) if all(t.chunks > 0 for t in jobs) else (2, 1)
    xs = [[term(t) for term in _TERMS] for t in jobs]
    ys = [t.busy_seconds for t in jobs]
    best: tuple[float, list[float]] | None = None
    for size in range(1, min(len(usable), len(jobs) - 1) + 1):
        for subset in itertools.combinations(usable, size):
            coefficients = least_squares([[x[i] for i in subset] for x in xs], ys, weights)
            if coefficients is None or min(coefficients) < 0 or max(coefficients) == 0:
                continue
            full = [0.0, 0.0, 0.0]
            for i, c in zip(subset, coefficients, strict=True):
                full[i] = c
            if full[1] <= 0 and full[2] <= 0:
                continue  # a cost per chunk alone cannot price frames
            spread = _scatter(xs, ys, weights, full) * math.sqrt(len(jobs) / (len(jobs) - size))
            if best is None or spread < best[0] - 1e-12:
                best = (spread, full)
    if best is None:
        return None
    spread, (per_chunk, per_frame, per_unit) = best
    return Fit(per_frame, per_unit, max(spread, floor), len(jobs), per_chunk)


def least_squares(
    xs: Sequence[Sequence[float]], ys: Sequence[float], ws: Sequence[float]
) -> list[float] | None:
    """Weighted least squares of y = sum c_i x_i (normal equations, Gaussian elimination);
    None when the terms cannot be told apart (collinear)."""
    n = len(xs[0])
    a = [
        [sum(w * x[i] * x[j] for x, w in zip(xs, ws, strict=True)) for j in range(n)]
        for i in range(n)
    ]
    b = [sum(w * x[i] * y for x, y, w in zip(xs, ys, ws, strict=True)) for i in range(n)]
    scale = max(a[i][i] for i in range(n))
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) <= 1e-12 * scale:
            return None
        a[col], a[pivot], b[col], b[pivot] = a[pivot], a[col], b[pivot], b[col]
        for row in range(col + 1, n):
            f = a[row][col] / a[col][col]
            a[row] = [v - f * p for v, p in zip(a[row], a[col], strict=True)]
            b[row] -= f * b[col]
    out = [0.0] * n
    for row in range(n - 1, -1, -1):
        rest = sum(a[row][j] * out[j] for j in range(row + 1, n))
        out[row] = (b[row] - rest) / a[row][row]
    return out


def _scatter(
    xs: Sequence[Sequence[float]],
    ys: Sequence[float],
    ws: Sequence[float],
    coefficients: Sequence[float],
) -> float:
    """Weighted root mean square of the relative residuals (weights without the 1/y^2)."""
    rel = [
        (sum(c * v for c, v in zip(coefficients, x, strict=True)) - y) / y
        for x, y in zip(xs, ys, strict=True)
    ]
    plain = [w * y * y for w, y in zip(ws, ys, strict=True)]
    return math.sqrt(sum(p * r * r for p, r in zip(plain, rel, strict=True)) / sum(plain))
