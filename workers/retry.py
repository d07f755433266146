"""Backoff for transient errors: exponential, capped, with jitter over the window's upper half.

A storage or network outage of seconds to a minute or so (an S3 throttling burst, a gateway
restart) must not fail the jobs rendering through it: with the retries below a chunk keeps
trying for at least ``outage_tolerance()`` seconds (about 90). Jitter over the upper half of
each window still spreads the retries of many chunks hit by the same outage; full jitter (from
0) could spend all retries within a dozen seconds (a 20 s outage failed a job a second before
storage came back).
"""

from __future__ import annotations

import random

#: Retries of one chunk after transient errors before the job fails.
MAX_TRANSIENT_RETRIES = 8


def backoff(
    attempt: int, *, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
) -> float:
    """Seconds before retry `attempt` (1-based): uniform in [c/2, c) for c = min(cap,
    base * 2^(n-1))."""
    if attempt < 1:
        raise ValueError(f"attempt must be at least 1, got {attempt}")
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return (rng or random).uniform(ceiling / 2, ceiling)


def outage_tolerance(retries: int = MAX_TRANSIENT_RETRIES, cap: float = 60.0) -> float:
    """The least time ``retries`` backoffs wait in all: the shortest outage that can fail."""
    return sum(min(cap, 2.0 ** (n - 1)) / 2 for n in range(1, retries + 1))
