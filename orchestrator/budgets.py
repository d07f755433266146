"""Daily and monthly budgets per project and per user, the spend they limit, and the hard stop.

Spend is recorded as it happens (each chunk's cost when the chunk is charged, the rest of a job
at its end), into per-UTC-day and per-UTC-month totals per project and per user, and into the
daily billing ledger. Crossing 80 % of a budget publishes a ``budget`` event (level
``warning``) on the progress channel and POSTs it to Settings.budget_webhook, once per window
and limit; reaching 100 % publishes level ``exceeded`` and cancels the scope's jobs that have
not reached their merge (``budget_alerts``), and ``check_budget`` refuses new ones until the
window ends.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import redis

from common.errors import RenderError
from common.settings import Settings
from orchestrator import keys
from orchestrator.budget_alerts import publish_thresholds
from orchestrator.budget_rules import (
    Budget,
    BudgetStatus,
    Period,
    Scope,
    check_limit,
    check_name,
    refusal_message,
    refused,
    scope_key,
    window,
)
from orchestrator.job_record import JobState
from orchestrator.job_store import JobStore

log = logging.getLogger(__name__)

#: Dollars below which the rest of a job's cost at its end is rounding, not spend.
SETTLE_EPSILON = 1e-9
#: Seconds the budgets' lock lives at most (a submission holds it for milliseconds), and how
#: long a submission waits for it.
LOCK_SECONDS, LOCK_WAIT = 30.0, 10.0
#: Job states that spend nothing more.
FINISHED = {JobState.COMPLETED.value, JobState.FAILED.value, JobState.CANCELLED.value}


class BudgetExceeded(RenderError):
    """A project's or user's budget is used up (or this job would pass it): no new job."""


# -- budgets ----------------------------------------------------------------------------------


def budgets(client: Any) -> list[Budget]:
    """Every budget set, projects first, by name."""
    found = [_decode(field, raw) for field, raw in client.hgetall(keys.BUDGETS).items()]
    return sorted(
        (b for b in found if b is not None), key=lambda b: (b.scope != Scope.PROJECT, b.name)
    )


def get_budget(client: Any, scope: Scope, name: str) -> Budget | None:
    """One scope's budget, or None when it has none."""
    return _decode(scope_key(scope, name), client.hget(keys.BUDGETS, scope_key(scope, name)))


def set_budget(
    client: Any,
    scope: Scope,
    name: str,
    *,
    daily: float | None = None,
    monthly: float | None = None,
) -> Budget:
    """Set a scope's daily and/or monthly limit (a limit not given is kept); return the budget."""
    name = check_name(name, scope)
    if daily is None and monthly is None:
        raise ValueError("give a daily or a monthly limit (or both)")
    old = get_budget(client, scope, name) or Budget(scope, name)
    budget = Budget(
        scope,
        name,
        old.daily if daily is None else check_limit(daily, "the daily budget"),
        old.monthly if monthly is None else check_limit(monthly, "the monthly budget"),
    )
    client.hset(keys.BUDGETS, budget.key, json.dumps(_limits(budget)))
    return budget


def clear_budget(
    client: Any, scope: Scope, name: str, *, daily: bool = True, monthly: bool = True
) -> Budget | None:
    """Remove a scope's daily and/or monthly limit; return what is left (None: nothing)."""
    old = get_budget(client, scope, name)
    if old is None:
        return None
    left = Budget(scope, name, None if daily else old.daily, None if monthly else old.monthly)
    if left.daily is None and left.monthly is None:
        client.hdel(keys.BUDGETS, left.key)
        return None
    client.hset(keys.BUDGETS, left.key, json.dumps(_limits(left)))
    return left


def spend(client: Any, scope: str, period: str) -> float:
    """Dollars a scope ("project:NAME") spent in a UTC day ("2026-01-31") or month ("2026-01")."""
    raw = client.hget(keys.spend(period), scope)
    return float(raw) if raw is not None else 0.0


