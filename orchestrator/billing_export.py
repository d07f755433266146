"""Billing export: spend per UTC day, per project or user, and per job, as CSV or JSON rows.

Sources and how far back each reaches: days from the billing ledger (keys.BILLING, kept for
ever), projects and users from the per-day spend totals (keys.SPEND, kept SPEND_TTL, 400 days),
jobs from the job store (finished jobs are kept Settings.job_ttl, 7 days by default). Every
figure is spend as it happened: a job's chunks count on the day they finished, also when the
job later failed or was cancelled.
"""

from __future__ import annotations

import calendar
import csv
import enum
import io
import json
import math
import time
from typing import Any

from orchestrator import keys
from orchestrator.budget_rules import Period, Scope, window
from orchestrator.job_record import JobState

#: Stored jobs the job export reads at most (newest first).
JOB_LIMIT = 100_000


class ExportBy(enum.StrEnum):
    """What one row of the export is."""

    DAY = "day"
    PROJECT = "project"
    USER = "user"
    JOB = "job"


class ExportFormat(enum.StrEnum):
    """How the rows are written."""

    CSV = "csv"
    JSON = "json"


#: The columns of each kind of row, in order (the CSV header).
COLUMNS: dict[ExportBy, list[str]] = {
    ExportBy.DAY: ["day", "cost"],
    ExportBy.PROJECT: ["project", "cost", "days"],
    ExportBy.USER: ["user", "cost", "days"],
    ExportBy.JOB: [
        "job",
        "project",
        "user",
        "submitted",
        "finished",
        "state",
        "estimated_cost",
        "actual_cost",
        "node_seconds",
    ],
}

_JOB_FIELDS = (
    "id",
    "project",
    "user",
    "submitted_at",
    "finished_at",
    "state",
    "estimated_cost",
    "actual_cost",
    "node_seconds",
)


def rows(client: Any, by: ExportBy, since: str, now: float | None = None) -> list[dict[str, Any]]:
    """The export's rows from UTC day `since` ("YYYY-MM-DD") to the day holding `now`."""
    now = time.time() if now is None else now
    if by is ExportBy.DAY:
        return day_rows(client, since)
    if by is ExportBy.JOB:
        return job_rows(client, since)
    return scope_rows(client, Scope(str(by)), since, now)


def day_rows(client: Any, since: str) -> list[dict[str, Any]]:
    """Dollars spent per UTC day (the billing ledger), oldest first."""
    ledger = client.hgetall(keys.BILLING)
    return [
        {"day": day, "cost": round(float(cost), 6)}
        for day, cost in sorted(ledger.items())
        if day >= since
    ]


def scope_rows(client: Any, scope: Scope, since: str, now: float) -> list[dict[str, Any]]:
    """Dollars spent per project (or user) over the days since `since`, most first; ""
    gathers the jobs submitted without one. ``days``: days with spend."""
    days = _days(since, now)
    pipe = client.pipeline(transaction=False)
    for day in days:
        pipe.hgetall(keys.spend(day))
    totals: dict[str, list[float]] = {}
    for spent in pipe.execute():
        for field, dollars in spent.items():
            kind, _, name = str(field).partition(":")
            if kind == str(scope):
                totals.setdefault(name, []).append(float(dollars))
    found = [
        {str(scope): name, "cost": round(sum(amounts), 6), "days": len(amounts)}
        for name, amounts in totals.items()
    ]
    return sorted(found, key=lambda row: (-row["cost"], row[str(scope)]))


