"""The orchestrator's beat rides out Redis error replies and takes over within seconds."""

from __future__ import annotations

import json
import time

import pytest
import redis

from common.errors import RenderError
from common.names import QUEUE_ORCHESTRATOR
from common.settings import Settings
from orchestrator.beat import HOLD_SECONDS, RETRY_SECONDS, ResilientScheduler, _WatchedProcess
from orchestrator.celery_app import make_app


def test_an_error_reply_from_redis_does_not_stop_the_beat(redis_url: str) -> None:
    """At maxmemory Redis answers OOM: the beat process died of it for good, and with it
    every failover, while the orchestrator's heartbeat went on."""
    app = make_app(Settings(broker_url=redis_url, result_backend=redis_url))
    scheduler = ResilientScheduler(app=app, lazy=True)
    scheduler.lock_key = None  # not started (lazy): no lock to extend, only the schedule read
    assert scheduler.max_interval == 5  # a standby tries the lock every 5 s, not 300
    client = redis.Redis.from_url(redis_url)
    used = int(client.info("memory")["used_memory"])
    client.config_set("maxmemory-policy", "noeviction")
    client.config_set("maxmemory", used // 2)
    try:
        assert scheduler.tick() == RETRY_SECONDS
    finally:
        client.config_set("maxmemory", 0)
        client.close()


def test_a_schedule_lost_with_redis_is_written_again(redis_url: str) -> None:
    """Redis restarted without persistence (or flushed): RedBeat wrote its schedule only at
    start, so no tick, and no failover of any later job, ever ran again."""
    app = make_app(Settings(broker_url=redis_url, result_backend=redis_url))
    scheduler = ResilientScheduler(app=app, lazy=True)
    scheduler.lock_key = None
    client = redis.Redis.from_url(redis_url)
    key = app.redbeat_conf.schedule_key
    try:
        scheduler.tick()
        entries = client.zrange(key, 0, -1)
        assert any(b"tick" in e for e in entries) and any(b"autoscale" in e for e in entries)
        client.flushall()
        scheduler.tick()
        assert client.zrange(key, 0, -1) == entries
    finally:
        client.close()


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("refused", redis.exceptions.NoPermissionError),
        ("unreachable", redis.exceptions.ConnectionError),
        ("other", RenderError),
    ],
)
def test_a_dead_beat_is_reported_as_the_cli_words_its_cause(
    redis_url: str, kind: str, error: type[Exception]
) -> None:
    """The orchestrator exits with what its beat process died of: an ACL refusal (exit 4)
    and a lost Redis (exit 3) as any command reports them; anything else in its own line."""
    app = make_app(Settings(broker_url=redis_url, result_backend=redis_url))
    beat = _WatchedProcess(app, scheduler_cls=ResilientScheduler, remote_control=False)
    beat.last_words.write(json.dumps({"kind": kind, "reason": "SMEMBERS 'k' (no)"}).encode())
    cause = beat.cause()
    assert type(cause) is error
    if kind == "other":
        assert str(cause).startswith("the orchestrator's beat stopped (SMEMBERS 'k' (no)); ")
    else:
        assert str(cause) == "the orchestrator's beat stopped: SMEMBERS 'k' (no)"


def _queued(client: redis.Redis, queue: str) -> int:
    """Messages waiting in ``queue`` at every priority step (kombu's list per step)."""
    return sum(
        int(client.llen(k)) for k in client.scan_iter(f"{queue}*") if client.type(k) == b"list"
    )


def test_an_entry_is_not_sent_again_while_its_last_send_still_waits(redis_url: str) -> None:
    """A private render's one pool process took every tick queued during its chunk (one per
    2 s) before the job's merge: one waiting tick does their work, and the next is sent once
    it started, or once it expired."""
    app = make_app(Settings(broker_url=redis_url, result_backend=redis_url))
    scheduler = ResilientScheduler(app=app, lazy=True)
    scheduler.lock_key = None
    scheduler.setup_schedule()
    client = redis.Redis.from_url(redis_url)
    try:
        entry = scheduler.schedule["tick"]
        first = scheduler.apply_async(entry)
        assert first is not None and _queued(client, QUEUE_ORCHESTRATOR) == 1
        assert scheduler.apply_async(scheduler.schedule["tick"]) is not None  # advanced only
        assert _queued(client, QUEUE_ORCHESTRATOR) == 1
        app.backend.store_result(first.id, None, "STARTED")  # a worker took it
        second = scheduler.apply_async(scheduler.schedule["tick"])
        assert second.id != first.id and _queued(client, QUEUE_ORCHESTRATOR) == 2
        task_id, _ = scheduler._waiting["tick"]
        scheduler._waiting["tick"] = (task_id, time.monotonic() - 1)  # its expiry passed
        scheduler.apply_async(scheduler.schedule["tick"])
        assert _queued(client, QUEUE_ORCHESTRATOR) == 3
    finally:
        client.close()


def test_an_entry_is_held_back_for_a_bounded_time_and_not_across_a_lost_schedule(
    redis_url: str,
) -> None:
    """A send lost before it started (its worker killed, Redis restarted empty) holds the
    tick back at most HOLD_SECONDS, not the 30 s of its expiry, and not at all once the
    schedule is found gone with it; a task that records no state is never held back."""
    app = make_app(Settings(broker_url=redis_url, result_backend=redis_url))
    scheduler = ResilientScheduler(app=app, lazy=True)
    scheduler.lock_key = None
    scheduler.setup_schedule()
    client = redis.Redis.from_url(redis_url)
    try:
        untracked = scheduler.schedule["tick"]
        untracked.options = {**untracked.options, "ignore_result": True}
        scheduler.apply_async(untracked)
        scheduler.apply_async(untracked)
        assert _queued(client, QUEUE_ORCHESTRATOR) == 2  # no state to tell it waits
        client.flushall()
        scheduler.setup_schedule()
        first = scheduler.apply_async(scheduler.schedule["tick"])
        _, until = scheduler._waiting["tick"]
        assert until <= time.monotonic() + HOLD_SECONDS and HOLD_SECONDS < 30
        client.flushall()  # the queued tick and the schedule are gone
        scheduler.tick()  # writes the schedule again (its entries due a period later)
        scheduler.apply_async(scheduler.schedule["tick"])  # due
        assert scheduler._waiting["tick"][0] != first.id  # sent, not held for the lost one
    finally:
        client.close()
