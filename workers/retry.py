"""Backoff for transient errors: exponential, capped, with full jitter."""

from __future__ import annotations

import random

#: Retries of one chunk after transient errors before the job fails.
MAX_TRANSIENT_RETRIES = 5


def backoff(
    attempt: int, *, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
) -> float:
    """Seconds before retry `attempt` (1-based): uniform in [0, min(cap, base * 2^(n-1)))."""
    if attempt < 1:
        raise ValueError(f"attempt must be at least 1, got {attempt}")
    ceiling = min(cap, base * 2 ** (attempt - 1))
    # Full jitter spreads retries of many chunks hit by the same outage over the window.
    return (rng or random).uniform(0, ceiling)
