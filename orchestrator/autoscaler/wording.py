"""How the autoscaler's reason lines write durations, times of day and node-hours."""

from __future__ import annotations

import datetime as dt
import math


def span(seconds: float) -> str:
    """A duration the way an operator reads it: 45s, 12m, 2h05m."""
    if not math.isfinite(seconds):
        return "never"
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    if seconds < 120:
        return f"{sign}{seconds:.0f}s"
    if seconds < 7200:
        return f"{sign}{seconds / 60:.0f}m"
    return f"{sign}{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


def clock(epoch: float) -> str:
    """An epoch second as a UTC time of day."""
    try:
        return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        # An override stored for thousands of years must not fail every pool's round.
        return "the end of time"


def hours(node_seconds: float) -> str:
    """Node-seconds as node-hours with two decimals."""
    return f"{node_seconds / 3600:.2f}"
