"""Backoff for transient errors: exponential growth, a cap, full jitter."""

from __future__ import annotations

import random

import pytest

from workers.retry import backoff


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (30, 60.0)]
)
def test_backoff_stays_under_an_exponential_capped_ceiling(attempt: int, ceiling: float) -> None:
    rng = random.Random(7)
    delays = [backoff(attempt, rng=rng) for _ in range(500)]
    assert all(0 <= d < ceiling for d in delays)
    # Full jitter: spread over the whole window, not bunched at its top.
    assert min(delays) < ceiling * 0.1 and max(delays) > ceiling * 0.9


def test_backoff_rejects_attempt_zero() -> None:
    with pytest.raises(ValueError):
        backoff(0)
