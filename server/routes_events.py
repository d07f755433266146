"""``GET /v1/jobs/{id}/events``: a job's progress as Server-Sent Events.

The job's event log (orchestrator.job_events, a Redis stream) is replayed after the id the
client last saw (``Last-Event-ID``, or ``?after=``), then followed with blocking XREADs on
asyncio Redis connections (a pool per event loop, its idle connections closed when the last
stream ends), so a waiting stream costs one idle Redis connection and no thread; the blocking
reads that open a stream (may the key see the job, did it end) run in the thread pool, so a slow
Redis holds up no other request while streams connect. Each event goes out as ``id:`` /
``event:`` / ``data:`` lines; its data carries a ``status`` summary of the job (state, progress,
frames, cost so far, ETA) read once per batch of events and shared by every stream of the job in
this process for a moment. The stream ends after the job's last event
(completed, failed, cancelled), also for a job that had ended before the client came.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool

from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_keys import ApiKey
from orchestrator.job_events import TERMINAL_EVENTS, parse_entry, read_events
from orchestrator.job_record import JobNotFound, JobState, settled_eta
from server.auth import api_of, bearer_token, check_visible, key_from_query, keys_of
from server.errors import ApiError, error_responses
from server.stream_slots import HeldStream, StreamSlots, closing_of

#: Seconds without an event after which a comment line keeps proxies from closing the stream.
KEEPALIVE_SECONDS = 15.0
#: Seconds a stream of a finished job waits for its last event (published just after the state
#: change) before it ends without it (an old job whose log lost it).
FINISH_GRACE_SECONDS = 2.0
#: Milliseconds a browser's EventSource waits before it reconnects (the ``retry:`` field).
RETRY_MS = 1000
#: Events read (and sent) per batch.
BATCH = 100
#: Event streams one server process follows at once (each holds a Redis connection while it
#: waits); more are answered 503 with Retry-After.
MAX_STREAMS = 2000
#: Event streams one API key may hold open in one server process: one tenant cannot take
#: every stream of the others (more are answered 429 with Retry-After).
MAX_STREAMS_PER_KEY = 50
#: Seconds between checks that a stream's key is still live: a revoked key's stream ends.
RECHECK_SECONDS = 5.0
#: Connections the pool may open beyond one per stream (status reads that outlive their stream).
POOL_SPARE = 64
#: Seconds a job's status summary may be shared between its streams in this process.
STATUS_MAX_AGE = 0.5

_log = logging.getLogger(__name__)
#: ASCII digits only: \d and int() also read Arabic-Indic and full-width ones, which Redis does
#: not (such an id was taken, and answered with an empty stream).
_STREAM_ID = re.compile(r"[0-9]{1,20}(-[0-9]{1,20})?")
_LARGEST_ID = f"{2**64 - 1}-{2**64 - 1}"
_STATUS_FIELDS = (
    "state",
    "frames",
    "actual_cost",
    "eta_seconds",
    "node_seconds",
    "pool_seconds",
    "pool_cost",
    "hourly_rate",
)
_FINISHED = frozenset(str(s) for s in JobState if s.finished)


router = APIRouter(tags=["jobs"])


@router.get(
    "/v1/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The job's events as Server-Sent Events",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        204: {"description": "The job is over and nothing follows the given event id"},
        **error_responses(
            400, 404, 503, e400="Last-Event-ID or after is not an event id", e503="too many streams"
        ),
    },
    summary="Follow a job's progress (Server-Sent Events)",
)
async def job_events(
    request: Request,
    job_id: str,
    key: Annotated[ApiKey, Depends(key_from_query)],
    after: Annotated[
        str | None, Query(description="resume after this event id (exclusive)")
    ] = None,
    last_event_id: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Stream the job's events after ``Last-Event-ID`` (or ``?after=``), live, until its end."""
    start = last_event_id or after or "0"
    # Blocking Redis reads: in the thread pool, or a slow Redis would hold up every request.
    if await run_in_threadpool(_nothing_follows, api_of(request), key, job_id, start):
        # 204 tells a browser's EventSource to stop reconnecting.
        return Response(status_code=204)
    url = api_of(request).broker_url
    token = bearer_token(request) or request.query_params.get("key") or ""
    store = keys_of(request)

    def still_live() -> bool:
        return store.authenticate(token) is not None

    # Taken here, not once the body starts: connects racing each other all passed the count.
    release = _slots.take(key.id, MAX_STREAMS, MAX_STREAMS_PER_KEY)
    return HeldStream(
        _stream(url, job_id, start, still_live, closing_of(request)),
        release,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


#: the event streams this process holds open (all of them, and per API key)
_slots = StreamSlots()


async def _stream(
    url: str,
    job_id: str,
    after: str,
    still_live: Callable[[], bool] | None = None,
    closing: threading.Event | None = None,
) -> AsyncIterator[str]:
    """The SSE body, on the process's shared connections; a Redis that goes away ends it
    (the client reconnects with its last event id), never a traceback mid-response."""
    async with _shared(url) as shared:
        try:
            async for chunk in _follow(shared, job_id, after, still_live, closing):
                yield chunk
        except (RedisError, OSError) as exc:
            _log.warning("event stream of job %s ended: Redis %s", job_id, type(exc).__name__)


async def _follow(
    shared: _Shared,
    job_id: str,
    after: str,
    still_live: Callable[[], bool] | None = None,
    closing: threading.Event | None = None,
) -> AsyncIterator[str]:
    """Replay after ``after``, follow, end after the job's last event (or once ``still_live``,
    asked every RECHECK_SECONDS, says the key was revoked, or once the server is ``closing``:
    the client resumes on another after its last event id)."""
    client = aioredis.Redis(connection_pool=shared.pool)
    yield f"retry: {RETRY_MS}\n\n"
    status = await shared.status(client, job_id, time.monotonic() - STATUS_MAX_AGE)
    grace_until = _grace(status, None)
    stream = keys.events(job_id)
    checked = sent = time.monotonic()
    while True:
        if closing is not None and closing.is_set():
            return  # a clean end within RECHECK_SECONDS, not a cut after the graceful timeout
        if still_live is not None and time.monotonic() - checked >= RECHECK_SECONDS:
            checked = time.monotonic()
            if not await anyio.to_thread.run_sync(_live, still_live):
                yield format_event("revoked", "problem", {"error": "the API key was revoked"})
                return
        wait = KEEPALIVE_SECONDS - (time.monotonic() - sent)
        if grace_until is not None:
            wait = min(wait, grace_until - time.monotonic())
        if still_live is not None:
            wait = min(wait, RECHECK_SECONDS)  # wake in time to ask about the key
        reply = await client.xread({stream: after}, count=BATCH, block=max(int(wait * 1000), 1))
        received = time.monotonic()
        batch = [e for e in map(parse_entry, reply[0][1] if reply else []) if e is not None]
        if reply and not batch:
            after = str(reply[0][1][-1][0])  # only entries not written by publish_event
            continue
        if not batch:
            if grace_until is not None and received >= grace_until:
                return
            if received - sent >= KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                sent = received
                status = await shared.status(client, job_id, received - STATUS_MAX_AGE)
                grace_until = _grace(status, grace_until)
            continue
        # A state change needs a summary read after it; other events take a recent one.
        changed = _changes_state(m for _, m in batch)
        since = received if changed else received - STATUS_MAX_AGE
        status = await shared.status(client, job_id, since)
        sent = time.monotonic()
        for entry_id, message in batch:
            message["status"] = status
            yield format_event(entry_id, str(message.get("event", "message")), message)
            after = entry_id
            if message.get("event") in TERMINAL_EVENTS:
                return
        grace_until = _grace(status, grace_until)


def _live(still_live: Callable[[], bool]) -> bool:
    """Whether the key is live; a Redis that cannot say keeps the stream (its reads report)."""
    try:
        return still_live()
    except RedisError:
        return True


def _nothing_follows(api: CloudRenderingAPI, key: ApiKey, job_id: str, start: str) -> bool:
    """Whether the job (404 unless ``key`` may see it) ended with nothing after ``start``
    (400 unless it is an event id)."""
    check_visible(api, key, job_id)
    if (
        not _STREAM_ID.fullmatch(start)
        or any(int(part) >= 2**64 for part in start.split("-"))
        # No entry can follow the largest id: Redis refuses to read after it (it answered 500).
        or start == _LARGEST_ID
    ):
        raise ApiError(f"{start!r} is not an event id (the id: line of an event, e.g. 1700-0)")
    return start != "0" and _ended_before(api, job_id, start)


def _ended_before(api: CloudRenderingAPI, job_id: str, after: str) -> bool:
    """Whether the job is over (for longer than its last event may lag behind its end) and
    its log holds nothing after ``after``."""
    try:
        fields = api.store.get_fields(job_id, "state", "finished_at")
    except JobNotFound:
        return True
    over = fields["state"] in _FINISHED and fields["finished_at"] is not None
    if not over or time.time() - float(fields["finished_at"]) < FINISH_GRACE_SECONDS:
        return False
    return not read_events(api.store.redis, job_id, after=after, count=1)


def format_event(entry_id: str, name: str, data: dict[str, Any]) -> str:
    """One event in the text/event-stream format."""
    return f"id: {entry_id}\nevent: {name}\ndata: {json.dumps(data)}\n\n"


@dataclass
class _Shared:
    """What the streams of one event loop on one Redis share: a connection pool, and the
    status summaries being read, so that the streams of a job woken by the same event make one
    read between them, not one each."""

    pool: aioredis.ConnectionPool
    users: int = 0
    reads: dict[str, tuple[float, asyncio.Future[dict[str, Any]]]] = field(default_factory=dict)

    async def status(self, client: aioredis.Redis, job_id: str, since: float) -> dict[str, Any]:
        """The job's status summary from a read started at ``since`` (monotonic) or later."""
        started, read = self.reads.get(job_id, (-1.0, None))
        if read is None or started < since:
            if len(self.reads) > 1000:
                self.reads.clear()  # streams of many jobs came and went
            read = asyncio.ensure_future(job_status(client, job_id))
            self.reads[job_id] = (time.monotonic(), read)
        # Shielded: a stream that goes away does not cancel the read its neighbours await.
        return await asyncio.shield(read)


@asynccontextmanager
async def _shared(url: str) -> AsyncIterator[_Shared]:
    """The running loop's shared connections to ``url``: streams reuse connections (no connect
    and handshake per stream under load); once the last stream ends, the idle connections are
    closed, so nothing stays open between streams."""
    by_url = _by_loop.setdefault(asyncio.get_running_loop(), {})
    shared = by_url.get(url)
    if shared is None:
        # A waiting stream holds a connection: room for every stream (the default is 100).
        # A blocking XREAD waits up to KEEPALIVE_SECONDS: the socket must wait longer (redis-py
        # 8's default of 5 s cut every stream of a job with no event for 5 s).
        pool = aioredis.ConnectionPool.from_url(
            url,
            decode_responses=True,
            max_connections=MAX_STREAMS + POOL_SPARE,
            socket_timeout=KEEPALIVE_SECONDS + FINISH_GRACE_SECONDS + 10,
        )
        shared = by_url[url] = _Shared(pool)
    shared.users += 1
    try:
        yield shared
    finally:
        shared.users -= 1
        if shared.users == 0:
            shared.reads.clear()
            with anyio.CancelScope(shield=True):  # a cancelled stream still closes them
                await shared.pool.disconnect(inuse_connections=False)


#: event loop -> Redis URL -> what its streams share (a loop that ends takes it along)
_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Shared]] = (
    weakref.WeakKeyDictionary()
)


