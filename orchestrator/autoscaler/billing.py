"""How clouds bill a node's life, as pure functions (the ledger and the simulations use them).

AWS, GCP and Azure bill Linux VMs per second with a one-minute minimum, from the request (boot
time is paid) to termination (idle time is paid); a machine of one's own costs its configured
rate the same way, so local pools are billed alike.
"""

from __future__ import annotations

import math

#: Seconds every node is billed at least (AWS, GCP and Azure Linux VMs).
MINIMUM_SECONDS = 60.0


def billable_seconds(started: float, ended: float, minimum: float = MINIMUM_SECONDS) -> float:
    """Seconds billed for a node that lived from `started` to `ended` (per-second billing with
    a minimum)."""
    if not (math.isfinite(started) and math.isfinite(ended)):
        raise ValueError(f"a node's life needs finite times, not {started!r}..{ended!r}")
    return max(ended - started, 0.0, minimum)


def node_cost(
    started: float, ended: float, price_per_hour: float, minimum: float = MINIMUM_SECONDS
) -> float:
    """Dollars a node costs for its life at `price_per_hour`."""
    return billable_seconds(started, ended, minimum) * price_per_hour / 3600.0


def running_cost(started: float, now: float, price_per_hour: float) -> float:
    """Dollars a still-running node has cost so far (the minimum applies once it ends)."""
    return max(now - started, 0.0) * price_per_hour / 3600.0
