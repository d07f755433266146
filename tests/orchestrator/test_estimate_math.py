"""How chunks share slots and cores, and Poisson counts (orchestrator.estimate_math)."""

from __future__ import annotations

import pytest

from orchestrator.estimate_math import concurrency_speed, poisson_quantile, shared_schedule


@pytest.mark.parametrize(
    ("durations", "slots", "makespan"),
    [
        ([3, 3, 3, 3], 2, 6),
        ([3, 3, 3], 2, 6),  # the third waits for a slot
        # In plan order, as the dispatcher hands chunks out: the long last chunk starts late
        # (longest-first would give 4).
        ([1, 1, 4], 2, 5),
        ([2, 3], 8, 3),  # more slots than chunks: the longest chunk
        ([], 2, 0),
    ],
)
def test_the_schedule_hands_chunks_out_in_order(
    durations: list[float], slots: int, makespan: float
) -> None:
    # at one pace whatever runs: busy for the whole work
    assert shared_schedule(durations, slots, lambda running: 1.0) == pytest.approx(
        (makespan, sum(durations))
    )


def lone(running: int) -> float:
    """Two slots on two cores: a chunk alone runs 1.5 times as fast."""
    return 1.5 if running == 1 else 1.0


@pytest.mark.parametrize(
    ("durations", "makespan", "busy"),
    [
        ([3.0], 2.0, 2.0),  # alone from the start
        ([3.0, 3.0, 3.0], 3.0 + 2.0, 6.0 + 2.0),  # the third runs alone: the tail speeds up
        # the short one ends at 1; the long one has 2 of 3 s left, alone: 1 + 2 / 1.5
        ([1.0, 3.0], 1.0 + 2.0 / 1.5, 2.0 + 2.0 / 1.5),
        ([3.0, 3.0], 3.0, 6.0),  # side by side to the end
    ],
)
def test_shared_schedule_speeds_up_the_tail(
    durations: list[float], makespan: float, busy: float
) -> None:
    assert shared_schedule(durations, 2, lone) == pytest.approx((makespan, busy))


@pytest.mark.parametrize(
    ("mean", "q", "k"),
    [
        (0.0, 0.9, 0),
        (0.1, 0.5, 0),
        (0.1, 0.95, 1),
        (1.0, 0.9, 2),
        (3.0, 0.1, 1),
        (3.0, 0.9, 5),
        (400.0, 0.9, 426),  # exact: 400 + 1.28 x 20 = 425.6
        (10_000.0, 0.9, 10_129),  # normal approximation: 10000 + 1.2816 x 100
    ],
)
def test_poisson_quantile(mean: float, q: float, k: int) -> None:
    assert poisson_quantile(mean, q) == k


@pytest.mark.parametrize(
    ("busy", "slots", "cores", "parallelism", "speed"),
    [
        (2, 2, 2.0, 1.5, 1.0),  # every slot busy: the learned rate
        (1, 2, 2.0, 1.5, 1.5),  # alone on a 2-core node: a chunk keeps 1.5 cores busy
        (1, 2, 2.0, 3.0, 2.0),  # ... but not more than the node has
        (1, 2, 2.0, 0.8, 1.0),  # a chunk that cannot use one core gains nothing
        (1, 4, 8.0, 1.5, 1.0),  # 2 cores a slot already cover what a chunk uses
        (1, 4, 2.0, 1.5, 3.0),  # half a core a slot, alone: 1.5 cores
        (2, 4, 2.0, 1.5, 2.0),
        (1, 1, 2.0, 1.5, 1.0),
        (1, 2, 0.0, 1.5, 1.0),  # unknown: no speed-up
        (1, 2, 2.0, 0.0, 1.0),
    ],
)
def test_concurrency_speed(
    busy: int, slots: int, cores: float, parallelism: float, speed: float
) -> None:
    assert concurrency_speed(busy, slots, cores, parallelism) == pytest.approx(speed)
