"""The event streams one server process holds open, in all and per API key.

A stream's slot is taken in its route, before the answer starts, and given back when the answer
ends however it ends (finished, client gone, never started): counted only once the body began,
concurrent connects all passed the count in between (300 at once with one key opened 59 to 80
streams where the limit is 50).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from server.errors import ApiError

#: Seconds a refused stream is told to wait before it tries again.
RETRY_SECONDS = 5


class StreamSlots:
    """Counts of the streams held open in this process: in all, and per API key id."""

    def __init__(self) -> None:
        self.total = 0
        self.by_key: dict[str, int] = {}
        # Several event loops may serve in one process (tests run servers in threads).
        self._lock = threading.Lock()

    def take(self, key_id: str, most: int, most_per_key: int) -> Callable[[], None]:
        """Hold a slot for a stream of ``key_id``, or refuse: 503 when the process holds
        ``most`` streams, 429 when the key holds ``most_per_key``; returns the slot's release
        (which gives it back once, however often it is called)."""
        with self._lock:
            if self.total >= most:
                raise ApiError(
                    f"this server follows {most} event streams already; retry shortly",
                    503,
                    {"Retry-After": str(RETRY_SECONDS)},
                )
            held = self.by_key.get(key_id, 0)
            if held >= most_per_key:
                raise ApiError(
                    f"this key holds {most_per_key} event streams already; close one first",
                    429,
                    {"Retry-After": str(RETRY_SECONDS)},
                )
            self.total += 1
            self.by_key[key_id] = held + 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                self.total -= 1
                self.by_key[key_id] -= 1
                if not self.by_key[key_id]:
                    del self.by_key[key_id]

        return release

    def held(self, key_id: str) -> int:
        """How many streams ``key_id`` holds now."""
        with self._lock:
            return self.by_key.get(key_id, 0)


class HeldStream(StreamingResponse):
    """A StreamingResponse that gives its slot back when its answer ends, also when it never
    started (the client went away first)."""

    def __init__(
        self,
        content: AsyncIterable[str],
        release: Callable[[], None],
        *,
        media_type: str,
        headers: Mapping[str, str],
    ) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self.release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the stream; give the slot back however it ends."""
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()


def closing_of(request: Request) -> threading.Event:
    """Set once the server begins to stop (``cloudrender serve`` sets it on SIGTERM): open event
    streams end cleanly then, where uvicorn cut them after its graceful timeout with a traceback
    each and an unfinished answer to the client."""
    closing: threading.Event | None = getattr(request.app.state, "closing", None)
    if closing is None:
        closing = request.app.state.closing = threading.Event()
    return closing