async def job_status(client: aioredis.Redis, job_id: str) -> dict[str, Any]:
    """The job's status summary, in one round trip (its record's fields, its chunk records)."""
    pipe = client.pipeline(transaction=False)
    pipe.hmget(keys.job(job_id), list(_STATUS_FIELDS))
    pipe.hvals(keys.chunks(job_id))
    values, chunks = await pipe.execute()
    return summarize(dict(zip(_STATUS_FIELDS, values, strict=True)), chunks)


def summarize(raw: dict[str, str | None], chunks: Iterable[str]) -> dict[str, Any]:
    """The status summary from a job record's raw fields and its raw chunk records."""
    field = {name: json.loads(value) if value else None for name, value in raw.items()}
    frames = int(field["frames"] or 0)
    frames_done = 0
    for chunk in chunks:
        frames_done += int(json.loads(chunk).get("frames_done") or 0)
    # The actual cost is known at the end; until then, the node time charged so far.
    so_far = float(field["pool_cost"] or 0.0) + max(
        float(field["node_seconds"] or 0.0) - float(field["pool_seconds"] or 0.0), 0.0
    ) / 3600 * float(field["hourly_rate"] or 0.0)
    return {
        "state": field["state"],
        "progress": round(frames_done / frames, 4) if frames else 0.0,
        "frames_done": frames_done,
        "frames": frames,
        "actual_cost": float(field["actual_cost"] or 0.0) or so_far,
        "eta_seconds": (
            settled_eta(field["state"], field["eta_seconds"])
            if field["state"]
            else field["eta_seconds"]
        ),
    }


def _changes_state(messages: Iterable[dict[str, Any]]) -> bool:
    return any(m.get("event") == "state" or m.get("event") in TERMINAL_EVENTS for m in messages)


def _grace(status: dict[str, Any], current: float | None) -> float | None:
    """When a stream stops waiting for the last event: set once the job is seen finished (or
    gone: no state)."""
    if current is not None or (status["state"] is not None and status["state"] not in _FINISHED):
        return current
    return time.monotonic() + FINISH_GRACE_SECONDS
