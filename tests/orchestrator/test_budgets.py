"""Budgets per project and user: the 80 % warning and the 100 % hard stop (events on the progress
channel and the webhook, once per window), UTC day and month windows, jobs cancelled and refused,
and spend recorded per chunk without counting anything twice at the merge."""

from __future__ import annotations

import calendar
import dataclasses
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
import redis

from common.errors import RenderError
from common.settings import Settings
from orchestrator import keys
from orchestrator.autoscaler.ledger import Ledger
from orchestrator.budget_rules import (
    Budget,
    Level,
    Period,
    Scope,
    check_limit,
    dollars,
    levels_reached,
    next_window,
    refusal_message,
    refused,
    stop_reason,
    window,
)
from orchestrator.budgets import (
    BudgetExceeded,
    budget_lock,
    budgets,
    check_budget,
    clear_budget,
    committed,
    record_spend,
    set_budget,
    spend,
    statuses,
)
from orchestrator.celery_app import make_app
from orchestrator.job_record import ChunkRecord, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.worker_hooks import WorkerHooks
from providers.compute.pools import Pool

#: Mid-month noon (UTC), so the next day is in the same month.
JAN_15 = calendar.timegm((2026, 1, 15, 12, 0, 0))
DAY = 86400.0
NO_HOOK = Settings()


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url, decode_responses=True) as c:
        yield c


class Events:
    """Budget and cancel events received on the progress channel."""

    def __init__(self, client: redis.Redis) -> None:
        self.pubsub = client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(keys.PROGRESS)
        self.pubsub.get_message(timeout=1.0)  # the subscription's confirmation

    def drain(self) -> list[dict[str, Any]]:
        found = []
        while (message := self.pubsub.get_message(timeout=0.2)) is not None:
            if message["type"] == "message":
                found.append(json.loads(message["data"]))
        return found


@pytest.fixture
def events(client: redis.Redis) -> Iterator[Events]:
    listener = Events(client)
    yield listener
    listener.pubsub.close()


