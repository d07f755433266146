"""How the autoscaler's reason lines write durations, times of day and node-hours."""

from __future__ import annotations

import datetime as dt
import math

from common.units import format_duration


def span(seconds: float) -> str:
    """A duration as the rest of the product writes it (``common.units.format_duration``: 45s,
    12m00s, 2h05m), so a pool's reason line and ``cloudrender pool`` agree; "never" for an
    endless one either way, "?" for an unknown one, a minus sign for one already past."""
    if math.isinf(seconds):
        return "never"
    if seconds < 0:
        return f"-{format_duration(-seconds)}"
    return format_duration(seconds)


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
