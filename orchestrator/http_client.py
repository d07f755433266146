"""The Python API over the HTTP service: ``HTTPRenderingAPI`` has the methods and typed results
of ``CloudRenderingAPI`` and needs an API key instead of the cluster's Redis credentials, so a
script moves from Redis to HTTP by changing its constructor (docs/api.md lists what differs):

api = HTTPRenderingAPI("https://render.example.com", "cr_...")   # or $CLOUDRENDER_API_URL/_KEY
job = api.submit_job("project.json", output="out.mp4")          # media uploaded by content hash
api.on_progress_update(print, job)                              # Server-Sent Events
record = api.wait(job)                                          # out.mp4 downloaded here

Submitting reads and vets the project here (the same messages as the CLI), checks and hashes its
media (``orchestrator.assets``), asks the service which it lacks and uploads only those (to a
pre-signed URL where the storage signs, else ``PUT /v1/assets/<hex><ext>``), then sends the
document with ``asset:sha256:`` references. The API key never travels to another origin: a
pre-signed upload or a redirected download goes through a client without it.

Over HTTP the user is the API key's (no ``user=``), media always travel through storage, and the
video comes down to this machine: ``wait`` downloads a job submitted here to its ``output`` path
(``orchestrator.http_delivery``), ``download`` anywhere; ``cancel_all`` is the service's
emergency stop, which also pauses dispatching. docs/api.md lists what else differs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx

from chunking.timeline.project import Project
from common.errors import RenderError
from common.names import LEVELS
from common.settings import Settings
from common.urls import redact_url
from orchestrator.api_estimate import JobEstimate, parse_deadline
from orchestrator.api_results import JobLost, ReuseEstimate
from orchestrator.budget_rules import check_max_cost
from orchestrator.estimate_quote import reuse_estimate
from orchestrator.http_cluster import HTTPClusterControl
from orchestrator.http_delivery import HTTPDownloads
from orchestrator.http_delivery import job_path as _job
from orchestrator.http_errors import (
    AuthenticationFailed,
    RateLimited,
    answer_error,
    unreachable,
)
from orchestrator.http_events import EventSubscription, follow_events
from orchestrator.http_project import output_name
from orchestrator.http_uploads import AssetTransfer, HTTPAssetUploads
from orchestrator.job_record import JobNotFound, JobRecord
from orchestrator.segment_cache import CacheStats
from orchestrator.wire import from_wire

__all__ = ["AssetTransfer", "HTTPRenderingAPI"]

#: Seconds one request may take to connect, and to send or receive each part.
DEFAULT_TIMEOUT = 30.0
#: Seconds an event stream may stay silent (the service sends a keep-alive every 15).
EVENTS_READ_TIMEOUT = 45.0
#: Seconds ``wait`` tolerates the service being unreachable (a restart) before giving up.
SERVICE_PATIENCE = 60.0


class HTTPRenderingAPI(HTTPAssetUploads, HTTPDownloads, HTTPClusterControl):
    """Submit, watch, cancel and account for render jobs through the HTTP service."""

    def __init__(
        self,
        api_url: str | None = None,
        api_key: str | None = None,
        *,
        settings: Settings | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.settings = settings or Settings.from_env()
        url = (api_url or self.settings.api_url or "").strip()
        if not url:
            raise RenderError("no API: pass api_url or set CLOUDRENDER_API_URL")
        key = (api_key or self.settings.api_key or "").strip()
        if not key:
            raise RenderError(
                f"no API key for {redact_url(url)}: pass api_key or set CLOUDRENDER_API_KEY"
            )
        if not key.isprintable() or not key.isascii():
            # No service accepts it: refused as the service refuses an unknown key (401).
            raise AuthenticationFailed(
                "the API key holds characters no key has; check CLOUDRENDER_API_KEY"
            )
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise RenderError(f"API URL {redact_url(url)} is not a URL: {exc}") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise RenderError(f"API URL {redact_url(url)} is not an http:// or https:// URL")
        self.api_url = url.rstrip("/")
        self._origin = (parsed.scheme, parsed.host, parsed.port)
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
        self._client = httpx.Client(
            base_url=self.api_url, headers=headers, transport=transport, timeout=self._timeout
        )
        # Pre-signed storage URLs: never with the API key.
        self._plain = httpx.Client(timeout=self._timeout)
        self.last_transfer = None
        self._outputs: dict[str, str] = {}
        self._delivered: set[str] = set()
        #: the estimate the service answered the last submit_job with
        self.last_estimate: JobEstimate | None = None
        #: What the service warned about the last submitted project (held frames, fonts...).
        self.last_warnings: list[str] = []

    def close(self) -> None:
        """Close the connections."""
        self._client.close()
        self._plain.close()

    def __enter__(self) -> HTTPRenderingAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- jobs ---------------------------------------------------------------------------------

    def submit_job(
        self,
        project: str | Mapping[str, Any] | Project,
        settings: Mapping[str, Any] | None = None,
        *,
        output: str,
        priority: str = "normal",
        deadline: float | dt.datetime | str | None = None,
        max_cost: float | None = None,
        chunk_frames: int | None = None,
        base_dir: str | None = None,
        keep_segments: bool = False,
        sync_assets: bool = True,
        local_delivery: bool = True,
        use_cache: bool = True,
        project_name: str = "",
        user: str = "",
    ) -> str:
        """Vet the project, upload the media the service lacks, and queue a job; return its id.

        ``output`` names the video (its file name and container) and, as over Redis, where it
        is written: ``wait`` downloads the completed video to that local path (unless
        ``local_delivery=False``; then fetch it with ``download``). ``sync_assets`` is accepted
        for CloudRenderingAPI's signature: over HTTP media always travel through storage.
        """
        del sync_assets
        if priority not in LEVELS:
            raise RenderError(f"priority {priority!r} is not one of {', '.join(LEVELS)}")
        if keep_segments:
            raise RenderError("keep_segments is not available over HTTP")
        if user:
            raise RenderError("over HTTP the API key decides the user; leave user empty")
        _cache_always(use_cache)
        # Checked here as over Redis: NaN or infinity is not JSON, so httpx raised ValueError.
        max_cost = check_max_cost(max_cost)
        # sent as epoch seconds: "+2h" counts from now, here, as CloudRenderingAPI counts it
        when = parse_deadline(deadline, time.time())
        document = self._send_project(project, settings, base_dir, output)
        body: dict[str, Any] = {
            "project": document,
            "settings": None,
            "priority": priority,
            "deadline": when,
            "max_cost": max_cost,
            "chunk_frames": chunk_frames,
            "project_name": project_name or None,
            "output_name": output_name(output, document["settings"]["export"]["container"]),
        }
        answer = self._call("POST", "/v1/jobs", json=body)
        estimate = answer.get("estimate")
        self.last_estimate = from_wire(JobEstimate, estimate) if estimate else None
        self.last_warnings = [str(w) for w in answer.get("warnings") or ()]
        job_id = str(answer["id"])
        if local_delivery:
            self._deliver_to(job_id, output)
        return job_id

    def get_job_status(self, job_id: str) -> JobRecord:
        """The job's record with per-chunk state; JobNotFound for unknown (or others') ids. A job
        submitted here names the local path ``wait`` delivers its video to."""
        record = from_wire(JobRecord, self._call("GET", _job(job_id), job=True))
        return dataclasses.replace(record, output=self._outputs.get(job_id, record.output))

    def list_jobs(self, limit: int = 50, state: str | None = None) -> list[JobRecord]:
        """The newest jobs this key may see (without their chunks), optionally in one state."""
        params: dict[str, Any] = {"limit": limit, **({"state": state} if state else {})}
        answer = self._call("GET", "/v1/jobs", params=params)
        return [from_wire(JobRecord, job) for job in answer.get("jobs", [])]

    def cancel_job(self, job_id: str, reason: str = "cancelled by request") -> JobRecord:
        """Stop a job; JobConflict if it has finished already. (The service words the reason.)"""
        del reason
        return from_wire(JobRecord, self._call("POST", _job(job_id, "/cancel"), job=True))

    def wait(self, job_id: str, timeout: float | None = None, poll: float = 0.25) -> JobRecord:
        """Block until the job ends (or ``timeout`` seconds pass) and return its record; the
        service may be unreachable for a while (a restart) meanwhile. A job submitted here
        with a local ``output`` has its completed video downloaded there first, as a worker
        writes it over Redis."""
        deadline = None if timeout is None else time.monotonic() + timeout
        troubled_since: float | None = None
        seen = False
        while True:
            pause = poll
            try:
                record = self.get_job_status(job_id)
                seen, troubled_since = True, None
                if record.state.finished or (deadline is not None and time.monotonic() > deadline):
                    return self._delivered_record(record)
            except JobNotFound:
                if not seen:
                    raise
                raise JobLost(f"job {job_id} is gone from the service while running") from None
            except RenderError as exc:
                if not exc.transient:
                    raise
                now = time.monotonic()
                troubled_since = troubled_since or now
                if now - troubled_since > SERVICE_PATIENCE:
                    raise
                if isinstance(exc, RateLimited) and exc.retry_after:
                    pause = max(poll, min(exc.retry_after, 10.0))
            time.sleep(pause)

    def estimate_options(
        self,
        project: str | Mapping[str, Any] | Project,
        settings: Mapping[str, Any] | None = None,
        *,
        chunk_frames: int | None = None,
        use_cache: bool = True,
        provider: str | None = None,
        pool: str | None = None,
        market: str | None = None,
        deadline: float | dt.datetime | str | None = None,
        max_cost: float | None = None,
    ) -> JobEstimate:
        """Time and cost ranges per pool and market, and the recommended option; the media
        are uploaded (once: the submit that follows uploads nothing) for the service to read."""
        _cache_always(use_cache)
        max_cost = check_max_cost(max_cost)
        document = self._send_project(project, settings, None, None)
        body: dict[str, Any] = {
            "project": document,
            "settings": None,
            "chunk_frames": chunk_frames,
            "provider": provider,
            "pool": pool,
            "market": market,
            "deadline": deadline.isoformat() if isinstance(deadline, dt.datetime) else deadline,
            "max_cost": max_cost,
        }
        return from_wire(JobEstimate, self._call("POST", "/v1/estimate", json=body))

    def estimate_cost(
        self,
        project: str | Mapping[str, Any] | Project,
        settings: Mapping[str, Any] | None = None,
        *,
        chunk_frames: int | None = None,
        use_cache: bool = True,
    ) -> ReuseEstimate:
        """Estimated render time and cost, as CloudRenderingAPI's: the headline option of the
        service's estimate at its medians (``orchestrator.estimate_quote``)."""
        found = self.estimate_options(
            project, settings, chunk_frames=chunk_frames, use_cache=use_cache
        )
        return reuse_estimate(found)

    def cache_stats(self) -> CacheStats:
        """The segment cache of the service's storage: entries, bytes, cap, hits, misses
        (an operator key)."""
        return from_wire(CacheStats, self._call("GET", "/v1/cache"))

    def clear_cache(self) -> int:
        """Remove every cached segment of the service's storage; how many went (an operator
        key)."""
        return int(self._call("DELETE", "/v1/cache")["removed"])

    def events(self, job_id: str, after: str | None = None) -> Iterator[dict[str, Any]]:
        """The job's events in order (each a dict with ``event`` and its stream id as
        ``event_id``; pass one as ``after`` to resume), until its terminal event."""
        return follow_events(
            self._event_stream(job_id),
            url=self.api_url,
            after=after,
            finished=lambda: self.get_job_status(job_id).state.finished,
        )

    def on_progress_update(
        self, callback: Callable[[dict[str, Any]], None], job_id: str | None = None
    ) -> EventSubscription:
        """Call ``callback(event)`` from a thread for each of the job's events; ``stop()`` ends
        it. Over HTTP events are per job, so ``job_id`` is required."""
        if not job_id:
            raise RenderError("over HTTP progress events are per job: pass job_id")
        return EventSubscription(
            self._event_stream(job_id),
            callback,
            url=self.api_url,
            finished=lambda: self.get_job_status(job_id).state.finished,
        )

    # -- helpers ------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        job: bool = False,
    ) -> Any:
        """One request to the service: its JSON answer, or the mapped RenderError."""
        try:
            response = self._client.request(method, path, json=json, params=params)
        except httpx.TransportError as exc:
            raise unreachable(self.api_url, exc) from None
        if not response.is_success:
            raise answer_error(response, job=job)
        try:
            return response.json()
        except ValueError:
            raise RenderError(
                f"the service at {redact_url(self.api_url)} answered {method} {path} with "
                "something that is not JSON"
            ) from None

    def _route(self, url: str) -> tuple[httpx.Client, str]:
        """The client for a URL: the API's own (with the key) on its origin, else a plain one."""
        target = httpx.URL(url)
        if not target.is_absolute_url:
            return self._client, url
        same = (target.scheme, target.host, target.port) == self._origin
        return (self._client if same else self._plain), url

    def _event_stream(self, job_id: str) -> Callable[[str | None], Any]:
        path = _job(job_id, "/events")
        timeout = httpx.Timeout(self._timeout.connect, read=EVENTS_READ_TIMEOUT)

        @contextmanager
        def connect(after: str | None) -> Iterator[httpx.Response]:
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if after:
                headers["Last-Event-ID"] = after
            with self._client.stream("GET", path, headers=headers, timeout=timeout) as response:
                if not response.is_success:
                    response.read()
                    raise answer_error(response, job=True)
                yield response

        return connect


def _cache_always(use_cache: bool) -> None:
    if not use_cache:
        raise RenderError(
            "use_cache=False is not available over HTTP: the service always uses the segment cache"
        )
