"""Scheduling decisions as tables: deadline escalation, priority order, round-robin."""

from __future__ import annotations

import pytest

from common.errors import RenderError
from orchestrator.scheduling import (
    Candidate,
    DueJob,
    choose_dispatch,
    edf_levels,
    effective_priority,
    pool_changes,
)


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


@pytest.mark.parametrize(
    ("jobs", "expected"),
    [
        # A job far behind (escalated at once) lifts the job due sooner to its level: in
        # bench/spot_sim.py seed 3 the one-chunk job due in 5 min waited at normal behind a
        # 558-chunk job due in 44 min at high, and missed by 4 s.
        (
            [("far", "normal", "high", 2660.0), ("soon", "normal", "normal", 292.0)],
            {"far": "high", "soon": "high"},
        ),
        # A job due later is not lifted by one escalated before it.
        (
            [("soon", "normal", "high", 100.0), ("later", "normal", "normal", 900.0)],
            {"soon": "high", "later": "normal"},
        ),
        # Nobody escalated: nobody moves.
        (
            [("a", "normal", "normal", 100.0), ("b", "low", "low", 50.0)],
            {"a": "normal", "b": "low"},
        ),
        # A lower priority due sooner keeps its level: the submitter's order stands.
        (
            [("far", "normal", "high", 2660.0), ("soon", "low", "low", 292.0)],
            {"far": "high", "soon": "low"},
        ),
        # A higher priority due sooner is lifted to at least the level (never lowered).
        (
            [("far", "low", "normal", 2660.0), ("soon", "high", "high", 292.0)],
            {"far": "normal", "soon": "high"},
        ),
        (
            [("far", "high", "urgent", 2660.0), ("soon", "high", "high", 292.0)],
            {"far": "urgent", "soon": "urgent"},
        ),
        # The same deadline: they lift each other.
        (
            [("a", "normal", "normal", 500.0), ("b", "normal", "high", 500.0)],
            {"a": "high", "b": "high"},
        ),
        # Lifting passes through several deadlines, the highest level wins.
        (
            [
                ("c", "normal", "high", 900.0),
                ("b", "normal", "normal", 600.0),
                ("a", "normal", "normal", 300.0),
            ],
            {"a": "high", "b": "high", "c": "high"},
        ),
        ([], {}),
    ],
)
def test_edf_levels(jobs: list[tuple[str, str, str, float]], expected: dict[str, str]) -> None:
    assert edf_levels([DueJob(*j) for j in jobs]) == expected


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


@pytest.mark.parametrize(
    ("pools", "target", "changes"),
    [
        ({"a": 2}, 2, {}),
        ({"a": 2}, 5, {"a": 3}),
        ({"a": 4}, 1, {"a": -3}),
        # growth goes to the smallest pools, ties by name
        ({"a": 1, "b": 3}, 6, {"a": 2}),
        ({"a": 1, "b": 3}, 8, {"a": 3, "b": 1}),
        ({"b": 2, "a": 2}, 5, {"a": 1}),
        # shrinking takes from the largest, and never empties a node
        ({"a": 1, "b": 4}, 3, {"b": -2}),
        ({"a": 3, "b": 3, "c": 1}, 4, {"a": -2, "b": -1}),
        ({"a": 2, "b": 2}, 2, {"a": -1, "b": -1}),
    ],
)
def test_pool_changes_spread_slots_evenly(
    pools: dict[str, int], target: int, changes: dict[str, int]
) -> None:
    assert pool_changes(pools, target) == changes
    after = {n: pools[n] + changes.get(n, 0) for n in pools}
    assert sum(after.values()) == target and min(after.values()) >= 1


@pytest.mark.parametrize(
    ("pools", "target", "problem"),
    [
        ({}, 4, "no live worker nodes"),
        ({"a": 1, "b": 1, "c": 2}, 2, "3 worker nodes need at least 3 slots"),
    ],
)
def test_pool_changes_refuses_what_cannot_be_done(
    pools: dict[str, int], target: int, problem: str
) -> None:
    with pytest.raises(RenderError, match=problem):
        pool_changes(pools, target)
