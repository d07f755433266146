"""Fixtures of the HTTP service's tests.

    server_cluster   (module) a private cluster: its own redis-server, one real worker process
                     and a local storage directory (``ServerCluster``: broker_url, storage_url,
                     settings, cluster)
    api_app          the FastAPI app over it (a fresh app, so rate limits start full)
    operator_key     an operator's API key (the secret string), revoked and removed after
    user_key         user "alice"'s key;  other_user_key: user "bob"'s key
    client           a TestClient over ``api_app`` (in-process ASGI, httpx underneath)
    live_server      ``api_app`` on a real uvicorn on a free 127.0.0.1 port in a thread; yields
                     its base URL ("http://127.0.0.1:PORT") and stops it after the test
    paused           dispatching paused for the test; every job left is cancelled after
    s3_storage_url   an empty bucket on a moto server, the S3 env set for it

Send a key as ``headers=bearer(key)``; ``with serving(app) as url:`` runs any app on uvicorn.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import redis
import uvicorn
from fastapi import FastAPI

with warnings.catch_warnings():
    # Starlette 1.0 would rather drive its TestClient with httpx2; httpx (what the service's
    # client uses) still works and is what is installed.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from common.settings import Settings
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_keys import API_KEYS, KeyStore
from orchestrator.embedded import EmbeddedCluster
from server.app import create_app
from server.protocol import HeadDeadlineProtocol
from tests.providers.conftest import S3_CLEARED_ENV, S3_TEST_ENV


@dataclass(frozen=True)
class ServerCluster:
    """A running private cluster with storage, for the service to front."""

    cluster: EmbeddedCluster
    broker_url: str
    storage_url: str
    settings: Settings


def bearer(key: str) -> dict[str, str]:
    """The Authorization header for an API key."""
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def server_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerCluster]:
    """A private cluster (one worker slot) and a storage directory the tests of a module share."""
    storage = tmp_path_factory.mktemp("server-storage")
    with EmbeddedCluster(workers=1) as running:
        url = running.broker_url
        settings = dataclasses.replace(
            Settings.from_env(), broker_url=url, result_backend=url, storage_url=storage.as_uri()
        )
        yield ServerCluster(running, url, storage.as_uri(), settings)


@pytest.fixture
def api_app(server_cluster: ServerCluster) -> FastAPI:
    """The service over the module's cluster."""
    settings = server_cluster.settings
    return create_app(settings, api=CloudRenderingAPI(settings=settings))


@pytest.fixture
def key_store(server_cluster: ServerCluster) -> Iterator[KeyStore]:
    """The cluster's API keys; every key created through it is removed after the test."""
    client = redis.Redis.from_url(server_cluster.broker_url, decode_responses=True)
    before = set(client.hkeys(API_KEYS))
    yield KeyStore(client)
    made = set(client.hkeys(API_KEYS)) - before
    if made:
        client.hdel(API_KEYS, *made)
    client.close()


@pytest.fixture
def operator_key(key_store: KeyStore) -> str:
    """An operator's key."""
    return key_store.create("ops", role="operator", label="test operator")[1]


@pytest.fixture
def user_key(key_store: KeyStore) -> str:
    """User alice's key."""
    return key_store.create("alice", label="test user")[1]


@pytest.fixture
def other_user_key(key_store: KeyStore) -> str:
    """User bob's key."""
    return key_store.create("bob", label="another test user")[1]


@pytest.fixture
def client(api_app: FastAPI) -> Iterator[TestClient]:
    """The app in this process (no socket); errors come back as answers, never raised."""
    with TestClient(api_app, raise_server_exceptions=False) as running:
        yield running


@pytest.fixture
def live_server(api_app: FastAPI) -> Iterator[str]:
    """The app on a real uvicorn in a thread, on a free port; yields its base URL."""
    with serving(api_app) as url:
        yield url


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """``app`` on a real uvicorn in a thread on a free 127.0.0.1 port, for a with block."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        ws="none",
        http=HeadDeadlineProtocol,  # as `cloudrender serve` runs it
        # Open event streams must not hold the test's end for long.
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        if thread.is_alive():
            raise RuntimeError("uvicorn did not stop within 15 s")


@pytest.fixture
def storage_dir(server_cluster: ServerCluster) -> Path:
    """The module cluster's storage directory."""
    return Path(server_cluster.storage_url.removeprefix("file://"))


@pytest.fixture
def s3_storage_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty bucket on a moto server, with the env the service's S3 storage reads."""
    from moto.server import ThreadedMotoServer

    for variable in S3_CLEARED_ENV:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in S3_TEST_ENV.items():
        monkeypatch.setenv(variable, value)
    server = ThreadedMotoServer(ip_address="localhost", port=0, verbose=False)
    server.start()
    try:
        endpoint = f"http://localhost:{server.get_host_and_port()[1]}"
        monkeypatch.setenv("CLOUDRENDER_S3_ENDPOINT_URL", endpoint)
        bucket = f"assets-{uuid.uuid4().hex[:12]}"
        client = boto3.session.Session().client("s3", endpoint_url=endpoint)
        client.create_bucket(Bucket=bucket)
        client.close()
        yield f"s3://{bucket}/farm"
    finally:
        server.stop()


@pytest.fixture
def paused(client: TestClient, operator_key: str) -> Iterator[None]:
    """Dispatching paused: submitted jobs wait unrendered; every job left is cancelled after."""
    assert client.post("/v1/cluster/pause", headers=bearer(operator_key)).json() == {"paused": True}
    try:
        yield
    finally:
        client.post("/v1/cluster/emergency-stop", headers=bearer(operator_key))
        client.post("/v1/cluster/resume", headers=bearer(operator_key))
