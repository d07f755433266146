"""A request whose head never finishes is cut off; whole requests are served as before."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

from server.protocol import HeadDeadlineProtocol
from tests.server.conftest import serving

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    return app


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def test_a_request_head_that_never_ends_is_cut_off(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HeadDeadlineProtocol, "head_seconds", 0.5)
    with serving(app) as url, _connect(url) as slow:
        began = time.monotonic()
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        for _ in range(5):  # a header line now and then, as a slow-loris client sends them
            time.sleep(0.3)
            try:
                slow.sendall(b"X-Drip: 1\r\n")
            except OSError:
                break
        assert slow.recv(1024) == b""  # closed by the server
        assert time.monotonic() - began < 5


def test_whole_requests_are_served_on_a_kept_alive_connection(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HeadDeadlineProtocol, "head_seconds", 0.5)
    with serving(app) as url, _connect(url) as client:
        for _ in range(2):
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while b'{"ok":true}' not in answer:
                answer += client.recv(1024)
            assert answer.startswith(b"HTTP/1.1 200")
