"""A JSON HTTP server on a free local port, in a thread of the test process: the base of the
fake cloud APIs (fake_gcp.py, fake_azure.py)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


class Reply:
    """What the server answers: a status, a JSON body (None: empty) and extra headers."""

    def __init__(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}


class JsonServer:
    """Serves ``respond`` on 127.0.0.1; ``with Server() as fake: fake.endpoint``."""

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self.lock = threading.RLock()

    def respond(
        self, verb: str, path: str, query: dict[str, list[str]], headers: Any, raw: bytes
    ) -> Reply:
        """The reply to one request (subclasses answer)."""
        raise NotImplementedError

    def start(self) -> str:
        """Serve on a free local port; return the endpoint URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = fake.respond(self.command, url.path, parse_qs(url.query), self.headers, raw)
                data = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.body is not None:
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self.endpoint

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"
