"""Per-feature corrections learned from finished jobs (orchestrator.estimate_features)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import pytest

from orchestrator import estimate_features
from orchestrator.estimate_features import (
    HIGHEST,
    NONE,
    Corrections,
    corrected,
    learn_corrections,
)
from orchestrator.estimate_fit import Fit, JobTiming, fit_throughput

#: What a chunk of this made-up cluster costs: start-up, per frame, per unit.
CHUNK, FRAME, UNIT = 0.5, 0.002, 0.01


def job(
    frames: int, parts: Mapping[str, float], truth: Mapping[str, float], chunks: int = 4
) -> JobTiming:
    """A finished job of `frames` whose units per frame are `parts` as the static weights price
    them, and whose slot-seconds are what each part really costs (`truth`: factor per part)."""
    units = {name: value * frames for name, value in parts.items()}
    real = sum(value * truth.get(name, 1.0) for name, value in units.items())
    busy = CHUNK * chunks + FRAME * frames + UNIT * real
    return JobTiming(
        frames=frames,
        startup_seconds=0.1,
        merge_seconds=0.2,
        busy_seconds=busy,
        rendered_frames=frames,
        units=sum(units.values()),
        chunks=chunks,
        parts=units,
    )


def plain(timings: Sequence[JobTiming]) -> Fit | None:
    return fit_throughput(timings, decay=0.9)


#: Six kinds of job: an encoder-only one, layers, and two effects on some of them.
MIX = [
    (600, {"encode": 1.0}),
    (1200, {"encode": 1.0, "layer": 1.1}),
    (300, {"encode": 2.0, "layer": 2.2, "effect:sharpen": 1.5, "effect:glow": 2.0}),
    (600, {"encode": 1.0, "layer": 3.3, "effect:blur": 2.0}),
    (900, {"encode": 0.5, "layer": 0.6, "effect:sharpen": 0.8, "effect:glow": 1.0}),
    (300, {"encode": 2.0, "layer": 4.4}),
    (1200, {"encode": 1.0, "layer": 1.1, "effect:blur": 1.0}),
    (600, {"encode": 1.0, "layer": 2.2, "effect:sharpen": 1.5, "effect:glow": 2.0}),
]


def test_a_feature_that_costs_more_than_its_weight_gets_a_factor_above_one() -> None:
    # sharpen and glow cost 1.5x their weights here, blur 0.7x; layers and the encoder as priced
    truth = {"effect:sharpen": 1.5, "effect:glow": 1.5, "effect:blur": 0.7}
    jobs = [job(frames, parts, truth) for frames, parts in MIX * 3]
    corrections, fit = learn_corrections(jobs, plain)
    assert fit is not None
    assert "encode" not in corrections.factors  # the rate is the encoder's scale
    # shrunk toward 1 by the prior (2 jobs' worth against 9 that had them)
    assert 1.3 < corrections.factors["effect:sharpen"] < 1.5
    assert 1.3 < corrections.factors["effect:glow"] < 1.5
    assert 0.7 < corrections.factors["effect:blur"] < 0.8
    assert corrections.factors["layer"] == pytest.approx(1.0, abs=0.1)
    assert fit.seconds_per_unit == pytest.approx(UNIT, rel=0.1)
    # a new sharpen + glow job is priced near what it costs; the plain fit missed it
    new = job(450, MIX[2][1], truth)
    predicted = (
        fit.seconds_per_chunk * new.chunks
        + fit.seconds_per_frame * new.rendered_frames
        + fit.seconds_per_unit * corrected(new, corrections).units
    )
    assert predicted == pytest.approx(new.busy_seconds, rel=0.05)
    base = plain(jobs)
    assert base is not None
    missed = (
        base.seconds_per_chunk * new.chunks
        + base.seconds_per_frame * new.rendered_frames
        + base.seconds_per_unit * new.units
    )
    assert abs(missed - new.busy_seconds) > 2 * abs(predicted - new.busy_seconds)


def test_weights_that_hold_are_left_alone() -> None:
    jobs = [job(frames, parts, {}) for frames, parts in MIX * 2]
    corrections, _ = learn_corrections(jobs, plain)
    for name, factor in corrections.factors.items():
        assert factor == pytest.approx(1.0, abs=0.02), name


def test_a_feature_seen_once_moves_only_part_of_the_way() -> None:
    truth = {"effect:filmgrain": 2.0}
    few = [job(frames, parts, truth) for frames, parts in MIX]
    grain = {"encode": 1.0, "layer": 1.1, "effect:filmgrain": 3.0}
    once, _ = learn_corrections([job(600, grain, truth), *few], plain)
    thrice, _ = learn_corrections([job(f, grain, truth) for f in (600, 300, 900)] + few, plain)
    assert 1.1 < once.factors["effect:filmgrain"] < thrice.factors["effect:filmgrain"] < 2.0
    assert once.jobs["effect:filmgrain"] == 1 and thrice.jobs["effect:filmgrain"] == 3


def test_factors_stay_in_range() -> None:
    truth = {"effect:sharpen": 50.0}
    jobs = [job(frames, parts, truth) for frames, parts in MIX * 3]
    corrections, _ = learn_corrections(jobs, plain)
    assert corrections.factors["effect:sharpen"] <= HIGHEST


@pytest.mark.parametrize(
    "jobs",
    [
        [],  # nothing finished
        [job(600, {"encode": 1.0, "layer": 1.0}, {})] * 2,  # too few to fit a rate
    ],
)
def test_nothing_is_learned_without_a_rate(jobs: list[JobTiming]) -> None:
    assert learn_corrections(jobs, plain) == (NONE, None)


def test_jobs_without_a_split_leave_the_plain_fit() -> None:
    jobs = [
        JobTiming(
            frames=f, startup_seconds=0.1, merge_seconds=0.2, busy_seconds=b,
            rendered_frames=f, units=u, chunks=2,
        )
        for f, b, u in ((100, 3.0, 200.0), (200, 5.0, 420.0), (300, 8.0, 700.0))
    ]  # fmt: skip
    corrections, fit = learn_corrections(jobs, plain)
    assert corrections == NONE
    assert fit == plain(jobs)


def test_a_feature_too_small_to_measure_is_not_corrected() -> None:
    # a title is 0.1 % of each job: what it seems to cost is the render's noise
    parts = {"encode": 1.0, "layer": 1.0, "title": 0.002}
    jobs = [job(f, parts, {"title": 30.0}) for f in (300, 600, 900, 1200)]
    corrections, _ = learn_corrections(jobs, plain)
    assert "title" not in corrections.factors


@pytest.mark.parametrize(
    ("factors", "parts", "units"),
    [
        ({}, {"encode": 1.0, "layer": 2.0}, 3.0),
        ({"layer": 0.5}, {"encode": 1.0, "layer": 2.0}, 2.0),
        ({"effect:glow": 2.0}, {"encode": 1.0}, 1.0),  # a factor for a part it has not
    ],
)
def test_corrections_units(
    factors: dict[str, float], parts: dict[str, float], units: float
) -> None:
    assert Corrections(factors).units(parts) == pytest.approx(units)


def test_a_noisy_cluster_holds_its_factors_back(monkeypatch: pytest.MonkeyPatch) -> None:
    # renders that vary by about 30 % whatever they show: no weight is off, nothing to learn
    swings = [1.35, 0.7, 1.2, 0.75, 1.4, 0.8, 1.1, 0.65, 1.3, 0.9, 1.25, 0.7]
    jobs = [
        dataclasses.replace(t, busy_seconds=t.busy_seconds * swing)
        for t, swing in zip([job(f, p, {}) for f, p in MIX * 2], swings * 2, strict=False)
    ]

    def worst(found: Corrections) -> float:
        return max(abs(f - 1.0) for f in found.factors.values())

    held, _ = learn_corrections(jobs, plain)
    monkeypatch.setattr(estimate_features, "PRIOR_SPREAD", 1e9)  # jobs' worth of prior alone
    chased, _ = learn_corrections(jobs, plain)
    assert worst(held) < 0.5 * worst(chased)
    assert worst(held) < 0.25