def job_rows(client: Any, since: str) -> list[dict[str, Any]]:
    """One row per stored job submitted on or after `since`, oldest first. ``actual_cost``:
    what a completed job cost; for any other state what it has spent so far."""
    # The job store imports redis (0.2 CPU-s): here, so the CLI's parser (which names this
    # module's formats) does not pay it on every command.
    from orchestrator.job_store import JobStore

    store = JobStore(client)
    ids = store.recent(JOB_LIMIT)
    pipe = client.pipeline(transaction=False)
    for job_id in ids:
        pipe.hmget(keys.job(job_id), [*_JOB_FIELDS, "spent"])
    found = []
    for raw in pipe.execute():
        if raw[0] is None:
            continue  # expired since it was listed
        values = (json.loads(v) if v is not None else None for v in raw[:-1])
        job = dict(zip(_JOB_FIELDS, values, strict=True))
        submitted = float(job["submitted_at"] or 0.0)
        if _day(submitted) < since:
            continue
        state = str(job["state"])
        spent = float(raw[-1] or 0.0)
        actual = float(job["actual_cost"] or 0.0) if state == JobState.COMPLETED else spent
        found.append(
            {
                "job": job["id"],
                "project": job["project"] or "",
                "user": job["user"] or "",
                "submitted": _iso(submitted),
                "finished": _iso(job["finished_at"]) if job["finished_at"] else "",
                "state": state,
                "estimated_cost": _money(job["estimated_cost"]),
                "actual_cost": round(actual, 6),
                "node_seconds": round(float(job["node_seconds"] or 0.0), 3),
            }
        )
    return sorted(found, key=lambda row: (row["submitted"], row["job"]))


def write(found: list[dict[str, Any]], by: ExportBy, fmt: ExportFormat) -> str:
    """The rows as CSV (header row first; empty cells for unknown values) or as a JSON list."""
    if fmt is ExportFormat.JSON:
        return fixed_point_json(found)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS[by], lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell(k, v) for k, v in row.items()} for row in found)
    return out.getvalue()


def fixed_point_json(found: list[dict[str, Any]]) -> str:
    """The rows as ``json.dumps(found, indent=2)`` lays them out, but with numbers in fixed
    point as in the CSV (``0.000068``): json writes a float's repr, ``6.8e-05``."""
    if not found:
        return "[]\n"
    rows = []
    for row in found:
        fields = ",\n".join(
            f"    {json.dumps(k)}: "
            + (_cell(k, v) if isinstance(v, float) and math.isfinite(v) else json.dumps(v))
            for k, v in row.items()
        )
        rows.append("  {\n" + fields + "\n  }")
    return "[\n" + ",\n".join(rows) + "\n]\n"


def _money(value: Any) -> float | None:
    """Dollars as every cost of the export is given: to the millionth (None stays unknown)."""
    return None if value is None else round(float(value), 6)


def _cell(column: str, value: Any) -> Any:
    """A CSV cell: numbers in fixed point (accounting imports do not read 6.8e-05 as money),
    empty for an unknown value."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}" if column == "node_seconds" else f"{value:.6f}"
    return value


def check_day(text: str) -> str:
    """A UTC day as the export takes it ("YYYY-MM-DD"); ValueError otherwise."""
    try:
        day = time.strptime(text, "%Y-%m-%d")
        # Not strftime: glibc writes year 999 as "999", which no day compares or parses as.
        return f"{day.tm_year:04d}-{day.tm_mon:02d}-{day.tm_mday:02d}"
    except ValueError:
        raise ValueError(f"{text!r} is not a day: write it as YYYY-MM-DD (UTC)") from None


def _days(since: str, now: float) -> list[str]:
    """Every UTC day from `since` to the day holding `now`, as window names."""
    # Older days' totals have expired (SPEND_TTL): a --since of year 1 reads no 700,000 days.
    start = max(calendar.timegm(time.strptime(since, "%Y-%m-%d")), now - keys.SPEND_TTL - 86400)
    last = window(Period.DAILY, now)
    days = []
    step = start + 43200.0  # noon: no leap second or rounding moves it to another day
    while (day := window(Period.DAILY, step)) <= last:
        days.append(day)
        step += 86400.0
    return days


def _day(when: float) -> str:
    return window(Period.DAILY, when)


def _iso(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(when)))