class Hook(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]]

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        assert self.headers["Content-Type"] == "application/json"
        self.bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local webhook receiver on a free port: its URL and the JSON bodies POSTed to it."""
    received: list[dict[str, Any]] = []

    class RecordingHook(Hook):
        bodies = received

    server = HTTPServer(("127.0.0.1", 0), RecordingHook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/budget", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def job(store: JobStore, job_id: str, state: JobState, **fields: Any) -> None:
    """A job record in `state` (moved there through the allowed transitions)."""
    store.create(JobRecord(id=job_id, submitted_at=time.time(), frames=20, **fields), {})
    store.set_chunks(job_id, [ChunkRecord(0, 0, 10), ChunkRecord(1, 10, 20)], {})
    path = [JobState.PLANNING, JobState.RENDERING, JobState.MERGING]
    for step in path[: path.index(state) + 1] if state in path else []:
        store.transition(job_id, step)


# -- the pure rules -----------------------------------------------------------------------------


def test_thresholds_are_80_and_100_percent() -> None:
    assert levels_reached(7.99, 10.0) == []
    assert levels_reached(8.0, 10.0) == [Level.WARNING]
    assert levels_reached(0.1 * 100, 10.0) == [Level.WARNING, Level.EXCEEDED]
    assert levels_reached(sum([0.01] * 1000), 10.0)[-1] is Level.EXCEEDED  # float dust
    assert not refused(9.0, None, 10.0) and refused(10.0, None, 10.0)
    assert not refused(9.0, 1.0, 10.0) and refused(9.0, 1.01, 10.0)  # the estimate counts
    assert refused(0.0, 0.0, 0.0)  # a zero budget freezes the scope


def test_windows_are_utc_days_and_months() -> None:
    new_year = calendar.timegm((2026, 12, 31, 23, 59, 59))
    assert (window(Period.DAILY, new_year), window(Period.MONTHLY, new_year)) == (
        "2026-12-31",
        "2026-12",
    )
    assert next_window(Period.DAILY, new_year) == "2027-01-01"
    assert next_window(Period.MONTHLY, new_year) == "2027-01-01"
    assert next_window(Period.DAILY, calendar.timegm((2028, 2, 28, 0, 0, 0))) == "2028-02-29"


def test_limits_must_be_dollars_of_zero_or_more() -> None:
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="0 or more"):
            check_limit(bad, "the daily budget")


# -- budgets in Redis -----------------------------------------------------------------------


def test_set_keeps_the_other_limit_and_clear_removes_them(client: redis.Redis) -> None:
    set_budget(client, Scope.PROJECT, "film", daily=5)
    budget = set_budget(client, Scope.PROJECT, "film", monthly=100)
    assert (budget.daily, budget.monthly) == (5.0, 100.0)
    set_budget(client, Scope.USER, "ann", monthly=20)
    assert [(b.scope, b.name) for b in budgets(client)] == [
        (Scope.PROJECT, "film"),
        (Scope.USER, "ann"),
    ]
    with pytest.raises(ValueError, match="0 or more"):
        set_budget(client, Scope.USER, "ann", daily=-3)
    left = clear_budget(client, Scope.PROJECT, "film", monthly=False)
    assert left is not None and (left.daily, left.monthly) == (None, 100.0)
    assert clear_budget(client, Scope.PROJECT, "film") is None
    assert [b.name for b in budgets(client)] == ["ann"]


def test_events_at_80_and_100_percent_once_per_window_on_channel_and_webhook(
    client: redis.Redis, events: Events, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    settings = Settings(budget_webhook=url)
    set_budget(client, Scope.PROJECT, "film", daily=10)
    assert record_spend(client, "film", "ann", 7.9, JAN_15, settings=settings) == []  # 79 %
    warning = record_spend(client, "film", "ann", 0.1, JAN_15, settings=settings)  # 80 %
    assert [e["level"] for e in warning] == ["warning"]
    assert warning[0]["scope"] == "project" and warning[0]["name"] == "film"
    assert (warning[0]["period"], warning[0]["window"]) == ("daily", "2026-01-15")
    assert warning[0]["spent"] == pytest.approx(8.0) and warning[0]["limit"] == 10.0
    assert record_spend(client, "film", "ann", 1.0, JAN_15, settings=settings) == []  # 90 %: once
    exceeded = record_spend(client, "film", "ann", 1.0, JAN_15, settings=settings)  # 100 %
    assert [e["level"] for e in exceeded] == ["exceeded"]
    assert record_spend(client, "film", "ann", 2.0, JAN_15, settings=settings) == []  # once
    published = [e for e in events.drain() if e["event"] == "budget"]
    assert published == warning + exceeded
    assert received == warning + exceeded  # the webhook got the same JSON bodies
    assert "80 %" in warning[0]["message"] and "new jobs are refused" in exceeded[0]["message"]
    # the user has no budget: no event about them, but their spend is counted
    assert spend(client, "user:ann", "2026-01-15") == pytest.approx(12.0)
    assert spend(client, "project:film", "2026-01") == pytest.approx(12.0)


def test_a_webhook_that_is_down_is_logged_and_nothing_fails(
    client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    set_budget(client, Scope.USER, "ann", monthly=1)
    settings = Settings(budget_webhook=f"http://127.0.0.1:{port}/hook/s3cr3t-token")
    with caplog.at_level(logging.WARNING, logger="orchestrator.budgets"):
        fired = record_spend(client, "", "ann", 2.0, JAN_15, settings=settings)
    assert [e["level"] for e in fired] == ["warning", "exceeded"]  # both crossed at once
    assert sum("budget webhook at 127.0.0.1 failed" in r.getMessage() for r in caplog.records) == 2
    assert "s3cr3t-token" not in caplog.text  # the URL's secret stays out of the logs


def test_days_and_months_start_again_from_zero(client: redis.Redis) -> None:
    set_budget(client, Scope.PROJECT, "film", daily=10, monthly=25)
    record_spend(client, "film", "", 9.0, JAN_15, settings=NO_HOOK)
    check_budget(client, "film", "", None, JAN_15)  # 9 of 10: may start
    check_budget(client, "film", "", 1.0, JAN_15)  # exactly reaches it: may start
    with pytest.raises(BudgetExceeded, match=r"daily budget would be passed.*estimated at \$2"):
        check_budget(client, "film", "", 2.0, JAN_15)
    fired = record_spend(client, "film", "", 1.0, JAN_15, settings=NO_HOOK)
    assert [(e["period"], e["level"]) for e in fired] == [("daily", "exceeded")]
    with pytest.raises(BudgetExceeded, match=r"daily budget is used up: \$10.00 of \$10.00"):
        check_budget(client, "film", "", None, JAN_15)
    # The next UTC day starts from zero; the month goes on (10 of 25)
    check_budget(client, "film", "", 1.0, JAN_15 + DAY)
    fired = record_spend(client, "film", "", 10.0, JAN_15 + DAY, settings=NO_HOOK)
    assert [(e["period"], e["level"]) for e in fired] == [
        ("daily", "warning"),
        ("daily", "exceeded"),  # again: a new window
        ("monthly", "warning"),  # 20 of 25
    ]
    record_spend(client, "film", "", 5.0, JAN_15 + 2 * DAY, settings=NO_HOOK)  # 25 of 25
    with pytest.raises(BudgetExceeded, match="monthly budget is used up.*resets on 2026-02-01"):
        check_budget(client, "film", "", None, JAN_15 + 3 * DAY)
    check_budget(client, "film", "", 1.0, calendar.timegm((2026, 2, 1, 0, 0, 0)))
    assert [(s.period, s.window, s.spent) for s in statuses(client, JAN_15 + 2 * DAY)] == [
        (Period.DAILY, "2026-01-17", 5.0),
        (Period.MONTHLY, "2026-01", 25.0),
    ]


def test_the_hard_stop_cancels_the_scopes_jobs_and_refuses_new_ones(
    client: redis.Redis, events: Events
) -> None:
    store = JobStore(client)
    job(store, "running", JobState.RENDERING, project="film", user="ann")
    job(store, "queued", JobState.QUEUED, project="film", user="bob")
    job(store, "merging", JobState.MERGING, project="film", user="ann")
    job(store, "other", JobState.RENDERING, project="ads", user="ann")
    set_budget(client, Scope.PROJECT, "film", daily=1)
    fired = record_spend(client, "film", "ann", 1.0, JAN_15, settings=NO_HOOK)
    assert fired[-1]["level"] == "exceeded"
    assert sorted(fired[-1]["cancelled"]) == ["queued", "running"]
    for job_id in ("running", "queued"):
        record = store.get(job_id)
        assert record.state is JobState.CANCELLED
        assert record.error is not None and record.error.startswith("budget exceeded: project")
        assert "'film' daily budget of $1.00 reached" in record.error
        assert store.cancel_requested(job_id)  # its running chunks stop between frames
    # A merging job's frames are paid for: its merge finishes; other projects go on
    assert store.state("merging") is JobState.MERGING
    assert store.state("other") is JobState.RENDERING
    cancelled = [e for e in events.drain() if e["event"] == "cancelled"]
    assert sorted(e["job"] for e in cancelled) == ["queued", "running"]
    assert all(e["reason"].startswith("budget exceeded") for e in cancelled)
    with pytest.raises(BudgetExceeded) as refusal:
        check_budget(client, "film", "carl", 0.01, JAN_15)
    assert isinstance(refusal.value, RenderError) and "\n" not in str(refusal.value)
    check_budget(client, "ads", "ann", 0.01, JAN_15)  # other projects still start
    # A user's budget stops that user's jobs in every project
    set_budget(client, Scope.USER, "ann", monthly=2)
    record_spend(client, "ads", "ann", 1.5, JAN_15, settings=NO_HOOK)  # ann: 2.5 of 2
    assert store.state("other") is JobState.CANCELLED
    with pytest.raises(BudgetExceeded, match="user 'ann' monthly budget is used up"):
        check_budget(client, "ads", "ann", None, JAN_15)


def test_unfinished_jobs_count_what_they_will_still_spend(client: redis.Redis) -> None:
    """Two $6 jobs do not both fit in a $10 budget, though nothing is spent yet when the second
    is submitted; what a job has spent already is not counted twice."""
    store = JobStore(client)
    set_budget(client, Scope.PROJECT, "film", daily=10)
    job(store, "first", JobState.RENDERING, project="film", user="ann", estimated_cost=6.0)
    assert committed(client) == {"project:film": 6.0, "user:ann": 6.0}
    with pytest.raises(BudgetExceeded, match=r"\+ \$6.00 its unfinished jobs are still"):
        check_budget(client, "film", "", 6.0, JAN_15)
    check_budget(client, "film", "", 4.0, JAN_15)  # 6 + 4: exactly fits
    charge = record_spend(client, "film", "ann", 2.5, JAN_15, job_id="first", settings=NO_HOOK)
    assert charge == [] and committed(client)["project:film"] == 3.5  # 6 less the 2.5 spent
    check_budget(client, "film", "", 4.0, JAN_15)  # 2.5 spent + 3.5 coming + 4
    # A finished (or cancelled) job owes nothing more.
    job(store, "done", JobState.RENDERING, project="film", estimated_cost=50.0)
    store.transition("done", JobState.CANCELLED)
    assert committed(client)["project:film"] == 3.5


def test_concurrent_submissions_cannot_both_take_the_last_of_a_budget(
    redis_url: str, client: redis.Redis
) -> None:
    """The check and the job's creation happen under one lock: of eight submissions racing for
    a budget with room for three, exactly three start."""
    set_budget(client, Scope.USER, "ann", daily=10)
    now = time.time()

    def submit(index: int) -> bool:
        own = redis.Redis.from_url(redis_url, decode_responses=True)
        try:
            with budget_lock(own, "", "ann"):
                check_budget(own, "", "ann", 3.0, now)
                time.sleep(0.02)  # the planning that lies between a check and the store
                job(JobStore(own), f"race-{index}", JobState.QUEUED, user="ann", estimated_cost=3.0)
            return True
        except BudgetExceeded:
            return False
        finally:
            own.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        started = list(pool.map(submit, range(8)))
    assert sum(started) == 3


def test_without_a_budget_no_lock_is_taken(client: redis.Redis) -> None:
    with budget_lock(client, "film", "ann"):
        assert not client.exists(keys.BUDGET_LOCK)
    set_budget(client, Scope.PROJECT, "film", daily=1)
    with budget_lock(client, "film", "ann"):
        assert client.exists(keys.BUDGET_LOCK)
    assert not client.exists(keys.BUDGET_LOCK)


# -- spend as the workers record it --------------------------------------------------------------


@pytest.fixture
def hooks(redis_url: str) -> WorkerHooks:
    """The worker hooks, and job "j" of project film / user ann rendering at $36/h ($0.01/s)."""
    store = JobStore.from_url(redis_url)
    service = WorkerHooks(store, make_app(Settings(broker_url=redis_url, result_backend=redis_url)))
    job(store, "j", JobState.RENDERING, project="film", user="ann", hourly_rate=36.0)
    return service


def spent_in_days(client: Any, field: str) -> float:
    """A scope's spend over every recorded day (a test may run across midnight)."""
    total = 0.0
    for key in client.scan_iter(match=keys.SPEND.format(name="????-??-??")):
        total += float(client.hget(key, field) or 0.0)
    return total