def statuses(client: Any, now: float) -> list[BudgetStatus]:
    """Every limit of every budget with its spend in the window holding `now`."""
    found = []
    for budget in budgets(client):
        for period in Period:
            limit = budget.limit(period)
            if limit is not None:
                current = window(period, now)
                spent = spend(client, budget.key, current)
                found.append(BudgetStatus(budget, period, current, spent, limit))
    return found


# -- enforcement ------------------------------------------------------------------------------


def check_budget(
    client: Any, project: str, user: str, estimated_cost: float | None, now: float
) -> None:
    """Refuse a new job (BudgetExceeded) when its project's or user's daily or monthly budget
    is used up, or when its estimated cost would take the spend past the limit. The spend
    counts what the scope's unfinished jobs are still expected to spend (``committed``): two
    jobs that each fit in what is left must not both start. Call it under ``budget_lock``."""
    found = [
        budget
        for scope, name in ((Scope.PROJECT, project), (Scope.USER, user))
        if name and (budget := get_budget(client, scope, name)) is not None
    ]
    if not found:
        return
    owed = committed(client)
    for budget in found:
        for period in Period:
            limit = budget.limit(period)
            if limit is None:
                continue
            current = window(period, now)
            spent = spend(client, budget.key, current)
            coming = owed.get(budget.key, 0.0)
            if refused(spent + coming, estimated_cost, limit):
                raise BudgetExceeded(
                    refusal_message(
                        budget, period, current, spent, limit, estimated_cost, now, coming
                    )
                )


def committed(client: Any) -> dict[str, float]:
    """Dollars the unfinished jobs are still expected to spend, by budget scope
    ("project:NAME", "user:NAME"): each job's estimate less what it has spent, never below 0."""
    ids = JobStore(client).active()
    pipe = client.pipeline()
    for job_id in ids:
        pipe.hmget(keys.job(job_id), ["state", "project", "user", "estimated_cost", "spent"])
    owed: dict[str, float] = {}
    for values in pipe.execute() if ids else []:
        state, project, user, estimate, spent = values
        if state is None or _text(state) in FINISHED:
            continue
        left = max(_number(estimate) - _number(spent), 0.0)
        for scope, name in ((Scope.PROJECT, _text(project)), (Scope.USER, _text(user))):
            if name and left > 0:
                key = scope_key(scope, name)
                owed[key] = owed.get(key, 0.0) + left
    return owed


@contextlib.contextmanager
def budget_lock(client: Any, project: str, user: str) -> Iterator[None]:
    """Hold the budgets' lock while a submission checks them and stores its job, when its
    project or user has a budget (otherwise there is nothing to race for)."""
    scopes = [scope_key(s, n) for s, n in ((Scope.PROJECT, project), (Scope.USER, user)) if n]
    if not scopes or not any(client.hmget(keys.BUDGETS, scopes)):
        yield
        return
    lock = client.lock(keys.BUDGET_LOCK, timeout=LOCK_SECONDS, blocking_timeout=LOCK_WAIT)
    if not lock.acquire():
        raise RenderError(
            f"the budgets are being checked for another submission for over {LOCK_WAIT:.0f} s; "
            "submit again"
        )
    try:
        yield
    finally:
        with contextlib.suppress(redis.exceptions.LockError):  # expired: the next took it
            lock.release()


