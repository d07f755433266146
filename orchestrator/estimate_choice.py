"""The option to take among a job's estimates (``orchestrator.estimates``): the cheapest that
makes the deadline with the asked confidence within the cost limit, else the likeliest (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.estimates import OptionEstimate

#: Default probability a recommended option must make the deadline with.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Recommendation:
    """The option to take (None when none fits) and why, in one line."""

    choice: OptionEstimate | None
    reason: str


def recommend(
    estimates: Sequence[OptionEstimate],
    deadline: float | None,
    max_cost: float | None,
    confidence: float = CONFIDENCE,
) -> Recommendation:
    """The cheapest option (median cost) that makes the deadline with `confidence` and whose
    high cost stays within `max_cost`; else the likeliest to make it within `max_cost`; else
    none."""
    if not 0 < confidence <= 1:
        raise ValueError(f"confidence must be in (0, 1], got {confidence}")
    if not estimates:
        return Recommendation(None, "no option: no pool matches the filters")
    affordable = [e for e in estimates if max_cost is None or e.cost.high <= max_cost]
    budget = "" if max_cost is None else f" within ${max_cost:.4f}"
    if not affordable:
        cheapest = min(estimates, key=lambda e: e.cost.high)
        return Recommendation(
            None,
            f"nothing fits max_cost ${max_cost or 0:.4f}: the cheapest, {cheapest.name}, may "
            f"cost up to ${cheapest.cost.high:.4f} (raise the limit)",
        )
    if deadline is None:
        best = min(affordable, key=lambda e: (e.cost.p50, e.seconds.p50))
        return Recommendation(best, f"the cheapest option{budget} (no deadline)")
    sure = [e for e in affordable if (e.deadline_probability or 0.0) >= confidence]
    if sure:
        best = min(sure, key=lambda e: (e.cost.p50, e.seconds.p50))
        return Recommendation(
            best,
            f"the cheapest option{budget} that makes the deadline with "
            f"{100 * (best.deadline_probability or 0):.0f} % >= {100 * confidence:.0f} %",
        )
    best = min(affordable, key=_likeliest)
    return Recommendation(
        best,
        f"no option{budget} makes the deadline with {100 * confidence:.0f} %; the likeliest "
        f"makes it with {100 * (best.deadline_probability or 0):.0f} %",
    )


def _likeliest(e: OptionEstimate) -> tuple[float, float, float]:
    """Rank for a deadline no option is sure of: the chance of making it (to the percent),
    then the time (to the second), then the cost. Rounded, so that float noise between two
    options that run alike (a spot term of microseconds) never buys the dearer one."""
    return (-round(e.deadline_probability or 0.0, 2), round(e.seconds.p50), e.cost.p50)
