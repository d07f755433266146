"""The billing export: spend per UTC day, per project or user, and per job, as CSV and JSON."""

from __future__ import annotations

import calendar
import csv
import io
import json
from collections.abc import Iterator

import pytest
import redis

from orchestrator import keys
from orchestrator.billing_export import (
    COLUMNS,
    ExportBy,
    ExportFormat,
    check_day,
    rows,
    write,
)
from orchestrator.budgets import record_spend
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore

JAN_10 = calendar.timegm((2026, 1, 10, 9, 30, 0))
JAN_12 = calendar.timegm((2026, 1, 12, 18, 0, 0))
DEC_30 = calendar.timegm((2025, 12, 30, 23, 0, 0))


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    """Spend on three days by two projects and users, and three stored jobs."""
    with redis.Redis.from_url(redis_url, decode_responses=True) as c:
        record_spend(c, "film", "ann", 1.5, DEC_30)
        record_spend(c, "film", "ann", 2.0, JAN_10, job_id="done")
        record_spend(c, "ads", "bob", 0.25, JAN_10, job_id="stopped")
        record_spend(c, "", "", 0.125, JAN_12)  # a job submitted without project or user
        store = JobStore(c)
        store.create(JobRecord(id="old", project="film", user="ann", submitted_at=DEC_30), {})
        done = JobRecord(
            id="done",
            project="film",
            user="ann",
            submitted_at=JAN_10,
            estimated_cost=1.8,
            node_seconds=72.0,
        )
        store.create(done, {})
        for state in (JobState.PLANNING, JobState.RENDERING, JobState.MERGING):
            store.transition("done", state)
        store.transition("done", JobState.COMPLETED, actual_cost=2.0, finished_at=JAN_10 + 600)
        store.create(JobRecord(id="stopped", project="ads", user="bob", submitted_at=JAN_12), {})
        store.transition("stopped", JobState.CANCELLED, finished_at=JAN_12 + 60)
        yield c


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_per_day_comes_from_the_billing_ledger(client: redis.Redis) -> None:
    found = rows(client, ExportBy.DAY, "2026-01-01", now=JAN_12)
    assert found == [
        {"day": "2026-01-10", "cost": 2.25},
        {"day": "2026-01-12", "cost": 0.125},
    ]
    text = write(found, ExportBy.DAY, ExportFormat.CSV)
    assert text.splitlines()[0] == "day,cost"
    assert parse_csv(text) == [
        {"day": "2026-01-10", "cost": "2.250000"},
        {"day": "2026-01-12", "cost": "0.125000"},
    ]
    assert len(rows(client, ExportBy.DAY, "2025-12-01", now=JAN_12)) == 3


def test_per_project_and_per_user_sum_the_days_since(client: redis.Redis) -> None:
    assert rows(client, ExportBy.PROJECT, "2025-12-30", now=JAN_12) == [
        {"project": "film", "cost": 3.5, "days": 2},
        {"project": "ads", "cost": 0.25, "days": 1},
        {"project": "", "cost": 0.125, "days": 1},
    ]
    assert rows(client, ExportBy.USER, "2026-01-01", now=JAN_12) == [
        {"user": "ann", "cost": 2.0, "days": 1},
        {"user": "bob", "cost": 0.25, "days": 1},
        {"user": "", "cost": 0.125, "days": 1},
    ]
    # Days before `since` and after `now` are left out
    assert rows(client, ExportBy.PROJECT, "2026-01-11", now=JAN_12) == [
        {"project": "", "cost": 0.125, "days": 1}
    ]
    assert rows(client, ExportBy.PROJECT, "2025-12-01", now=DEC_30) == [
        {"project": "film", "cost": 1.5, "days": 1}
    ]


