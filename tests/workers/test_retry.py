"""Backoff for transient errors: exponential growth, a cap, jitter over the window's upper
half, and a retry budget that outlasts a short storage outage."""

from __future__ import annotations

import random

import pytest

from workers.retry import backoff, outage_tolerance


@pytest.mark.parametrize(
    ("attempt", "ceiling"), [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (30, 60.0)]
)
def test_backoff_stays_in_the_upper_half_of_a_capped_window(attempt: int, ceiling: float) -> None:
    rng = random.Random(7)
    delays = [backoff(attempt, rng=rng) for _ in range(500)]
    assert all(ceiling / 2 <= d < ceiling for d in delays)
    # Spread over that half, not bunched at one end.
    assert min(delays) < ceiling * 0.55 and max(delays) > ceiling * 0.95


def test_the_retries_outlast_a_storage_outage_of_a_minute_and_a_half() -> None:
    """A 20 s S3 outage failed a job with five fully jittered retries (19 s in all)."""
    assert 90 <= outage_tolerance() <= 95
    assert outage_tolerance(retries=5) < 20  # what it was, at best


def test_backoff_rejects_attempt_zero() -> None:
    with pytest.raises(ValueError):
        backoff(0)
