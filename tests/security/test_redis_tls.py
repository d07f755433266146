"""Redis over TLS with the URL form the docs give (issue 13: "TLS settings documented with a
tested rediss:// example"; finding 7: "rediss:// needs an undocumented ssl_cert_reqs").

The deployment's Redis (start.sh, ACL users) with the TLS settings deploy/redis/redis.conf
documents, certificates made here: a whole job runs over

    rediss://USER:PASSWORD@HOST:PORT/0?ssl_ca_certs=/path/to/ca.crt

for the client, the worker and the orchestrator alike (broker, result backend, redbeat, job
store), and a server whose certificate the client cannot verify is refused by each of them.
"""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu.exceptions import OperationalError
from redbeat.schedulers import get_redis

from common.errors import RenderError
from common.names import QUEUES
from common.settings import Settings
from orchestrator.api import CloudRenderingAPI
from orchestrator.celery_app import make_app
from orchestrator.celery_config import celery_config, tls_options
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.local_workers import LocalWorkers
from tests.helpers import ROOT, colour_project
from tests.security.redis_servers import (
    ROLES,
    Certificates,
    acl_server,
    make_certificates,
    without_tls,
)

pytestmark = pytest.mark.timeout(240)

PASSWORDS = {role: secrets.token_hex(16) for role in ROLES}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA and the server certificate it signed (for localhost and 127.0.0.1)."""
    return make_certificates(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def tls_port(tmp_path_factory: pytest.TempPathFactory, certs: Certificates) -> Iterator[int]:
    """The deployment's Redis, TLS only; skipped where redis-server was built without TLS."""
    server = acl_server(tmp_path_factory.mktemp("tls"), PASSWORDS, secrets.token_hex(8), certs)
    try:
        server.start()
    except RuntimeError:
        if without_tls(server.tail()):
            # Not a failure under CI either: this binary cannot do TLS at all.
            pytest.skip(f"redis-server was built without TLS:\n{server.tail()}")
        raise
    try:
        yield server.port
    finally:
        server.stop()


def rediss(port: int, role: str, **query: str) -> str:
    """A role's rediss:// URL with this query."""
    tail = "&".join(f"{name}={value}" for name, value in query.items())
    return f"rediss://{role}:{PASSWORDS[role]}@127.0.0.1:{port}/0" + (f"?{tail}" if tail else "")


def test_a_whole_job_runs_over_tls(tls_port: int, certs: Certificates, tmp_path: Path) -> None:
    storage = f"file://{tmp_path / 'storage'}"
    ca = str(certs.ca)
    # One node as the embedded cluster runs it: every queue and beat, as the orchestrator user
    node = LocalWorkers(
        rediss(tls_port, "orchestrator", ssl_ca_certs=ca),
        1,
        QUEUES,
        {"PYTHONPATH": str(ROOT), "CLOUDRENDER_STORAGE_URL": storage},
        beat=True,
    )
    with node:
        client = CloudRenderingAPI(rediss(tls_port, "client", ssl_ca_certs=ca), storage_url=storage)
        job = client.submit_job(colour_project(1.0), output="out.mp4", local_delivery=False)
        record = client.wait(job, timeout=120)
        assert record.state is JobState.COMPLETED, record.error
        client.download(job, str(tmp_path / "out.mp4"))
        assert (tmp_path / "out.mp4").stat().st_size > 0


def test_every_client_of_redis_takes_the_url_as_it_is(tls_port: int, certs: Certificates) -> None:
    url = rediss(tls_port, "orchestrator", ssl_ca_certs=str(certs.ca))
    app = make_app(Settings(broker_url=url, result_backend=url))
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1)
        assert app.backend.client.ping()
        assert get_redis(app).ping()
        store = JobStore.from_url(url)
        store.create(JobRecord(id="tls"), {})
        assert store.state("tls") is JobState.QUEUED
    finally:
        app.close()


def _attempts(url: str) -> dict[str, Any]:
    """What each Redis client of ours makes of this URL: True, or the exception it raised."""
    app = make_app(Settings(broker_url=url, result_backend=url))
    results: dict[str, Any] = {}
    checks = {
        "broker": lambda: app.connection_for_write().ensure_connection(max_retries=0),
        "backend": lambda: app.backend.client.ping(),
        "redbeat": lambda: get_redis(app).ping(),
        "job store": lambda: JobStore.from_url(url).redis.ping(),
    }
    try:
        for name, check in checks.items():
            try:
                check()
                results[name] = True
            except (redis.ConnectionError, OperationalError) as exc:
                results[name] = exc
    finally:
        app.close()
    return results


@pytest.mark.parametrize("ca", ["system", "another"])
def test_a_server_that_cannot_be_verified_is_refused(
    tls_port: int, tmp_path: Path, ca: str
) -> None:
    # Given a URL without our CA (the system's CAs do not know it), or with someone else's
    query = {} if ca == "system" else {"ssl_ca_certs": str(make_certificates(tmp_path).ca)}
    results = _attempts(rediss(tls_port, "orchestrator", **query))
    # Then every client refuses the server, for that reason (no ssl_cert_reqs was needed)
    assert set(results) == {"broker", "backend", "redbeat", "job store"}
    for name, result in results.items():
        assert result is not True, name
        assert "CERTIFICATE_VERIFY_FAILED" in str(result), (name, result)


def test_tls_options_follow_the_url() -> None:
    assert tls_options("redis://h:6379/0") is None
    assert tls_options("rediss://h:6379/0") == {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    assert tls_options(
        "rediss://u:p@h/0?ssl_ca_certs=/ca.crt&ssl_certfile=/c.crt&ssl_keyfile=/c.key"
        "&ssl_cert_reqs=CERT_OPTIONAL"
    ) == {
        "ssl_cert_reqs": ssl.CERT_OPTIONAL,
        "ssl_ca_certs": "/ca.crt",
        "ssl_certfile": "/c.crt",
        "ssl_keyfile": "/c.key",
    }
    with pytest.raises(RenderError, match="ssl_cert_reqs=maybe in the Redis URL"):
        tls_options("rediss://h/0?ssl_cert_reqs=maybe")
    # A configuration switched from TLS back to plain Redis loses its TLS options
    plain = celery_config(Settings(broker_url="redis://h/0"))
    assert plain["broker_use_ssl"] is False and plain["redis_backend_use_ssl"] is None
    secure = celery_config(Settings(broker_url="rediss://h/0", result_backend="rediss://h/1"))
    assert secure["broker_use_ssl"] == secure["redis_backend_use_ssl"] == tls_options("rediss://h")
