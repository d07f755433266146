"""bench/estimate_noise.py: a repeat's difference split by where it went; the range's
calibration."""

from __future__ import annotations

from typing import Any

import pytest

from bench.estimate_noise import binomial_two_sided, calibration, repeat_split


def row(name: str, actual: float, busy: float, **extra: Any) -> dict[str, Any]:
    """A project's row as estimate_accuracy records it (startup, idle and merge 0.1 s each)."""
    return {"name": name, "actual_seconds": actual, "busy_seconds": busy, "chunks": 4,
            "startup_seconds": 0.1, "idle_seconds": 0.1, "merge_seconds": 0.1,
            "repeat": "." in name, **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("again", "expected"),
    [
        # Faster chunks: the render itself, not the overheads.
        (
            row("p01.2", 9.0, 16.0),
            {"time_pct": -10.0, "busy_pct": -20.0, "span_seconds": -1.0, "besides_seconds": 0.0},
        ),  # fmt: skip
        # The same chunks, a slower merge: the overheads.
        (
            row("p01.2", 10.5, 20.0, merge_seconds=0.6),
            {"time_pct": 5.0, "busy_pct": 0.0, "span_seconds": 0.0, "besides_seconds": 0.5},
        ),  # fmt: skip
    ],
)
def test_a_repeat_is_split_into_its_render_and_what_besides(
    again: dict[str, Any], expected: dict[str, float]
) -> None:
    (got,) = repeat_split([row("p01", 10.0, 20.0, load=2.0), {**again, "load": 3.0}])
    assert {k: got[k] for k in expected} == pytest.approx(expected)
    assert got["name"] == "p01.2" and got["load"] == [2.0, 3.0]


def test_a_repeat_without_its_first_render_or_busy_seconds_is_left_out() -> None:
    assert repeat_split([row("p02.2", 9.0, 16.0)]) == []
    assert repeat_split([row("p01", 10.0, 0.0), row("p01.2", 9.0, 16.0)]) == []


def ranged(actual: float) -> dict[str, Any]:
    return {"actual_seconds": actual, "seconds_low": 9.0, "seconds_high": 11.0}


@pytest.mark.parametrize(
    ("actuals", "counts"),
    [
        ([10.0] * 8 + [8.0, 12.0], (1, 8, 1)),
        ([10.0] * 10, (0, 10, 0)),
        ([8.0] * 6 + [10.0] * 4, (6, 4, 0)),
        ([9.0, 11.0], (0, 2, 0)),  # the ends are inside
    ],
)
def test_calibration_counts_below_inside_and_above(
    actuals: list[float], counts: tuple[int, int, int]
) -> None:
    got = calibration([ranged(a) for a in actuals])
    assert (got["below"], got["inside"], got["above"]) == counts
    assert got["count"] == len(actuals)


def test_chance_says_whether_a_share_inside_is_far_from_80_percent() -> None:
    # 20 of 22 inside (91 %, the 11:35 run) is chance for an 80 % range; 13 of 22 (59 %,
    # 2026-12-03) is not: that range was too narrow.
    assert binomial_two_sided(20, 22, 0.8) > 0.2
    assert binomial_two_sided(13, 22, 0.8) < 0.05
    assert binomial_two_sided(8, 10, 0.8) == pytest.approx(1.0)
    assert calibration([])["chance"] is None
    with pytest.raises(ValueError, match="within 0..5"):
        binomial_two_sided(6, 5, 0.8)


def test_the_accuracy_report_prints_the_split_and_the_calibration(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench.estimate_report import report

    project = {**row("p01", 10.0, 20.0), **ranged(10.0), "cold": False, "size": "320x180",
               "seconds": 20, "layers": 1, "effects": "none", "transitions": False,
               "titles": False, "estimated_seconds": 10.0, "seconds_error_pct": 0.0,
               "estimated_cost": 1e-4, "actual_cost": 1e-4, "cost_error_pct": 0.0,
               "corrections": {}}  # fmt: skip
    empty = {"count": 0}
    result = {
        "projects": [project],
        **dict.fromkeys(
            (
                "time_warm",
                "cost_warm",
                "time_warm_static",
                "cost_warm_static",
                "time_all",
                "cost_all",
            ),
            empty,
        ),  # fmt: skip
        "in_range": 1.0,
        "range": calibration([project]),
        "repeat_difference_pct": [10.0],
        "repeats": repeat_split([project, {**row("p01.2", 9.0, 16.0), "load": 3.0}]),
    }
    report(result)
    out = capsys.readouterr().out
    assert "below p10 0, inside 1, above p90 0 of 1" in out
    assert "p01.2: time -10.0 %, chunks' busy seconds -20.0 %, their span -1.00 s" in out
