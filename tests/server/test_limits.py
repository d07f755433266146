"""Requests at once: over ``cloudrender serve``'s cap a request is answered like every other
error (JSON, CORS, Retry-After), idle connections take no request's place, and a liveness probe
is always answered."""

from __future__ import annotations

import argparse
import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from cli import server_commands
from orchestrator.api_keys import KeyStore
from orchestrator.job_record import JobRecord, JobState
from tests.server.conftest import ServerCluster, bearer, serving

pytestmark = pytest.mark.timeout(120)

ORIGIN = "https://editor.example"
CAP = 2


@pytest.fixture
def served_app(server_cluster: ServerCluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """The app ``cloudrender serve`` builds, with a cap of CAP requests at once."""
    monkeypatch.setenv("CLOUDRENDER_API_CORS_ORIGINS", ORIGIN)
    monkeypatch.setattr(server_commands, "connection_limit", lambda: CAP)
    configs: list[uvicorn.Config] = []

    class Captured:
        def __init__(self, config: uvicorn.Config) -> None:
            configs.append(config)

        def run(self, sockets: Any) -> None:
            """Serve nothing: the test serves the app itself."""

    monkeypatch.setattr(server_commands, "_uvicorn_server", lambda: Captured)
    args = argparse.Namespace(
        host="127.0.0.1",
        port=0,
        broker=server_cluster.broker_url,
        storage=server_cluster.storage_url,
        log_level="warning",
    )
    assert server_commands.run_serve(args) == 0
    (config,) = configs
    # uvicorn's own cap answers in plain text, without CORS or Retry-After
    assert config.limit_concurrency is None
    app = config.app
    assert isinstance(app, FastAPI)
    yield app


def test_a_request_over_the_cap_is_refused_in_json_with_cors_and_retry_after(
    served_app: FastAPI, key_store: KeyStore
) -> None:
    record, key = key_store.create("carol", label="busy")
    served_app.state.api.store.create(
        JobRecord(id="cap-held", user=record.user, state=JobState.QUEUED), {}
    )
    with serving(served_app) as url, ExitStack() as streams:
        lines = []  # kept: a dropped iterator closes its stream
        for _ in range(CAP):  # event streams hold their requests open
            held = streams.enter_context(
                httpx.stream("GET", f"{url}/v1/jobs/cap-held/events", headers=bearer(key))
            )
            assert held.status_code == 200
            lines.append(held.iter_lines())
            next(lines[-1])
        refused = httpx.get(f"{url}/v1/jobs", headers={**bearer(key), "Origin": ORIGIN})
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/json"
        assert f"answering {CAP} requests at once" in refused.json()["error"]
        assert refused.headers["retry-after"] == "5"
        assert refused.headers["access-control-allow-origin"] == ORIGIN
        assert httpx.get(f"{url}/healthz").json() == {"ok": True}
        streams.close()
        answer = httpx.get(f"{url}/v1/jobs", headers=bearer(key))
        assert answer.status_code == 200


def test_idle_connections_take_no_requests_place(served_app: FastAPI, key_store: KeyStore) -> None:
    """Connections need no key: a crowd of idle ones refused every keyed client."""
    _, key = key_store.create("carol", label="crowded out")
    with serving(served_app) as url, ExitStack() as idle:
        port = int(url.rsplit(":", 1)[1])
        for _ in range(CAP * 5):
            idle.enter_context(socket.create_connection(("127.0.0.1", port)))
        threading.Event().wait(0.3)  # the server has taken them
        assert httpx.get(f"{url}/v1/jobs", headers=bearer(key)).status_code == 200