def test_chunks_count_as_they_finish_and_the_merge_adds_only_the_rest(hooks: WorkerHooks) -> None:
    client = hooks.store.redis
    # A pool node at $7.20/h with 2 slots: $0.001 per chunk-second
    Ledger(client).requested(
        "i-1", Pool(name="gpu", provider="local", price_per_hour=7.2, concurrency=2), time.time()
    )
    client.set(keys.node("pool-node"), json.dumps({"name": "pool-node", "instance": "i-1"}))
    hooks.charge("j", "flat-node", 10.0)  # $0.10 at the flat rate
    assert spent_in_days(client, "project:film") == pytest.approx(0.10)  # during the render
    hooks.charge("j", "pool-node", 20.0)  # $0.02 at the pool's slot price
    assert spent_in_days(client, "user:ann") == pytest.approx(0.12)
    hooks.store.add_node_seconds("j", 3.0)  # the audio task's time (audio_finished)
    hooks.store.transition("j", JobState.MERGING)
    hooks.merge_finished("j", {"merge_seconds": 2.0})
    record = hooks.store.get("j")
    assert record.actual_cost == pytest.approx(0.10 + 0.02 + 0.05)  # audio + merge: 5 s flat
    for field in ("project:film", "user:ann"):
        assert spent_in_days(client, field) == pytest.approx(record.actual_cost)
    billed = sum(float(v) for v in client.hgetall(keys.BILLING).values())
    assert billed == pytest.approx(record.actual_cost)
    hooks.merge_finished("j", {"merge_seconds": 2.0})  # a duplicate merge bills nothing
    assert spent_in_days(client, "project:film") == pytest.approx(record.actual_cost)


