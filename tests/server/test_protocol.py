"""A request whose head never finishes is cut off; whole requests are served as before."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI, Request

from server.limits import BodyLimitMiddleware
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


@pytest.fixture
def echo() -> FastAPI:
    """An app that reads a JSON body, behind the service's body limits."""
    app = FastAPI()

    @app.post("/echo")
    async def read(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.add_middleware(BodyLimitMiddleware, max_body=1 << 20, max_asset=1 << 20)
    return app


def _post_head(client: socket.socket, length: int) -> None:
    client.sendall(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {length}\r\n\r\n".encode()
    )


def test_a_body_that_stops_coming_is_answered_408(
    echo: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Headers in time, then part of the body and nothing more: the connection was held for
    ever (the head's deadline ends with the head)."""
    import server.limits

    monkeypatch.setattr(server.limits, "BODY_IDLE_SECONDS", 0.5)
    with serving(echo) as url, _connect(url) as stalled:
        began = time.monotonic()
        _post_head(stalled, 100)
        stalled.sendall(b'{"a": ')
        answer = stalled.recv(4096)
        while b"came for" not in answer:
            more = stalled.recv(4096)
            assert more, answer
            answer += more
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert time.monotonic() - began < 5


def test_a_body_dripped_below_the_minimum_rate_is_answered_408(
    echo: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import server.limits

    monkeypatch.setattr(server.limits, "BODY_GRACE_SECONDS", 0.5)
    with serving(echo) as url, _connect(url) as drip:
        _post_head(drip, 1000)
        answer = b""
        for _ in range(20):  # a byte every 0.1 s: far under 1 KiB/s
            try:
                drip.sendall(b" ")
            except OSError:
                break
            time.sleep(0.1)
        answer = drip.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer


def test_a_body_sent_at_once_or_in_parts_is_read(echo: FastAPI) -> None:
    body = b'{"text": "' + b"x" * 5000 + b'"}'
    with serving(echo) as url, _connect(url) as client:
        _post_head(client, len(body))
        for start in range(0, len(body), 1000):
            client.sendall(body[start : start + 1000])
            time.sleep(0.05)
        answer = b""
        while b"}" not in answer.split(b"\r\n\r\n", 1)[-1]:
            answer += client.recv(4096)
        assert answer.startswith(b"HTTP/1.1 200") and f'"bytes":{len(body)}'.encode() in answer


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}",
        b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{}",
        b"GET /healthz/\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /healthz HTTP/1.1\r\nHost: x\r\nno colon in this line\r\n\r\n",
    ],
    ids=["negative length", "two lengths", "raw non-ASCII path", "header without a colon"],
)
def test_a_request_that_is_not_http_is_answered_in_json(app: FastAPI, request_bytes: bytes) -> None:
    """uvicorn answered these in plain text ("Invalid HTTP request received.")."""
    with serving(app) as url, _connect(url) as client:
        client.sendall(request_bytes)
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request"), answer[:200]
    assert b"content-type: application/json" in head.lower()
    assert "not valid HTTP/1.1" in json.loads(body)["error"]