def test_per_job_has_estimate_actual_and_node_time_as_csv_and_json(client: redis.Redis) -> None:
    found = rows(client, ExportBy.JOB, "2026-01-01", now=JAN_12)
    assert [row["job"] for row in found] == ["done", "stopped"]  # "old" is before --since
    done, stopped = found
    assert done == {
        "job": "done",
        "project": "film",
        "user": "ann",
        "submitted": "2026-01-10T09:30:00Z",
        "finished": "2026-01-10T09:40:00Z",
        "state": "completed",
        "estimated_cost": 1.8,
        "actual_cost": 2.0,
        "node_seconds": 72.0,
    }
    # A cancelled job's actual cost is what it spent before it stopped
    assert (stopped["state"], stopped["actual_cost"], stopped["estimated_cost"]) == (
        "cancelled",
        0.25,
        None,
    )
    text = write(found, ExportBy.JOB, ExportFormat.CSV)
    assert text.splitlines()[0] == ",".join(COLUMNS[ExportBy.JOB])
    table = parse_csv(text)
    assert [r["job"] for r in table] == ["done", "stopped"]
    assert table[1]["estimated_cost"] == "" and table[1]["actual_cost"] == "0.250000"
    assert json.loads(write(found, ExportBy.JOB, ExportFormat.JSON)) == found


def test_an_empty_export_still_has_its_header(client: redis.Redis) -> None:
    found = rows(client, ExportBy.JOB, "2030-01-01", now=JAN_12)
    assert found == []
    assert write(found, ExportBy.JOB, ExportFormat.CSV).splitlines() == [
        ",".join(COLUMNS[ExportBy.JOB])
    ]
    assert json.loads(write(found, ExportBy.JOB, ExportFormat.JSON)) == []


def test_since_must_be_a_day() -> None:
    assert check_day("2026-1-5") == "2026-01-05"
    for bad in ("2026-13-01", "yesterday", "2026-01-05T00:00"):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            check_day(bad)


def test_small_amounts_are_fixed_point_in_csv_and_the_estimate_is_rounded(
    client: redis.Redis,
) -> None:
    """A job at the default rate costs fractions of a cent: 6.8e-05 is no money to an import."""
    store = JobStore(client)
    tiny = JobRecord(id="tiny", submitted_at=JAN_12, estimated_cost=0.00016595052083333352)
    store.create(tiny, {})
    client.hincrbyfloat(keys.job("tiny"), "spent", 0.000068)
    found = [r for r in rows(client, ExportBy.JOB, "2026-01-12", now=JAN_12) if r["job"] == "tiny"]
    assert found[0]["estimated_cost"] == 0.000166
    (row,) = [r for r in parse_csv(write(found, ExportBy.JOB, ExportFormat.CSV))]
    assert (row["estimated_cost"], row["actual_cost"]) == ("0.000166", "0.000068")
    day = write([{"day": "2026-01-12", "cost": 4e-05}], ExportBy.DAY, ExportFormat.CSV)
    assert day.splitlines()[1] == "2026-01-12,0.000040"


def test_a_since_before_the_year_1000_is_a_day_like_any_other(client: redis.Redis) -> None:
    """glibc writes year 999 unpadded; it came back as a traceback from strptime."""
    assert check_day("0999-12-31") == "0999-12-31"
    since = check_day("0001-01-01")
    assert [r["user"] for r in rows(client, ExportBy.USER, since, now=JAN_12)] == ["ann", "bob", ""]
    assert len(rows(client, ExportBy.DAY, since, now=JAN_12)) == 3


def test_small_amounts_are_fixed_point_in_json_too() -> None:
    """docs/cost.md promises "0.000068, never 6.8e-05"; the JSON export wrote json's float repr."""
    found = [
        {"job": "tiny", "estimated_cost": 3.5e-05, "actual_cost": 1.2e-05, "node_seconds": 0.5},
        {"job": "unpriced", "estimated_cost": None, "actual_cost": 2.0, "node_seconds": 72.0},
    ]
    text = write(found, ExportBy.JOB, ExportFormat.JSON)
    assert "e-0" not in text
    assert '"estimated_cost": 0.000035,' in text and '"actual_cost": 0.000012,' in text
    assert '"node_seconds": 0.500' in text and '"estimated_cost": null,' in text
    assert json.loads(text) == found  # still JSON numbers, the same values
    assert (
        text
        == json.dumps(found, indent=2)
        .replace("3.5e-05", "0.000035")
        .replace("1.2e-05", "0.000012")
        .replace(" 0.5\n", " 0.500\n")
        .replace(" 2.0,", " 2.000000,")
        .replace(" 72.0\n", " 72.000\n")
        + "\n"
    )
    day = write([{"day": "2026-01-12", "cost": 4e-05}], ExportBy.DAY, ExportFormat.JSON)
    assert day == '[\n  {\n    "day": "2026-01-12",\n    "cost": 0.000040\n  }\n]\n'