def record_spend(
    client: Any,
    project: str,
    user: str,
    dollars: float,
    when: float,
    *,
    job_id: str | None = None,
    settings: Settings | None = None,
    app: Any | None = None,
) -> list[dict[str, Any]]:
    """Add `dollars` spent at `when` to the day's and month's totals of the project and the
    user (and the billing ledger, and the job's ``spent`` when given); publish the threshold
    events this crossed and enforce the hard stop (`app` revokes the stopped jobs' queued chunk
    tasks, as a cancel does). Returns the events published."""
    if dollars <= 0:
        return []
    scopes = [scope_key(Scope.PROJECT, project), scope_key(Scope.USER, user)]
    windows = {period: window(period, when) for period in Period}
    pipe = client.pipeline()  # one transaction: totals, ledger and the job's share agree
    for current in windows.values():
        for field in scopes:
            pipe.hincrbyfloat(keys.spend(current), field, dollars)
        pipe.expire(keys.spend(current), keys.SPEND_TTL)
    pipe.hincrbyfloat(keys.BILLING, windows[Period.DAILY], dollars)
    if job_id is not None:
        pipe.hincrbyfloat(keys.job(job_id), "spent", dollars)
    pipe.hmget(keys.BUDGETS, scopes)
    results = pipe.execute()
    limits = results[-1]
    totals = iter(results[: (len(scopes) + 1) * len(windows)])
    spent: dict[tuple[Period, str], float] = {}
    for period in windows:
        for field in scopes:
            spent[(period, field)] = float(next(totals))
        next(totals)  # the expire's answer
    events: list[dict[str, Any]] = []
    for field, raw in zip(scopes, limits, strict=True):
        budget = _decode(field, raw)
        if budget is None or not budget.name:
            continue
        for period, current in windows.items():
            limit = budget.limit(period)
            if limit is not None:
                total = spent[(period, field)]
                events += publish_thresholds(
                    client, budget, period, current, total, limit, when, settings, app
                )
    return events


def charge_job(
    client: Any,
    job_id: str,
    dollars: float,
    when: float,
    *,
    settings: Settings | None = None,
    app: Any | None = None,
) -> list[dict[str, Any]]:
    """Record `dollars` of a job's cost as spent at `when`, on its project and user, and add
    them to the job's ``spent`` (so that its end records only the rest)."""
    project, user = client.hmget(keys.job(job_id), ["project", "user"])
    return record_spend(
        client,
        _text(project),
        _text(user),
        dollars,
        when,
        job_id=job_id,
        settings=settings,
        app=app,
    )


def settle_job(
    client: Any,
    job_id: str,
    cost: float,
    when: float,
    *,
    settings: Settings | None = None,
    app: Any | None = None,
) -> float:
    """Record the part of a job's final `cost` its chunks did not already record (audio,
    merge, flat-rate time); return those dollars. Called once, when the job ends."""
    rest = cost - float(client.hget(keys.job(job_id), "spent") or 0.0)
    if rest <= SETTLE_EPSILON:
        return 0.0  # float dust, or a late speculative copy charged after the total was taken
    charge_job(client, job_id, rest, when, settings=settings, app=app)
    return rest


# -- helpers ----------------------------------------------------------------------------------


def _limits(budget: Budget) -> dict[str, float | None]:
    return {"daily": budget.daily, "monthly": budget.monthly}


def _decode(field: str, raw: str | bytes | None) -> Budget | None:
    """A budget from its hash field and JSON value (None when absent or unreadable)."""
    if raw is None:
        return None
    kind, _, name = field.partition(":")
    try:
        scope = Scope(kind)
        limits = json.loads(raw)
        return Budget(scope, name, _opt(limits.get("daily")), _opt(limits.get("monthly")))
    except (ValueError, AttributeError, TypeError):
        log.warning("ignoring an unreadable budget %r: %r", field, raw)
        return None


def _text(raw: str | None) -> str:
    """A string field of a job's record (stored as JSON), "" when absent."""
    if not raw:
        return ""
    value = json.loads(raw)
    return value if isinstance(value, str) else ""


def _number(raw: str | bytes | None) -> float:
    """A number field of a job's record (JSON, or a float hincrbyfloat wrote); 0 when absent."""
    try:
        value = json.loads(raw) if raw else 0.0
    except ValueError:
        return 0.0
    return float(value) if isinstance(value, int | float) else 0.0


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)
