"""A job's events over HTTP (``GET /v1/jobs/{id}/events``, Server-Sent Events) for the client:
followed to the job's end across dropped connections, resuming after the last event seen
(``Last-Event-ID``), and delivered to a callback from a thread (``on_progress_update``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx

from common.errors import RenderError
from orchestrator.http_errors import unreachable
from orchestrator.http_transfer import parse_sse
from orchestrator.job_events import TERMINAL_EVENTS

__all__ = ["EventSubscription", "follow_events", "is_terminal"]

#: Seconds the service may stay unreachable while a job's events are followed.
RECONNECT_PATIENCE = 60.0
#: Seconds between reconnections unless the stream asks otherwise (``retry:``).
RECONNECT_DELAY = 0.5

#: ``connect(after)``: the open event stream resuming after stream id ``after`` (None: from
#: the start); raises the mapped RenderError for an error answer.
Connect = Callable[[str | None], AbstractContextManager[httpx.Response]]


def is_terminal(name: str) -> bool:
    """Whether an event is its job's last: completed, failed or cancelled. (A "state" event
    of a finished state comes just before it: the stream goes on to that last event.)"""
    return name in TERMINAL_EVENTS


def follow_events(
    connect: Connect,
    *,
    url: str,
    after: str | None = None,
    finished: Callable[[], bool],
    stopping: threading.Event | None = None,
    watch: Callable[[httpx.Response | None], None] | None = None,
    patience: float = RECONNECT_PATIENCE,
) -> Iterator[dict[str, Any]]:
    """Each event's data (a dict with ``event`` and its stream id as ``event_id``) until the
    job's terminal event; a dropped connection is resumed after the last id seen.

    ``finished()`` decides when a stream ends cleanly without a terminal event (trimmed, or the
    service restarting); ``stopping`` ends the loop; ``watch`` is told the open response (for
    ``EventSubscription.stop`` to shut it down); ``url`` names the service in messages.
    """
    last = after
    broken_since: float | None = None
    delay = RECONNECT_DELAY
    while not (stopping and stopping.is_set()):
        try:
            with connect(last) as response:
                if watch:
                    watch(response)
                broken_since = None
                for sse in parse_sse(response.iter_lines()):
                    last = sse.id or last
                    delay = sse.retry / 1000 if sse.retry is not None else delay
                    data = sse.json()
                    if not isinstance(data, dict):
                        raise RenderError(
                            f"the service sent a {sse.event!r} event that is not an object"
                        )
                    yield {**data, "event": sse.event, "event_id": sse.id}
                    if is_terminal(sse.event):
                        return
            if finished():
                return
        except (httpx.TransportError, RenderError) as exc:
            if stopping and stopping.is_set():
                return
            if isinstance(exc, RenderError) and not exc.transient:
                raise
            now = time.monotonic()
            broken_since = broken_since or now
            if now - broken_since > patience:
                raise (exc if isinstance(exc, RenderError) else unreachable(url, exc)) from None
        finally:
            if watch:
                watch(None)
        if stopping:
            stopping.wait(delay)
        else:
            time.sleep(delay)


class EventSubscription:
    """A thread calling back for each of a job's events until it ends or ``stop()`` is called;
    ``error`` holds what ended it early (the service gone longer than the patience, say)."""

    def __init__(
        self,
        connect: Connect,
        callback: Callable[[dict[str, Any]], None],
        *,
        url: str,
        finished: Callable[[], bool],
        after: str | None = None,
    ) -> None:
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._response: httpx.Response | None = None
        events = follow_events(
            connect, url=url, after=after, finished=finished, stopping=self._stop, watch=self._watch
        )
        self._thread = threading.Thread(
            target=self._listen, args=(events, callback), name="progress-sse", daemon=True
        )
        self._thread.start()

    def _listen(
        self, events: Iterator[dict[str, Any]], callback: Callable[[dict[str, Any]], None]
    ) -> None:
        try:
            for event in events:
                if self._stop.is_set():
                    return
                callback(event)
        except Exception as exc:  # noqa: BLE001 - kept for the caller; a thread cannot raise
            if not self._stop.is_set():
                self.error = exc

    def _watch(self, response: httpx.Response | None) -> None:
        with self._lock:
            self._response = response

    def alive(self) -> bool:
        """Whether events are still being delivered."""
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        """Wait until the job's events end (or ``timeout`` seconds pass)."""
        self._thread.join(timeout)

    def stop(self) -> None:
        """Stop delivering events and wait for the listener thread."""
        self._stop.set()
        with self._lock:
            response = self._response
        if response is not None:
            _shut(response)
        self._thread.join(timeout=5)


def _shut(response: httpx.Response) -> None:
    """Wake a thread blocked reading ``response``: closing a socket from another thread does
    not, shutting it down does."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # closed already
