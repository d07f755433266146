"""``GET /v1/jobs/{id}/events`` over a real uvicorn: a job's events as Server-Sent Events, in
order, to its end, resumable after a dropped connection; other users' jobs stay invisible."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis
from fastapi import FastAPI

from orchestrator.api import CloudRenderingAPI
from orchestrator.api_keys import KeyStore
from orchestrator.job_events import publish_event, read_events
from orchestrator.job_record import JobRecord, JobState
from server import routes_events
from tests.helpers import colour_project
from tests.server.conftest import ServerCluster, bearer

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def api(api_app: FastAPI) -> CloudRenderingAPI:
    """The Python API the service runs on."""
    service: CloudRenderingAPI = api_app.state.api
    return service


@pytest.fixture
def store_client(server_cluster: ServerCluster) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(server_cluster.broker_url, decode_responses=True) as client:
        yield client


@dataclass
class Event:
    """One event as a client parses it off the stream."""

    id: str
    name: str
    data: dict[str, Any]


def stream(
    base: str,
    key: str,
    job: str,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    keep: int | None = None,
    on_comment: Any = None,
) -> list[Event]:
    """The events of one connection to the job's stream, read until the server ends it (or,
    with ``keep``, until that many arrived: then the connection is dropped)."""
    events: list[Event] = []
    fields: dict[str, str] = {}
    url = f"{base}/v1/jobs/{job}/events"
    with httpx.stream(
        "GET",
        url,
        headers={**bearer(key), **(headers or {})},
        params=params,
        timeout=httpx.Timeout(10.0, read=60.0),
    ) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith(":") and on_comment is not None:
                on_comment(line)
            elif line and not line.startswith(":"):
                name, _, value = line.partition(": ")
                fields[name] = value
            elif "data" in fields:
                events.append(Event(fields["id"], fields["event"], json.loads(fields["data"])))
                fields = {}
                if keep is not None and len(events) >= keep:
                    break  # leaving the block closes the connection mid-stream
            else:
                fields = {}  # a block without data (retry:) dispatches nothing
    return events


def user_of(cluster: ServerCluster, key: str) -> str:
    with redis.Redis.from_url(cluster.broker_url, decode_responses=True) as client:
        found = KeyStore(client).authenticate(key)
    assert found is not None
    return found.user


def submit(api: CloudRenderingAPI, user: str, seconds: float, chunk_frames: int) -> str:
    """A flat-colour job at 320x180 for ``user``."""
    return api.submit_job(
        colour_project(seconds),
        output="events.mp4",
        local_delivery=False,
        chunk_frames=chunk_frames,
        user=user,
    )


def without_status(event: Event) -> dict[str, Any]:
    return {k: v for k, v in event.data.items() if k != "status"}


def test_a_jobs_stream_delivers_every_event_in_order_to_completed(
    live_server: str,
    api: CloudRenderingAPI,
    server_cluster: ServerCluster,
    user_key: str,
    store_client: redis.Redis,
) -> None:
    published: list[dict[str, Any]] = []
    subscription = api.on_progress_update(published.append)
    try:
        job = submit(api, user_of(server_cluster, user_key), 2.0, chunk_frames=20)
        events = stream(live_server, user_key, job)
        deadline = time.monotonic() + 10  # the listener thread may not have read the last one
        while not any(m["job"] == job and m["event"] == "completed" for m in published):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        subscription.stop()
    assert events[-1].name == "completed"
    # Every event of the job, each once, in the order published on the progress channel
    logged = read_events(store_client, job, count=10_000)
    assert [e.id for e in events] == [entry_id for entry_id, _ in logged]
    assert [without_status(e) for e in events] == [m for m in published if m["job"] == job]
    progress: dict[int, list[int]] = {}
    for event in events:
        assert event.data["job"] == job and event.data["event"] == event.name
        if event.name == "progress":
            progress.setdefault(event.data["chunk"], []).append(event.data["done"])
    assert sorted(progress) == [0, 1, 2]
    assert all(done == sorted(done) and done[-1] == 20 for done in progress.values())
    states = [e.data["state"] for e in events if e.name == "state"]
    assert states == ["planning", "rendering", "merging", "completed"]
    final = events[-1].data["status"]
    assert final["state"] == "completed" and final["progress"] == 1.0
    assert final["frames_done"] == final["frames"] == 60 and final["actual_cost"] > 0


def test_a_dropped_connection_resumes_right_after_the_last_event(
    live_server: str,
    api: CloudRenderingAPI,
    server_cluster: ServerCluster,
    user_key: str,
    store_client: redis.Redis,
) -> None:
    job = submit(api, user_of(server_cluster, user_key), 4.0, chunk_frames=10)
    first = stream(live_server, user_key, job, keep=5)
    time.sleep(0.5)  # the job goes on while nobody listens
    rest = stream(live_server, user_key, job, headers={"Last-Event-ID": first[-1].id})
    assert rest[-1].name == "completed"
    ids = [e.id for e in first + rest]
    logged = [entry_id for entry_id, _ in read_events(store_client, job, count=10_000)]
    assert ids == logged  # no gap, no duplicate
    # ?after= (for clients that cannot set the header) replays a finished job's rest, then ends
    again = stream(live_server, user_key, job, params={"after": ids[2]})
    assert [e.id for e in again] == ids[3:]


@pytest.mark.parametrize(
    ("keepalive", "comments_before_cancel"),
    [
        (0.3, 2),
        # Longer than redis-py 8's 5 s socket timeout: the blocking XREAD must not be cut
        (6.0, 1),
    ],
    ids=["short", "past-the-redis-socket-timeout"],
)
def test_a_waiting_stream_keeps_alive_and_ends_when_the_job_is_cancelled(
    live_server: str,
    api: CloudRenderingAPI,
    server_cluster: ServerCluster,
    user_key: str,
    monkeypatch: pytest.MonkeyPatch,
    keepalive: float,
    comments_before_cancel: int,
) -> None:
    monkeypatch.setattr(routes_events, "KEEPALIVE_SECONDS", keepalive)
    user = user_of(server_cluster, user_key)
    job = f"idle{comments_before_cancel}"
    api.store.create(JobRecord(id=job, user=user, state=JobState.QUEUED, frames=30), {})
    comments: list[str] = []

    def cancel_once(line: str) -> None:
        comments.append(line)
        if len(comments) == comments_before_cancel:
            threading.Thread(target=api.cancel_job, args=(job,)).start()

    events = stream(live_server, user_key, job, on_comment=cancel_once)
    assert comments[:comments_before_cancel] == [": keep-alive"] * comments_before_cancel
    assert [e.name for e in events] == ["state", "cancelled"]
    assert events[-1].data["status"]["state"] == "cancelled"


def test_other_users_and_unknown_jobs_are_not_found(
    live_server: str,
    api: CloudRenderingAPI,
    server_cluster: ServerCluster,
    user_key: str,
    other_user_key: str,
    operator_key: str,
) -> None:
    owner = user_of(server_cluster, user_key)
    api.store.create(JobRecord(id="mine", user=owner, state=JobState.QUEUED), {})
    api.store.transition("mine", JobState.CANCELLED, finished_at=time.time() - 60)
    last = publish_event(api.store.redis, "mine", "cancelled")
    for key, job in ((other_user_key, "mine"), (user_key, "nope"), (user_key, "bad.id")):
        answer = httpx.get(f"{live_server}/v1/jobs/{job}/events", headers=bearer(key))
        assert answer.status_code == 404, (job, answer.text)
        assert "not found" in answer.json()["error"] or "no job" in answer.json()["error"]
    assert httpx.get(f"{live_server}/v1/jobs/mine/events").status_code == 401
    bad = httpx.get(
        f"{live_server}/v1/jobs/mine/events", headers={**bearer(user_key), "Last-Event-ID": "x"}
    )
    assert bad.status_code == 400 and "event id" in bad.json()["error"]
    huge = {**bearer(user_key), "Last-Event-ID": "99999999999999999999-0"}  # over 2**64 - 1
    bad = httpx.get(f"{live_server}/v1/jobs/mine/events", headers=huge)
    assert bad.status_code == 400 and "event id" in bad.json()["error"]
    # The owner and operators see it: an ended job's log, then the end
    for key in (user_key, operator_key):
        assert [e.name for e in stream(live_server, key, "mine")] == ["state", "cancelled"]
    # Resuming after the end of an ended job: 204, which stops a browser's reconnecting
    done = httpx.get(
        f"{live_server}/v1/jobs/mine/events", headers={**bearer(user_key), "Last-Event-ID": last}
    )
    assert done.status_code == 204 and done.content == b""
    # EventSource cannot set headers: ?key= works too
    with httpx.stream("GET", f"{live_server}/v1/jobs/mine/events", params={"key": user_key}) as r:
        assert r.status_code == 200 and "event: cancelled" in r.read().decode()


def test_a_server_following_its_limit_of_streams_asks_to_retry(
    live_server: str,
    api: CloudRenderingAPI,
    server_cluster: ServerCluster,
    user_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routes_events, "MAX_STREAMS", 0)
    api.store.create(JobRecord(id="busy", user=user_of(server_cluster, user_key)), {})
    answer = httpx.get(f"{live_server}/v1/jobs/busy/events", headers=bearer(user_key))
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
    assert "retry" in answer.json()["error"]


def test_one_key_cannot_take_every_stream_of_the_server(
    live_server: str,
    api: CloudRenderingAPI,
    server_cluster: ServerCluster,
    user_key: str,
    other_user_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routes_events, "MAX_STREAMS_PER_KEY", 1)
    for owner in (user_key, other_user_key):
        job = f"held-{user_of(server_cluster, owner)}"
        api.store.create(JobRecord(id=job, user=user_of(server_cluster, owner)), {})
    url = f"{live_server}/v1/jobs/held-alice/events"
    with httpx.stream("GET", url, headers=bearer(user_key), timeout=10) as held:
        assert held.status_code == 200
        lines = held.iter_lines()
        next(lines)  # the stream is open (kept: a dropped iterator closes the connection)
        refused = httpx.get(url, headers=bearer(user_key))
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "5"
        assert "holds 1 event streams already" in refused.json()["error"]
        # Another tenant's streams are its own
        other = f"{live_server}/v1/jobs/held-bob/events"
        with httpx.stream("GET", other, headers=bearer(other_user_key), timeout=10) as theirs:
            assert theirs.status_code == 200


def test_a_revoked_keys_open_stream_ends(
    live_server: str,
    api: CloudRenderingAPI,
    server_cluster: ServerCluster,
    key_store: KeyStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routes_events, "RECHECK_SECONDS", 0.2)
    record, token = key_store.create("dave", label="soon revoked")
    api.store.create(JobRecord(id="long", user="dave", state=JobState.QUEUED), {})
    threading.Timer(0.5, key_store.revoke, args=(record.id,)).start()
    began = time.monotonic()
    events = stream(live_server, token, "long")
    assert [e.name for e in events] == ["problem"]
    assert events[0].data == {"error": "the API key was revoked"}
    assert time.monotonic() - began < 5  # not at the job's end, hours later


def test_a_slow_redis_while_a_stream_opens_holds_up_no_other_request(
    live_server: str,
    api: CloudRenderingAPI,
    server_cluster: ServerCluster,
    user_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reads that open a stream (the job's owner, its end) wait on Redis off the event
    loop: 20 streams reconnecting to a slow Redis froze /healthz for 18 s."""
    api.store.create(JobRecord(id="slowly", user=user_of(server_cluster, user_key)), {})
    entered = threading.Event()
    real = routes_events.check_visible

    def slow_check(*args: Any) -> None:
        entered.set()
        time.sleep(2.0)  # a Redis that takes its time to answer
        real(*args)

    def open_and_leave() -> None:
        url = f"{live_server}/v1/jobs/slowly/events"
        with httpx.stream("GET", url, headers=bearer(user_key), timeout=10) as response:
            next(response.iter_lines())

    monkeypatch.setattr(routes_events, "check_visible", slow_check)
    opening = threading.Thread(target=open_and_leave, daemon=True)
    opening.start()
    assert entered.wait(10)
    began = time.monotonic()
    assert httpx.get(f"{live_server}/healthz", timeout=10).json() == {"ok": True}
    assert time.monotonic() - began < 1.0
    opening.join(15)


