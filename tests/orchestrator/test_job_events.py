"""A job's event log (orchestrator.job_events): every event in order on the job's stream, a
reader resumes after the last id it saw, the log is bounded and expires with its job, and the
progress channel's subscribers still get every event."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_events import (
    EVENTS_MAXLEN,
    EVENTS_TTL,
    EventCursor,
    publish_event,
    read_events,
)
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url, decode_responses=True) as c:
        yield c


def test_events_come_back_in_order_with_their_fields(client: redis.Redis) -> None:
    ids = [publish_event(client, "j", "progress", chunk=0, done=n, total=5) for n in range(5)]
    ids.append(publish_event(client, "j", "completed", cost=0.25))
    events = read_events(client, "j")
    assert [entry_id for entry_id, _ in events] == ids
    assert [e["done"] for _, e in events[:5]] == [0, 1, 2, 3, 4]
    last = events[-1][1]
    assert last["job"] == "j" and last["event"] == "completed" and last["cost"] == 0.25
    assert isinstance(last["time"], float)
    assert read_events(client, "other") == []  # each job has its own log


def test_a_reader_resumes_right_after_the_last_id_it_saw(client: redis.Redis) -> None:
    ids = [publish_event(client, "j", "progress", done=n) for n in range(10)]
    first = read_events(client, "j", count=4)
    assert [e["done"] for _, e in first] == [0, 1, 2, 3]
    rest = read_events(client, "j", after=first[-1][0])
    assert [e["done"] for _, e in rest] == list(range(4, 10))  # no gap, no repeat
    assert read_events(client, "j", after=ids[-1]) == []


def test_a_blocking_read_waits_for_the_next_event(client: redis.Redis) -> None:
    last = publish_event(client, "j", "planned", chunks=2)
    assert read_events(client, "j", after=last, block_ms=100) == []  # nothing new: times out
    timer = threading.Timer(0.2, publish_event, args=(client, "j", "chunk_started"))
    timer.start()
    try:
        got = read_events(client, "j", after=last, block_ms=5000)
    finally:
        timer.join()
    assert [e["event"] for _, e in got] == ["chunk_started"]


def test_the_log_is_bounded(client: redis.Redis) -> None:
    pipe = client.pipeline(transaction=False)
    for n in range(EVENTS_MAXLEN + 2000):
        pipe.xadd(keys.events("j"), {"event": "progress", "data": json.dumps({"done": n})})
    pipe.execute()
    publish_event(client, "j", "progress", done=-1)
    # Trimmed approximately (whole macro nodes), never below the bound nor far above it
    assert EVENTS_MAXLEN <= client.xlen(keys.events("j")) < EVENTS_MAXLEN + 2000
    assert read_events(client, "j", after="0", count=1)[0][1]["done"] > 0  # the oldest went


def test_the_log_expires_with_its_job(client: redis.Redis) -> None:
    store = JobStore(client, finished_ttl=60)
    store.create(JobRecord(id="j", submitted_at=1.0), {})
    publish_event(client, "j", "planned", chunks=1)
    # Unfinished: the log lives on past its last event (the record itself does not expire)
    assert EVENTS_TTL - 5 <= client.ttl(keys.events("j")) <= EVENTS_TTL
    store.transition("j", JobState.CANCELLED)
    publish_event(client, "j", "cancelled")  # published after the end: still as long as the job
    assert 0 < client.ttl(keys.events("j")) <= client.ttl(keys.job("j")) <= 60


def test_state_changes_are_logged(client: redis.Redis) -> None:
    store = JobStore(client)
    store.create(JobRecord(id="j", submitted_at=1.0), {})
    for state in (JobState.PLANNING, JobState.RENDERING, JobState.RENDERING, JobState.FAILED):
        store.transition("j", state)
    store.transition("j", JobState.COMPLETED)  # refused: already finished, nothing logged
    states = [e["state"] for _, e in read_events(client, "j") if e["event"] == "state"]
    assert states == ["planning", "rendering", "failed"]


def test_subscribers_of_the_progress_channel_still_get_every_event(
    client: redis.Redis, redis_url: str
) -> None:
    api = CloudRenderingAPI(redis_url)
    received: list[dict[str, object]] = []
    subscription = api.on_progress_update(received.append, job_id="j")
    try:
        api.store.create(JobRecord(id="j", state=JobState.QUEUED, submitted_at=1.0), {})
        publish_event(client, "j", "progress", chunk=0, done=1, total=2)
        publish_event(client, "k", "progress", chunk=0, done=1, total=2)  # another job's
        api.cancel_job("j")
        deadline = time.monotonic() + 10
        while not any(e["event"] == "cancelled" for e in received):
            assert time.monotonic() < deadline, received
            time.sleep(0.05)
    finally:
        subscription.stop()
    assert [e["event"] for e in received] == ["progress", "state", "cancelled"]
    assert received[1]["state"] == "cancelled"
    logged = [e for _, e in read_events(client, "j")]
    assert logged == received  # the same messages on both


def test_a_cursor_wakes_at_the_next_event_and_moves_past_it(client: redis.Redis) -> None:
    """A follower blocks on the stream and is woken by the event, not by a poll's beat."""
    publish_event(client, "j", "state", state="queued")
    cursor = EventCursor(client, "j")
    assert cursor.wait(5.0)  # what the job had already: at once
    began = time.monotonic()
    assert not cursor.wait(0.2)  # nothing new: the whole wait
    assert time.monotonic() - began >= 0.15
    timer = threading.Timer(0.2, publish_event, (client, "j", "completed"))
    timer.start()
    try:
        began = time.monotonic()
        assert cursor.wait(10.0)
        assert time.monotonic() - began < 5.0  # woken by the event, not the timeout
    finally:
        timer.join()
    assert not cursor.wait(0.01)  # past it now


def test_a_cursor_moves_past_entries_not_written_here(client: redis.Redis) -> None:
    client.xadd(keys.events("j"), {"other": "x"})
    cursor = EventCursor(client, "j")
    assert cursor.wait(1.0)
    assert not cursor.wait(0.01)  # not returned again and again