def test_a_long_job_meets_the_hard_stop_mid_render(hooks: WorkerHooks) -> None:
    set_budget(hooks.store.redis, Scope.PROJECT, "film", daily=0.25, monthly=0.25)
    assert hooks.chunk_started("j", 0, "t0", "n1") and hooks.chunk_started("j", 1, "t1", "n2")
    hooks.chunk_finished("j", 0, {"seconds": 30.0, "node": "n1", "start": 0, "end": 10})
    record = hooks.store.get("j")  # $0.30 of $0.25: stopped before its last chunk is in
    assert record.state is JobState.CANCELLED
    assert record.error is not None and "budget exceeded" in record.error
    assert hooks.should_stop("j", 1, "n2") == "cancelled"


def test_a_failed_job_counts_what_it_consumed(hooks: WorkerHooks) -> None:
    hooks.charge("j", "n1", 10.0)
    hooks.store.add_node_seconds("j", 4.0)  # the audio's time, never charged per chunk
    hooks.job_failed("j", RenderError("clip 'x': corrupt"))
    assert spent_in_days(hooks.store.redis, "project:film") == pytest.approx(0.14)
    hooks.job_failed("j", RenderError("again"))  # already failed: nothing more
    assert spent_in_days(hooks.store.redis, "project:film") == pytest.approx(0.14)


