"""A local stand-in for the clouds' instance metadata services, with or without a notice.

``FakeMetadataService`` answers the three requests ``workers.spot.check_notice`` makes, the way
AWS (IMDSv2: a token from ``PUT /latest/api/token``, then ``spot/instance-action``, 404 without
a notice), GCP (``instance/preempted``: ``TRUE``/``FALSE``) and Azure (Scheduled Events, a
``Preempt`` event) answer them. Point a worker's ``CLOUDRENDER_SPOT_ENDPOINT`` at its ``url`` and
set ``notice`` to pre-empt it. Tests, benchmarks and local chaos runs share it::

    with FakeMetadataService() as metadata:
        ...  # start a worker with CLOUDRENDER_SPOT_ENDPOINT=metadata.url
        metadata.notice = True  # the worker hands its chunk back and leaves

It serves on 127.0.0.1 from a daemon thread and records every request it answers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

#: The IMDSv2 session token the fake hands out and then requires.
AWS_TOKEN = "token-123"
#: The termination time in the fake's AWS notice.
AWS_NOTICE_TIME = "2026-11-25T16:00:00Z"
#: When the fake's Azure ``Preempt`` event is due (the real service gives an RFC 1123 date).
AZURE_NOT_BEFORE = "soon"


class FakeMetadataService:
    """Answers like AWS, GCP and Azure instance metadata; a notice is pending while ``notice``."""

    def __init__(self, notice: bool = False) -> None:
        #: Whether an interruption notice is pending (settable at any time, from any thread).
        self.notice = notice
        #: The Azure VM's name, and the VMs the pending Preempt event names (default: this one).
        self.vm_name = "cloudrender-vm_0"
        self.preempted: list[str] | None = None
        #: (method, path, headers) of every request answered, in order.
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-metadata", daemon=True
        )
        self._thread.start()
        self._closed = False

    @property
    def url(self) -> str:
        """The base URL to give the watcher as its endpoint, e.g. ``http://127.0.0.1:40123``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def record(self, method: str, path: str, headers: dict[str, str]) -> None:
        """Note one request (called by the request handler)."""
        with self._lock:
            self.requests.append((method, path, headers))

    def answer(self, method: str, path: str, headers: Mapping[str, str]) -> tuple[int, str]:
        """The status and body the real services would give for this request now."""
        if method == "PUT":
            return (200, AWS_TOKEN) if path.startswith("/latest/api/token") else (404, "")
        if path.startswith("/latest/meta-data/spot/instance-action"):
            if _header(headers, "X-aws-ec2-metadata-token") != AWS_TOKEN:
                return 401, ""
            if not self.notice:
                return 404, ""
            return 200, json.dumps({"action": "terminate", "time": AWS_NOTICE_TIME})
        if path.startswith("/computeMetadata/v1/instance/preempted"):
            return 200, "TRUE" if self.notice else "FALSE"
        if path.startswith("/metadata/instance/compute/name"):
            return 200, self.vm_name
        if path.startswith("/metadata/scheduledevents"):
            resources = [self.vm_name] if self.preempted is None else self.preempted
            event = {"EventType": "Preempt", "NotBefore": AZURE_NOT_BEFORE, "Resources": resources}
            events = [event] if self.notice else [{"EventType": "Freeze"}]
            return 200, json.dumps({"Events": events})
        return 404, ""

    def close(self) -> None:
        """Stop serving and release the port; safe to repeat."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name (HTTP header names ignore case)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, service: FakeMetadataService) -> None:
        self.service = service
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: a worker polls several times a second

    def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
        self._reply("PUT")

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._reply("GET")

    def _reply(self, method: str) -> None:
        headers = dict(self.headers)
        self.server.service.record(method, self.path, headers)
        code, body = self.server.service.answer(method, self.path, headers)
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
