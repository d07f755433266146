"""The web dashboard: its page (public HTML, no data), its static files from monitoring/web, and
its data for operators only: ``GET /v1/dashboard/snapshot`` and ``GET /v1/dashboard/events``
(Server-Sent Events, one ``snapshot`` event a second; ``?key=`` is accepted there because a
browser's EventSource cannot set headers).

One ``DashboardFeed`` per app reads the cluster for every viewer at once: a thread samples the
frames-rendered counters into the throughput history every few seconds while the app runs, and
computes one snapshot a second while someone watches, so 200 open dashboards cost the cluster
what one does. The page's key must not land in logs: ``RedactKey`` scrubs ``key=`` from the
access log's request lines.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any
from urllib.parse import unquote_plus

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException

from monitoring.web_dashboard import Throughput, frame_counters, host_gpu, snapshot
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_keys import ApiKey
from orchestrator.stats import NodeMetrics
from server.auth import OperatorKey, bearer_token, keys_of, operator_from_query
from server.errors import error_responses
from server.stream_slots import closing_of

log = logging.getLogger("cloudrender.server")

#: Seconds between snapshots on the live feed, between throughput samples, and between reads
#: of the node metrics (those read every stored job's chunks).
INTERVAL = 1.0
SAMPLE_EVERY = 5.0
NODES_EVERY = 5.0
#: Seconds between keep-alive comments on an SSE stream with nothing new to say.
KEEPALIVE = 15.0
#: Seconds a feed started by a viewer (not by the app's lifespan) outlives its last viewer.
LINGER = 30.0
#: A snapshot older than this (seconds) is not sent to a new viewer: a fresh one follows.
STALE = 3.0
#: Seconds between checks that a viewer's key is still live: a revoked key's open stream ends.
RECHECK = 5.0

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
#: The page loads nothing but its own files; the API answers fetch() and EventSource.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


# -- keeping the key out of the logs -----------------------------------------------------------

_PARAM = re.compile(r"([?&;])([^=&;\s\"]*)=([^&;\s\"]*)")
#: An API key anywhere in a line (orchestrator.api_keys: cr_<12 hex>_<secret>).
_TOKEN = re.compile(r"cr_[0-9a-fA-F]{12}_[A-Za-z0-9_\-%]+")


def redacted(text: str) -> str:
    """``text`` with the value of every query parameter whose name decodes to ``key`` (also
    spelled ``k%65y``) and every API key in it replaced by ``[redacted]``."""

    def param(found: re.Match[str]) -> str:
        if unquote_plus(found[2]).strip().lower() != "key":
            return found[0]
        return f"{found[1]}{found[2]}=[redacted]"

    return _TOKEN.sub("[redacted]", _PARAM.sub(param, text))


class RedactKey(logging.Filter):
    """Replaces API keys (a ``key`` query parameter's value, a key anywhere) in a log record by
    ``[redacted]``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub the record's arguments (uvicorn's access log passes the path as one)."""
        if isinstance(record.args, tuple):
            record.args = tuple(redacted(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redacted(record.msg)
        return True


def redact_access_log(logger: str = "uvicorn.access") -> None:
    """Install RedactKey on the access logger (once)."""
    target = logging.getLogger(logger)
    if not any(isinstance(f, RedactKey) for f in target.filters):
        target.addFilter(RedactKey())


# From the start: a refused ?key= (401, 403) is logged before any route of ours runs.
redact_access_log()


# -- one feed per app --------------------------------------------------------------------------


class DashboardFeed:
    """Reads the cluster for every viewer: a throughput history, and a snapshot a second while
    someone watches (a thread, since every read is a blocking Redis call)."""

    def __init__(
        self,
        api: CloudRenderingAPI,
        *,
        interval: float = INTERVAL,
        sample_every: float = SAMPLE_EVERY,
        nodes_every: float = NODES_EVERY,
    ) -> None:
        self.api = api
        self.interval = interval
        self.sample_every = sample_every
        self.nodes_every = nodes_every
        self.history = Throughput()
        self.latest: dict[str, Any] | None = None
        self.error: str | None = None
        self.version = 0  # bumped with every new snapshot or error
        self.watchers = 0
        self._lock = threading.Lock()
        self._sampling = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._nodes: tuple[float, list[NodeMetrics], float | None] | None = None
        self._sampled = 0.0
        self._persistent = False
        self._left = time.monotonic()  # when the last viewer left

    def start(self, *, persistent: bool = False) -> None:
        """Start the thread (again after stop()); a no-op while it runs. A persistent feed (the
        app's lifespan) samples until stop(); else the thread ends LINGER s after the last
        viewer left."""
        with self._lock:
            self._persistent = self._persistent or persistent
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="dashboard-feed", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """End the thread (waits for a Redis call in progress, briefly)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def watch(self, change: int) -> None:
        """A viewer arrived (+1) or left (-1)."""
        with self._lock:
            self.watchers += change
            if self.watchers == 0:
                self._left = time.monotonic()
        if change > 0:
            self.start()
            self._wake.set()  # the newcomer wants a snapshot now, not in a second

    def sample(self) -> None:
        """Add the frame counters' values to the throughput history, unless a sample was taken
        in the last sample_every seconds (errors logged, as often)."""
        with self._sampling:  # one at a time, in time order: the feed and snapshot requests
            now = time.time()
            if now - self._sampled < self.sample_every:
                return
            self._sampled = now
            try:
                counters = frame_counters(self.api.store.redis)
            except Exception as exc:  # a Redis restart must not end the feed
                log.warning("dashboard: cannot read the frame counters: %s", exc)
                return
            with self._lock:
                self.history.observe(counters, now)

    def read(self) -> dict[str, Any]:
        """A snapshot now, with the throughput chart (raises what the API raises)."""
        self.sample()
        now = time.time()
        cached = self._nodes
        if cached is None or now - cached[0] >= self.nodes_every:
            cached = (now, self.api.get_node_metrics(), host_gpu())
            self._nodes = cached
        # The jobs and nodes measured on the cluster's clock, as their records are written.
        data = snapshot(self.api, nodes=cached[1], host_gpu=cached[2])
        with self._lock:
            data["throughput"] = self.history.chart(now)
        return data

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if (
                    not self._persistent
                    and self.watchers == 0
                    and time.monotonic() - self._left > LINGER
                ):
                    self._thread = None
                    return
            if self.watchers > 0:
                try:
                    fresh, error = self.read(), None
                except Exception as exc:  # shown on the page; the feed goes on
                    fresh, error = None, _describe(exc)
                with self._lock:
                    if fresh is not None:
                        self.latest = fresh
                    self.error = error
                    self.version += 1
            else:
                self.sample()
            self._wake.wait(self.interval)
            self._wake.clear()


def _describe(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"the cluster cannot be read: {lines[0] if lines else type(exc).__name__}"


def feed_of(app: Any) -> DashboardFeed:
    """The app's dashboard feed, made on first use (its thread starts with the first viewer or
    with the app's lifespan)."""
    feed: DashboardFeed | None = getattr(app.state, "dashboard_feed", None)
    if feed is None:
        feed = DashboardFeed(app.state.api)
        app.state.dashboard_feed = feed
    return feed


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Sample the throughput from the app's start, so the chart has a history when opened."""
    redact_access_log()
    feed = None
    if getattr(app.state, "api", None) is not None:
        feed = feed_of(app)
        feed.start(persistent=True)
    try:
        yield
    finally:
        if feed is not None:
            await asyncio.to_thread(feed.stop)


router = APIRouter(lifespan=lifespan)


# -- the page and its files --------------------------------------------------------------------


#: What a dashboard file's name may be: a name longer than the disk allows raised in is_file()
#: (answered 500, to anyone: the files need no key).
_WEB_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


def _web_file(name: str) -> Response:
    folder = resources.files("monitoring") / "web"
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if not _WEB_NAME.fullmatch(name) or suffix not in _TYPES:
        raise HTTPException(404, f"no dashboard file {name[:100]!r}")
    target = folder / name
    if not target.is_file():
        raise HTTPException(404, f"no dashboard file {name!r}")
    return Response(target.read_bytes(), media_type=_TYPES[suffix], headers=_HEADERS)


# HEAD too: uptime probes and link checkers ask with it (it answered 405).
@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
def dashboard_page() -> Response:
    """The dashboard page (public: it holds no data; its login form asks for an operator key)."""
    return _web_file("index.html")


@router.api_route("/dashboard/{name}", methods=["GET", "HEAD"], include_in_schema=False)
def dashboard_file(name: str) -> Response:
    """The page's script, style sheet and other static files (monitoring/web)."""
    return _web_file(name)


# -- the data ----------------------------------------------------------------------------------


@router.get(
    "/v1/dashboard/snapshot",
    tags=["dashboard"],
    summary="everything the dashboard shows now",
    responses=error_responses(403, 503),
)
def dashboard_snapshot(request: Request, _: OperatorKey) -> dict[str, Any]:
    """Everything the dashboard shows now: nodes, queue by priority, active and recent jobs,
    spend, pools, budgets and the throughput of the last hour (operator)."""
    return feed_of(request.app).read()


def _live(still_live: Callable[[], bool]) -> bool:
    """Whether the key is live; a Redis that cannot say keeps the stream (the feed reports it)."""
    try:
        return still_live()
    except RedisError:
        return True


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.get(
    "/v1/dashboard/events",
    tags=["dashboard"],
    response_class=StreamingResponse,
    summary="the dashboard's snapshots, live (Server-Sent Events)",
    responses={
        200: {
            "description": "A snapshot event a second as Server-Sent Events",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **error_responses(403),
    },
)
async def dashboard_events(
    request: Request, _: Annotated[ApiKey, Depends(operator_from_query)]
) -> StreamingResponse:
    """Server-Sent Events: a ``snapshot`` event (the body of /v1/dashboard/snapshot) every
    second, a ``problem`` event ({"error"}) when the cluster cannot be read (operator; the key
    may come as ``?key=``, which the access log never shows)."""
    feed = feed_of(request.app)
    token = bearer_token(request) or request.query_params.get("key") or ""
    store = keys_of(request)

    def still_live() -> bool:
        return store.authenticate(token) is not None

    return StreamingResponse(
        snapshot_events(feed, still_live, closing_of(request)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def snapshot_events(
    feed: DashboardFeed,
    still_live: Callable[[], bool] | None = None,
    closing: threading.Event | None = None,
) -> AsyncGenerator[str, None]:
    """The SSE text of one viewer: the feed's snapshots (or problems) as they come; it ends with
    a ``problem`` event once ``still_live`` (checked every RECHECK seconds) says the viewer's
    key was revoked."""
    feed.watch(+1)
    try:
        yield "retry: 2000\n\n"
        seen = -1
        quiet_since = checked = time.monotonic()
        while True:
            if closing is not None and closing.is_set():
                return  # the server is stopping: end cleanly, the page reconnects elsewhere
            if still_live is not None and time.monotonic() - checked >= RECHECK:
                checked = time.monotonic()
                if not await anyio.to_thread.run_sync(_live, still_live):
                    yield _event("problem", {"error": "the API key was revoked"})
                    return
            if feed.version != seen:
                seen = feed.version
                latest, error = feed.latest, feed.error
                if error is not None:
                    yield _event("problem", {"error": error})
                    quiet_since = time.monotonic()
                elif latest is not None and latest["time"] >= time.time() - STALE:
                    # (a snapshot from before anyone watched waits for the next one)
                    yield _event("snapshot", latest)
                    quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= KEEPALIVE:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            await asyncio.sleep(0.2)
    finally:
        feed.watch(-1)
