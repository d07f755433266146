"""The budget rules as plain data and functions: budgets, UTC periods, thresholds, the
submit-time refusal, and the words of events and errors.

No I/O here; orchestrator.budgets applies them to the totals it keeps in Redis.
"""

from __future__ import annotations

import calendar
import enum
import math
import time
from dataclasses import dataclass
from typing import Any

from common.errors import RenderError

#: Share of a budget whose crossing publishes the warning event.
WARNING_FRACTION = 0.8
#: Slack for float sums of many small chunk costs (a budget of $10 reached by 1000 x $0.01).
EPSILON = 1e-9


def dollars(value: float) -> str:
    """An amount of money as budgets show it: whole cents as cents, anything finer to the
    ten-thousandth, and below a cent to the millionth (a job at the default rate costs
    fractions of a cent: "$0.00 of $0.00" said nothing); a trillion or more in four
    significant digits (a 300-digit limit was printed digit by digit)."""
    if not abs(value) < 1e12:
        return f"${value:.4g}"
    if abs(value - round(value, 2)) < 5e-7:
        return f"${value:.2f}"
    return f"${value:.6f}" if abs(value) < 0.01 else f"${value:.4f}"


class Scope(enum.StrEnum):
    """What a budget limits: the spend of one project or of one user."""

    PROJECT = "project"
    USER = "user"


class Period(enum.StrEnum):
    """How long a budget's spend adds up before it starts again from zero (UTC)."""

    DAILY = "daily"
    MONTHLY = "monthly"


class Level(enum.StrEnum):
    """A threshold of a budget, in the order a growing spend crosses them."""

    WARNING = "warning"
    EXCEEDED = "exceeded"


def window(period: Period, when: float) -> str:
    """The UTC day ("2026-01-31") or month ("2026-01") that holds the instant `when`."""
    return time.strftime("%Y-%m-%d" if period is Period.DAILY else "%Y-%m", time.gmtime(when))


def next_window(period: Period, when: float) -> str:
    """The UTC day or month after the one holding `when` (when its spend starts from zero)."""
    t = time.gmtime(when)
    if period is Period.DAILY:
        start = calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0))
        return window(Period.DAILY, start + 86400)
    year, month = (t.tm_year + 1, 1) if t.tm_mon == 12 else (t.tm_year, t.tm_mon + 1)
    return f"{year:04d}-{month:02d}-01"


def levels_reached(spent: float, limit: float) -> list[Level]:
    """The thresholds a spend has reached: 80 % warns, 100 % is the hard stop."""
    reached = []
    if spent + EPSILON >= WARNING_FRACTION * limit:
        reached.append(Level.WARNING)
    if spent + EPSILON >= limit:
        reached.append(Level.EXCEEDED)
    return reached


def refused(spent: float, estimated: float | None, limit: float) -> bool:
    """Whether a new job may not start: the budget is used up, or this job's estimate would
    take the spend past it (refusing now is cheaper than stopping it half rendered)."""
    if spent + EPSILON >= limit:
        return True
    return estimated is not None and spent + max(estimated, 0.0) > limit + EPSILON


def percent(spent: float, limit: float) -> float:
    """Spend as a percentage of the limit (a zero limit with any spend is 100 %)."""
    if limit <= 0:
        return 100.0
    return 100.0 * spent / limit


def check_limit(value: float, what: str) -> float:
    """A budget limit in dollars: finite and not negative (zero freezes the scope's spending)."""
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a number of dollars of 0 or more, not {value}")
    return float(value)


def check_max_cost(value: float | None) -> float | None:
    """A job's cost ceiling (``max_cost``): None, or finite dollars of 0 or more; RenderError
    otherwise (NaN compares false with every cost: the ceiling would be off without a word)."""
    if value is None:
        return None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not (number and math.isfinite(value) and value >= 0):
        raise RenderError(f"max cost {value!r} must be a number of dollars, 0 or more")
    return float(value)


def check_name(name: str, scope: Scope) -> str:
    """A project or user name: not empty, on one line."""
    cleaned = name.strip()
    if not cleaned or any(c in cleaned for c in "\r\n\t"):
        raise ValueError(f"a {scope} name must be a non-empty word on one line, not {name!r}")
    return cleaned


