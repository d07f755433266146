"""estimate_fit: jobs whose chunks all ran alone (one-chunk jobs) measure the lone-chunk speed-up
against the rate fitted to the others, instead of confirming the one assumed for them."""

from __future__ import annotations

import dataclasses

import pytest

from orchestrator.estimate_fit import (
    LONE_JOBS,
    Fit,
    JobTiming,
    alone_speedup,
    as_if_all_busy,
    beside_jobs,
    fit_throughput,
    lone_speedup,
    ran_alone,
)

#: The all-busy cost on the synthetic cluster: 0.01 s a unit, nothing per frame or chunk.
RATE = 0.01


def many(units: float, chunks: int, tail: float = 0.25) -> JobTiming:
    """A job of several chunks on 2 slots: `tail` of its units ran alone, 1.6x as fast (what
    its own chunks measured), the rest beside another at the all-busy rate."""
    beside, alone = units * (1 - tail) * RATE, units * tail * RATE / 1.6
    return JobTiming(
        frames=int(units),
        startup_seconds=0.05,
        merge_seconds=0.05,
        busy_seconds=beside + alone,
        rendered_frames=int(units),
        units=units,
        chunks=chunks,
        alone_seconds=alone,
        alone_speedup=1.6,
        pipeline=1.8,
    )


def one_chunk(units: float, speedup: float = 1.15) -> JobTiming:
    """A job of one chunk: all of it alone, `speedup` times as fast as the all-busy rate."""
    seconds = units * RATE / speedup
    return JobTiming(
        frames=int(units),
        startup_seconds=0.05,
        merge_seconds=0.05,
        busy_seconds=seconds,
        rendered_frames=int(units),
        units=units,
        chunks=1,
        alone_seconds=seconds,
        pipeline=1.8,
    )


def price_one_chunk(timings: list[JobTiming], units: float, *, lone: bool) -> float:
    """Busy seconds of a new one-chunk job of `units`, as ``api_estimate.estimate_job`` prices
    it: with the one-chunk jobs measured against the others (`lone`), or as before."""
    learned = alone_speedup(timings, pipeline=1.8)
    assert learned is not None
    busy = as_if_all_busy(timings)
    fit = fit_throughput(beside_jobs(busy, timings) if lone else busy)
    assert fit is not None
    if lone and (measured := lone_speedup(timings, fit, minimum=LONE_JOBS)) is not None:
        learned = measured
    work = fit.seconds_per_chunk + units * (fit.seconds_per_frame + fit.seconds_per_unit)
    return work / learned


def test_a_one_chunk_job_is_priced_at_the_speed_up_one_chunk_jobs_had() -> None:
    # Three runs of 2026-12-07 priced p18 29-32 % short: the tails of long jobs ran 1.6x alone,
    # a one-chunk job 1.15x, and as_if_all_busy made the one-chunk jobs agree with 1.6x.
    timings = [
        one_chunk(900.0),
        many(3600.0, 8),
        one_chunk(1500.0),
        many(2400.0, 6),
        many(1200.0, 4),
        many(4800.0, 10),
    ]
    truth = 1200.0 * RATE / 1.15
    before = price_one_chunk(timings, 1200.0, lone=False)
    after = price_one_chunk(timings, 1200.0, lone=True)
    assert before / truth - 1 < -0.15  # the underestimate, reproduced
    assert after == pytest.approx(truth, rel=0.02)
    # One one-chunk job is one draw of the node's load: the tails' speed-up until a second.
    one = price_one_chunk(timings[1:], 1200.0, lone=True)
    assert one == pytest.approx(1200.0 * RATE / alone_speedup(timings[1:], pipeline=1.8), rel=0.02)


def test_which_jobs_ran_alone() -> None:
    assert ran_alone(one_chunk(100.0))
    assert not ran_alone(many(100.0, 4))  # measured its own speed-up
    # Its audio task ran beside (a tenth of its busy seconds): still a lone chunk.
    audio = dataclasses.replace(one_chunk(100.0), busy_seconds=100.0 * RATE / 1.15 / 0.92)
    assert ran_alone(audio)
    half = dataclasses.replace(one_chunk(100.0), alone_seconds=0.3)
    assert not ran_alone(half)
    assert not ran_alone(JobTiming(frames=10, startup_seconds=0.1, merge_seconds=0.1))


def test_the_rate_is_fitted_to_the_other_jobs_once_three_rendered() -> None:
    lone, others = one_chunk(900.0), [many(3600.0, 8), many(2400.0, 6)]
    assert beside_jobs([lone, *others]) == [lone, *others]  # two are too few to fit a rate
    three = [lone, *others, many(1200.0, 4)]
    assert beside_jobs(three) == three[1:]
    # As if all busy, the lone job's chunks no longer say they ran alone: the recorded ones do.
    busy = as_if_all_busy(three)
    assert not ran_alone(busy[0])
    assert beside_jobs(busy, three) == busy[1:]
    with pytest.raises(ValueError, match="3 measured jobs for 4"):
        beside_jobs(busy, three[:3])


@pytest.mark.parametrize(
    ("speedups", "expected"),
    [
        ((1.15,), 1.15),
        ((1.1, 1.3, 1.2), 1.2),  # the median
        ((0.8,), 1.0),  # slower than beside another (a loaded node): never a slow-down
        ((), None),  # no one-chunk job yet
    ],
)
def test_lone_speedup_against_the_fit(speedups: tuple[float, ...], expected: float | None) -> None:
    fit = Fit(seconds_per_frame=0.0, seconds_per_unit=RATE, spread=0.05, samples=3)
    timings = [many(2400.0, 6), *(one_chunk(600.0, s) for s in speedups)]
    found = lone_speedup(timings, fit)
    assert found == (None if expected is None else pytest.approx(expected))


def test_lone_speedup_counts_the_fit_per_chunk_and_frame_and_the_corrected_units() -> None:
    fit = Fit(
        seconds_per_frame=0.001,
        seconds_per_unit=RATE,
        spread=0.05,
        samples=3,
        seconds_per_chunk=0.5,
    )
    job = dataclasses.replace(one_chunk(600.0), busy_seconds=(0.5 + 0.6 + 6.0 * 2) / 1.25)
    job = dataclasses.replace(job, alone_seconds=job.busy_seconds)
    # The units as the corrected fit counts them: twice the recorded ones.
    assert lone_speedup([job], fit, lambda t: 2 * t.units) == pytest.approx(1.25)
    assert lone_speedup([job], None) is None