class Control:
    """A Celery app's control, recording the task ids it revokes."""

    def __init__(self) -> None:
        self.revoked: list[str] = []
        self.control = self

    def revoke(self, task_id: str) -> None:
        self.revoked.append(task_id)


def test_the_hard_stop_ends_a_job_as_a_cancel_does(client: redis.Redis, tmp_path: Any) -> None:
    """Its objects are deleted, its queued chunk tasks revoked and what it ran is its cost:
    only the reason differs from ``cancel``."""
    store = JobStore(client)
    spec = {"id": "j", "project": {}, "base_dir": "/", "export": {}}
    spec["storage_url"] = f"file://{tmp_path}"
    record = JobRecord(id="j", submitted_at=time.time(), frames=20, project="film", user="ann")
    store.create(dataclasses.replace(record, hourly_rate=36.0), spec)
    chunks = [ChunkRecord(0, 0, 10, task_id="t0"), ChunkRecord(1, 10, 20, task_id="t1")]
    store.set_chunks("j", chunks, spec)
    store.transition("j", JobState.PLANNING)
    store.transition("j", JobState.RENDERING)
    segment = tmp_path / "jobs" / "j" / "segments" / "000000.mkv"
    segment.parent.mkdir(parents=True)
    segment.write_bytes(b"segment")
    store.add_node_seconds("j", 10.0)  # $0.10 at $36/h
    set_budget(client, Scope.PROJECT, "film", daily=0.05)
    app = Control()
    record_spend(client, "film", "ann", 0.1, JAN_15, job_id="j", settings=NO_HOOK, app=app)
    stopped = store.get("j")
    assert stopped.state is JobState.CANCELLED and "budget exceeded" in (stopped.error or "")
    assert stopped.actual_cost == pytest.approx(0.10)  # not $0: what it ran is spent
    assert not (tmp_path / "jobs" / "j").exists()
    assert sorted(app.revoked) == ["t0", "t1"]


def test_amounts_below_a_cent_are_shown_not_rounded_to_nothing() -> None:
    assert [dollars(v) for v in (1.0, 6.0, 0.25, 0.00012, 0.000232, 0.0123)] == [
        "$1.00",
        "$6.00",
        "$0.25",
        "$0.000120",
        "$0.000232",
        "$0.0123",
    ]
    budget = Budget(Scope.PROJECT, "film", daily=0.00012)
    reason = stop_reason(budget, Period.DAILY, "2026-01-15", 0.000232, 0.00012, JAN_15)
    assert "daily budget of $0.000120 reached ($0.000232 spent" in reason
    refusal = refusal_message(budget, Period.DAILY, "2026-01-15", 0.0001, 0.00012, 0.00005, JAN_15)
    assert "$0.000100 of $0.000120 spent" in refusal and "estimated at $0.000050" in refusal


def test_a_300_digit_limit_is_shown_in_a_few_digits() -> None:
    """`budget set --daily 111...1` (300 digits) printed every digit of it back."""
    assert dollars(float("1" * 300)) == "$1.111e+299"
    assert dollars(2_500_000.0) == "$2500000.00"