@dataclass(frozen=True)
class Budget:
    """The limits of one project or user, in dollars per UTC day and per UTC month."""

    scope: Scope
    name: str
    daily: float | None = None
    monthly: float | None = None

    @property
    def key(self) -> str:
        """Its field in the budgets hash and in the spend totals ("project:NAME")."""
        return scope_key(self.scope, self.name)

    def limit(self, period: Period) -> float | None:
        """The limit of one period, or None when that period is unlimited."""
        return self.daily if period is Period.DAILY else self.monthly


@dataclass(frozen=True)
class BudgetStatus:
    """Where one limit of a budget stands in the current window."""

    budget: Budget
    period: Period
    window: str
    spent: float
    limit: float

    @property
    def percent(self) -> float:
        """Spend as a percentage of the limit."""
        return percent(self.spent, self.limit)

    @property
    def level(self) -> Level | None:
        """The highest threshold reached, or None below 80 %."""
        reached = levels_reached(self.spent, self.limit)
        return reached[-1] if reached else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary (``budget show --json``)."""
        return {
            "scope": str(self.budget.scope),
            "name": self.budget.name,
            "period": str(self.period),
            "window": self.window,
            "spent": round(self.spent, 6),
            "limit": self.limit,
            "percent": round(self.percent, 2),
            "level": None if self.level is None else str(self.level),
        }


def scope_key(scope: Scope, name: str) -> str:
    """A scope's field name: "project:NAME" or "user:NAME"."""
    return f"{scope}:{name}"


def budget_event(
    budget: Budget,
    period: Period,
    current: str,
    spent: float,
    limit: float,
    level: Level,
    when: float,
) -> dict[str, Any]:
    """The ``budget`` event of a threshold reached (progress channel and webhook JSON)."""
    share = percent(spent, limit)
    what = "reached; new jobs are refused" if level is Level.EXCEEDED else "at 80 %"
    return {
        "event": "budget",
        "level": str(level),
        "scope": str(budget.scope),
        "name": budget.name,
        "period": str(period),
        "window": current,
        "spent": round(spent, 6),
        "limit": limit,
        "percent": round(share, 2),
        "time": when,
        "message": f"{_title(budget, period)} {what}: {dollars(spent)} of {dollars(limit)} spent "
        f"({share:.0f} %) in {current} (UTC)",
    }


def _title(budget: Budget, period: Period) -> str:
    return f"{budget.scope} {budget.name!r} {period} budget"


def _how_to_raise(budget: Budget, period: Period) -> str:
    return f"`cloudrender budget set --{budget.scope} {budget.name} --{period} USD`"


def stop_reason(
    budget: Budget, period: Period, current: str, spent: float, limit: float, when: float
) -> str:
    """The error of a job the hard stop cancelled (one line, says what to do)."""
    return (
        f"budget exceeded: {_title(budget, period)} of {dollars(limit)} reached "
        f"({dollars(spent)} spent in {current} UTC); it resets on {next_window(period, when)}, "
        f"or raise it with {_how_to_raise(budget, period)}"
    )


def refusal_message(
    budget: Budget,
    period: Period,
    current: str,
    spent: float,
    limit: float,
    estimated: float | None,
    now: float,
    committed: float = 0.0,
) -> str:
    """Why check_budget refuses a new job (one line, says what to do); ``committed`` is what
    the scope's unfinished jobs are still expected to spend."""
    owed = f" (+ {dollars(committed)} its unfinished jobs are still expected to spend)"
    used = f"{dollars(spent)} of {dollars(limit)} spent in {current} (UTC)"
    used += owed if committed else ""
    if spent + committed >= limit or not estimated:
        what = f"is used up: {used}"
    else:
        what = f"would be passed: {used} and this job is estimated at {dollars(estimated)}"
    return (
        f"{_title(budget, period)} {what}; no new job starts until it resets on "
        f"{next_window(period, now)}, or raise it with {_how_to_raise(budget, period)}"
    )
