"""Interruption notices read from a local stand-in for each cloud's metadata service."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workers.spot import SpotWatcher, check_notice


class Metadata:
    """A tiny metadata service: answers like AWS, GCP and Azure, with or without a notice."""

    def __init__(self) -> None:
        self.notice = False
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
                outer.requests.append(("PUT", self.path, dict(self.headers)))
                self._send(200, "token-123")

            def do_GET(self) -> None:  # noqa: N802
                outer.requests.append(("GET", self.path, dict(self.headers)))
                if self.path.startswith("/latest/meta-data/spot/instance-action"):
                    if self.headers.get("X-aws-ec2-metadata-token") != "token-123":
                        return self._send(401, "")
                    if not outer.notice:
                        return self._send(404, "")
                    return self._send(
                        200, json.dumps({"action": "terminate", "time": "2026-11-25T16:00:00Z"})
                    )
                if self.path.startswith("/computeMetadata/v1/instance/preempted"):
                    return self._send(200, "TRUE" if outer.notice else "FALSE")
                if self.path.startswith("/metadata/scheduledevents"):
                    events = (
                        [{"EventType": "Preempt", "NotBefore": "soon"}]
                        if outer.notice
                        else [{"EventType": "Freeze"}]
                    )
                    return self._send(200, json.dumps({"Events": events}))
                return self._send(404, "")

            def _send(self, code: int, body: str) -> None:
                self.send_response(code)
                self.end_headers()
                self.wfile.write(body.encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def metadata() -> Iterator[Metadata]:
    server = Metadata()
    yield server
    server.close()


@pytest.mark.parametrize(
    ("provider", "word"),
    [("aws", "AWS spot terminate"), ("gcp", "GCP pre-emption"), ("azure", "Azure pre-emption")],
)
def test_notices_per_provider(metadata: Metadata, provider: str, word: str) -> None:
    assert check_notice(provider, metadata.url) is None
    metadata.notice = True
    notice = check_notice(provider, metadata.url)
    assert notice is not None and notice.startswith(word)


def test_provider_headers_are_sent(metadata: Metadata) -> None:
    check_notice("gcp", metadata.url)
    check_notice("azure", metadata.url)
    check_notice("aws", metadata.url)
    headers = {path.split("?")[0]: h for _, path, h in metadata.requests}
    assert headers["/computeMetadata/v1/instance/preempted"]["Metadata-Flavor"] == "Google"
    assert headers["/metadata/scheduledevents"]["Metadata"] == "true"
    assert any(m == "PUT" and p == "/latest/api/token" for m, p, _ in metadata.requests)


def test_unreachable_service_is_no_notice() -> None:
    assert check_notice("gcp", "http://127.0.0.1:9", timeout=0.5) is None
    with pytest.raises(ValueError, match="unknown spot provider"):
        check_notice("oracle", "http://127.0.0.1:9")


def test_watcher_calls_back_once(metadata: Metadata) -> None:
    seen: list[str] = []
    watcher = SpotWatcher("gcp", metadata.url, seen.append, interval=0.05).start()
    time.sleep(0.2)
    assert seen == []
    metadata.notice = True
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    watcher.stop()
    assert seen == ["GCP pre-emption"]
