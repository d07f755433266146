"""The service's limits: requests at once, request body size, JSON content type, per-key
request rate and per-key concurrent jobs. A key's daily and monthly spend goes through the cost
budgets (orchestrator.budgets.check_budget, which submit_job calls with the job's user and
project).

Body pace: a body that stalls for BODY_IDLE_SECONDS, or after BODY_GRACE_SECONDS has come at
under BODY_MIN_RATE, is answered 408 (headers have their own deadline: server.protocol).

Body size: a declared ``Content-Length`` over the limit is refused before a byte is read; a
chunked (or lying) body is counted as it arrives and refused the moment it passes the limit,
so an endless upload costs the service no more than the limit. JSON routes take
``api_max_body_bytes``; asset uploads (``PUT /v1/assets/...``) ``api_max_asset_bytes``.

Requests at once: ``RequestCap`` counts the requests in flight (event streams included) and
answers 503 with Retry-After over its cap (``cloudrender serve`` sets it below the process's
file-descriptor limit); idle connections are not counted: a crowd of them, which need no key,
refused every client with one.

Rate: a token bucket per key, held in this process (a key's ``rate_per_minute``, else the
service's ``api_rate_per_minute``): the bucket holds a minute's worth and refills evenly, so a
client may burst up to its whole minute and then keeps the rate. Several ``serve`` processes
behind one proxy each keep their own buckets (a key gets N times its rate); the proxy is the
place for a global limit. Over the rate: 429 with Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.api_keys import ApiKey
from orchestrator.job_record import JobNotFound
from orchestrator.job_store import JobStore
from server.errors import QuotaExceeded, error_body

#: Seconds a client over its concurrent-jobs quota is told to wait before trying again.
QUOTA_RETRY_SECONDS = 30
#: Buckets idle this long are forgotten (a full bucket is the same as none).
_IDLE_BUCKET_SECONDS = 120.0
#: The upload route, whose body is raw media (own size limit, any content type).
ASSET_PREFIX = "/v1/assets/"


class RateLimiter:
    """Per-key token buckets in this process."""

    def __init__(self, default_per_minute: int) -> None:
        self.default = default_per_minute
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, last time)
        self._lock = threading.Lock()
        self._swept = time.monotonic()

    def take(self, key: ApiKey, now: float | None = None) -> None:
        """Count one request of ``key``; QuotaExceeded (429, Retry-After) over its rate."""
        rate = key.rate_per_minute or self.default
        if rate <= 0:
            return  # 0 turns the limit off
        now = time.monotonic() if now is None else now
        per_second = rate / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key.id, (float(rate), now))
            tokens = min(float(rate), tokens + (now - last) * per_second)
            if tokens < 1.0:
                self._buckets[key.id] = (tokens, now)
                wait = (1.0 - tokens) / per_second
                raise QuotaExceeded(
                    f"key {key.id} is over its rate of {rate} requests per minute; "
                    f"retry in {wait:.0f} s",
                    wait,
                )
            self._buckets[key.id] = (tokens - 1.0, now)
            if now - self._swept > _IDLE_BUCKET_SECONDS:
                self._sweep(now)

    def _sweep(self, now: float) -> None:
        self._swept = now
        idle = [k for k, (_, last) in self._buckets.items() if now - last > _IDLE_BUCKET_SECONDS]
        for key_id in idle:
            del self._buckets[key_id]


def check_job_quota(store: JobStore, key: ApiKey) -> None:
    """Refuse a submit (429) when the key's user already has ``max_concurrent_jobs`` unfinished
    jobs. Counted over the user's jobs (a job records its user, not the key that sent it)."""
    limit = key.max_concurrent_jobs
    if limit is None:
        return
    running = 0
    for job_id in store.active():
        try:
            user = store.get_fields(job_id, "user")["user"]
        except JobNotFound:
            continue  # finished and expired meanwhile
        running += user == key.user
    if running >= limit:
        raise QuotaExceeded(
            f"key {key.id} may have {limit} unfinished job(s) at once and user {key.user} has "
            f"{running}; wait for one to finish or cancel one",
            QUOTA_RETRY_SECONDS,
        )


class BodyTooLarge(HTTPException):
    """Raised inside receive() when a body passes its limit: an HTTPException, so that FastAPI's
    body parsing and a streaming route let it through to the 413 answer."""

    def __init__(self, asset: bool, limit: int) -> None:
        super().__init__(413, _too_large(asset, limit))


