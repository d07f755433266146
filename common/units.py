"""Quantities written for people, the same way in every command and screen."""

from __future__ import annotations

import math


def format_duration(seconds: float) -> str:
    """Seconds as 42s, 3m05s or 2h07m ("never" for an endless span, "?" for an unknown one)."""
    if not math.isfinite(seconds):
        # An ETA or a hold without end (a rate of 0, an infinite override) must not crash
        # the screen or the command that prints it.
        if math.isnan(seconds):
            return "?"
        return "never" if seconds > 0 else "0s"
    whole = max(int(round(seconds)), 0)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def format_size(n: int) -> str:
    """A byte count for people: "1.5 GiB", "12.0 MiB", "300 bytes"."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