def test_streams_connecting_at_once_cannot_pass_the_keys_limit(
    live_server: str,
    api: CloudRenderingAPI,
    server_cluster: ServerCluster,
    user_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """300 connects at once with one key opened up to 80 streams where the limit was 50."""
    monkeypatch.setattr(routes_events, "MAX_STREAMS_PER_KEY", 3)
    user = user_of(server_cluster, user_key)
    api.store.create(JobRecord(id="crowded", user=user, state=JobState.QUEUED), {})
    connects = 10
    together = threading.Barrier(connects)
    real = routes_events.check_visible

    def all_at_once(*args: Any) -> None:
        together.wait(10)  # every connect passes its checks at the same moment
        real(*args)

    monkeypatch.setattr(routes_events, "check_visible", all_at_once)
    codes: list[int] = []
    close = threading.Event()

    def connect() -> None:
        url = f"{live_server}/v1/jobs/crowded/events"
        with httpx.stream("GET", url, headers=bearer(user_key), timeout=20) as response:
            codes.append(response.status_code)
            if response.status_code == 200:
                close.wait(20)  # held open until every connect has its answer

    threads = [threading.Thread(target=connect, daemon=True) for _ in range(connects)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(codes) < connects and time.monotonic() < deadline:
        time.sleep(0.05)
    close.set()
    for thread in threads:
        thread.join(20)
    assert sorted(codes) == [200] * 3 + [429] * (connects - 3)
    deadline = time.monotonic() + 10  # closed streams give their slots back
    while routes_events._slots.total and time.monotonic() < deadline:
        time.sleep(0.05)
    assert routes_events._slots.total == 0


@pytest.mark.parametrize("where", ["header", "query"])
def test_resuming_after_the_largest_stream_id_is_not_an_event_id(
    live_server: str,
    api: CloudRenderingAPI,
    server_cluster: ServerCluster,
    user_key: str,
    where: str,
) -> None:
    """Redis refuses to read after its largest id: the answer was 500 'Redis refused'."""
    job = f"over-{where}"
    api.store.create(JobRecord(id=job, user=user_of(server_cluster, user_key)), {})
    api.store.transition(job, JobState.CANCELLED, finished_at=time.time() - 60)
    publish_event(api.store.redis, job, "cancelled")
    largest = f"{2**64 - 1}-{2**64 - 1}"
    headers = {**bearer(user_key), **({"Last-Event-ID": largest} if where == "header" else {})}
    params = {"after": largest} if where == "query" else {}
    answer = httpx.get(f"{live_server}/v1/jobs/{job}/events", headers=headers, params=params)
    assert answer.status_code == 400 and "is not an event id" in answer.json()["error"]


@pytest.mark.parametrize(
    ("state", "eta"), [("rendering", 12.5), ("completed", 0.0), ("cancelled", None)]
)
def test_a_streams_status_shows_no_time_left_once_the_job_ended(
    state: str, eta: float | None
) -> None:
    # Given a record whose last tick said 12.5 s to go
    raw = {name: None for name in routes_events._STATUS_FIELDS}
    raw.update(state=json.dumps(state), frames="20", eta_seconds="12.5")
    chunk = json.dumps({"frames_done": 10})
    # Then the status the events carry says so only while the job runs
    assert routes_events.summarize(raw, [chunk, chunk])["eta_seconds"] == eta


@pytest.mark.parametrize("after", ["\u0661\u0662-\u0661", "1-\uff11"], ids=["arabic", "fullwidth"])
def test_an_event_id_in_other_digits_than_ascii_is_not_an_event_id(
    live_server: str,
    api: CloudRenderingAPI,
    server_cluster: ServerCluster,
    user_key: str,
    after: str,
) -> None:
    """Python's \\d and int() read Arabic-Indic and full-width digits; Redis does not: such an
    id was taken, and the stream answered 200 with nothing in it."""
    job = f"digits-{len(after)}"
    api.store.create(JobRecord(id=job, user=user_of(server_cluster, user_key)), {})
    api.store.transition(job, JobState.CANCELLED, finished_at=time.time() - 60)
    publish_event(api.store.redis, job, "cancelled")
    answer = httpx.get(
        f"{live_server}/v1/jobs/{job}/events", headers=bearer(user_key), params={"after": after}
    )
    assert answer.status_code == 400 and "is not an event id" in answer.json()["error"]
