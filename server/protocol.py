"""uvicorn's HTTP/1.1 protocol with a deadline for a request's head.

uvicorn times out idle keep-alive connections but not a request whose headers never finish:
a client that sends one header line every few seconds held its connection (and a file
descriptor) for ever, and a few thousand such clients starved the server without a key. Here
every request's head (its request line and headers) must arrive within HEAD_SECONDS of the
connection opening or of the previous response, or the connection is closed.

A request that is not HTTP/1.1 at all (a bad Content-Length, bytes that cannot be in a request
line, a broken chunk) is answered as every other error is, ``{"error": ...}`` in JSON: uvicorn's
own answer is the plain text "Invalid HTTP request received.".
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a client has to send a request's line and headers.
HEAD_SECONDS = 30.0
#: The answer to bytes that are not an HTTP/1.1 request.
NOT_HTTP = (
    "the request is not valid HTTP/1.1 (its request line, a header such as Content-Length, "
    "or the body's chunked framing); nothing was done"
)


class HeadDeadlineProtocol(H11Protocol):
    """H11Protocol closing a connection whose request head is not complete in time."""

    head_seconds = HEAD_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the first request's deadline."""
        super().connection_made(transport)
        self._waited_cycle: Any = self.cycle
        self._head_deadline: asyncio.TimerHandle | None = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Read, and lift the deadline once a request's head is in (a new cycle began)."""
        super().data_received(data)
        if self.cycle is not None and self.cycle is not self._waited_cycle:
            self._disarm()

    def on_response_complete(self) -> None:
        """The next request on this connection gets its own deadline."""
        super().on_response_complete()
        if not self.transport.is_closing():
            self._waited_cycle = self.cycle
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the deadline with the connection."""
        self._disarm()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        """Answer a request h11 cannot read with a JSON error, and close the connection."""
        body = json.dumps({"error": NOT_HTTP}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        try:
            self.transport.write(
                self.conn.send(
                    h11.Response(status_code=400, headers=headers, reason=b"Bad Request")
                )
            )
            self.transport.write(self.conn.send(h11.Data(data=body)))
            self.transport.write(self.conn.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:
            pass  # an answer had begun already: nothing more can be said on this connection
        self.transport.close()

    def _arm(self) -> None:
        self._disarm()
        self._head_deadline = self.loop.call_later(self.head_seconds, self._too_slow)

    def _disarm(self) -> None:
        handle = getattr(self, "_head_deadline", None)
        if handle is not None:
            handle.cancel()
            self._head_deadline = None

    def _too_slow(self) -> None:
        self._head_deadline = None
        if self.cycle is self._waited_cycle and not self.transport.is_closing():
            self.transport.close()
