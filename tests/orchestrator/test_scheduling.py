"""Scheduling decisions as tables: deadline escalation, priority order, round-robin."""

from __future__ import annotations

import pytest

from orchestrator.scheduling import Candidate, choose_dispatch, effective_priority


@pytest.mark.parametrize(
    ("priority", "deadline", "remaining", "expected"),
    [
        ("normal", None, 100.0, "normal"),
        ("normal", 1000.0, 100.0, "normal"),  # plenty of time
        ("normal", 140.0, 100.0, "high"),  # 40 s left, needs 100 * 1.5
        ("high", 140.0, 100.0, "urgent"),
        ("low", -5.0, 10.0, "high"),  # missed: two levels up
        ("urgent", 10.0, 100.0, "urgent"),  # nothing above urgent
        ("normal", 200.0, None, "normal"),  # no estimate yet, deadline ahead
    ],
)
def test_effective_priority(
    priority: str, deadline: float | None, remaining: float | None, expected: str
) -> None:
    assert effective_priority(priority, deadline, 40.0 if deadline else 0.0, remaining) == (
        expected
    )


def cand(job: str, priority: str, pending: int, last: float = 0.0, at: float = 0.0) -> Candidate:
    return Candidate(job, priority, pending, last, at)


@pytest.mark.parametrize(
    ("candidates", "queued", "depth", "expected"),
    [
        # Same priority: jobs take turns, least recently served first.
        (
            [cand("a", "normal", 5, last=2), cand("b", "normal", 5, last=1)],
            [0, 0, 0, 0],
            4,
            ["b", "a", "b", "a"],
        ),
        # A job with fewer chunks drops out of the rotation when it runs out.
        (
            [cand("a", "normal", 1), cand("b", "normal", 3, at=1)],
            [0, 0, 0, 0],
            4,
            ["a", "b", "b", "b"],
        ),
        # Higher priority first.
        ([cand("low", "low", 5), cand("hot", "urgent", 2)], [0, 0, 0, 0], 3, ["hot", "hot", "low"]),
        # The broker is full of low work: urgent chunks still go in (served first by Redis).
        ([cand("low", "low", 5), cand("hot", "urgent", 2)], [0, 0, 0, 2], 2, ["hot", "hot"]),
        # ... but more low work does not.
        ([cand("low", "low", 5)], [0, 0, 0, 2], 2, []),
        # Queued urgent work blocks lower priorities from adding more.
        ([cand("n", "normal", 5)], [1, 0, 0, 0], 1, []),
        ([], [0, 0, 0, 0], 4, []),
    ],
)
def test_choose_dispatch(
    candidates: list[Candidate], queued: list[int], depth: int, expected: list[str]
) -> None:
    assert [job for job, _ in choose_dispatch(candidates, queued, depth)] == expected