#: A body must not pause longer than this between two of its parts, and after the grace it
#: must have come at this rate at least: a client that sends its headers and then a byte now
#: and then held its connection (and a slot of the server) for ever.
BODY_IDLE_SECONDS = 30.0
BODY_GRACE_SECONDS = 60.0
BODY_MIN_RATE = 1024  # bytes a second


class BodyTooSlow(HTTPException):
    """Raised inside receive() when a body stalls or drips: answered 408."""

    def __init__(self, why: str) -> None:
        super().__init__(408, why)
        self.why = why

    def __str__(self) -> str:
        """Why the body was too slow."""
        return self.why


class BodyLimitMiddleware:
    """Refuse request bodies over the limit (413) and non-JSON bodies on JSON routes (415)."""

    def __init__(self, app: ASGIApp, *, max_body: int, max_asset: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_asset = max_asset

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its body counted."""
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        asset = scope["method"] == "PUT" and scope["path"].startswith(ASSET_PREFIX)
        limit = self.max_asset if asset else self.max_body
        headers = _headers(scope)
        declared = headers.get("content-length")
        if declared is not None:
            length = declared_length(declared)
            if length is None:
                await _refuse(send, 400, "Content-Length is not a number")
                return
            if length > limit:
                await _refuse(send, 413, _too_large(asset, limit))
                return
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if not asset and kind and kind != "application/json" and not kind.endswith("+json"):
            await _refuse(send, 415, f"send JSON (Content-Type: application/json), not {kind}")
            return
        received = 0
        started = False
        body_done = False
        began = time.monotonic()

        async def counted_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # waiting for a disconnect (a stream), not for a body
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), BODY_IDLE_SECONDS)
            except TimeoutError:
                raise BodyTooSlow(f"no byte of the body came for {BODY_IDLE_SECONDS:g} s") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(asset, limit)
                body_done = not message.get("more_body", False)
                seconds = time.monotonic() - began
                if (
                    not body_done
                    and seconds > BODY_GRACE_SECONDS
                    and (received < BODY_MIN_RATE * seconds)
                ):
                    raise BodyTooSlow(f"the body came at under {BODY_MIN_RATE} bytes a second")
            else:
                body_done = True
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await _refuse(send, 413, _too_large(asset, limit))
        except BodyTooSlow as exc:
            if not started:
                await _refuse(send, 408, f"request body too slow: {exc}; send it again")


#: Seconds a request refused for the server's load is told to wait before it tries again.
BUSY_RETRY_SECONDS = 5
#: Never refused for load: a liveness probe failing under load restarts a busy server.
_ALWAYS_ANSWERED = frozenset({"/healthz"})


class RequestCap:
    """Answer 503 (JSON, Retry-After) to a request that comes while ``most`` requests of this
    app are in flight (event streams included): each holds a connection and may open more
    (Redis, storage), and a process out of file descriptors fails every request it has. Inside
    the CORS middleware, so the editor can show the refusal."""

    def __init__(self, app: ASGIApp, *, most: int | None) -> None:
        self.app = app
        self.most = most
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counted, or refuse it over the cap."""
        if self.most is None or scope["type"] != "http" or scope["path"] in _ALWAYS_ANSWERED:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.most:
            await _refuse(
                send,
                503,
                f"this server is answering {self.most} requests at once; retry in "
                f"{BUSY_RETRY_SECONDS} s",
                {"retry-after": str(BUSY_RETRY_SECONDS)},
            )
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


#: Digits past which a declared length is over any limit: Python refuses int() of over 4300
#: digits (a Content-Length of 5000 nines answered 500), and no body is 10**18 bytes.
_MAX_LENGTH_DIGITS = 18


def declared_length(text: str) -> int | None:
    """A ``Content-Length`` value in bytes (one over any limit when it has more digits than a
    body can have); None when it is not ASCII digits (``str.isdigit`` also takes "²", which
    int() refuses)."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_LENGTH_DIGITS else 10**_MAX_LENGTH_DIGITS


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _too_large(asset: bool, limit: int) -> str:
    what = "an asset upload" if asset else "a request body"
    setting = "ASSET" if asset else "BODY"
    return f"{what} may be at most {limit} bytes (CLOUDRENDER_API_MAX_{setting}_BYTES)"


async def _refuse(
    send: Send, status: int, message: str, extra: dict[str, str] | None = None
) -> None:
    body = json.dumps(error_body(message)).encode()
    headers: list[Any] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((name.encode(), value.encode()) for name, value in (extra or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
