"""Issue 13, finding 7 (the smaller items), as an attacker or an unlucky operator meets them.

Here: passwords in URLs never reach messages (``common.urls.redact_url``, the CLI's cluster
announcement, the API's lost-Redis error), and the exporter answers nothing without credentials
when it has them. Elsewhere, beside the code they test: SIGTERM/SIGHUP during ``render --direct``
leave no file (tests/cli/test_main.py), outputs follow the umask and are synced before and after
the rename (tests/workers/test_atomic.py, test_render.py, test_stitch.py), the exporter binds
loopback by default (tests/monitoring/test_exporter.py).
"""

from __future__ import annotations

import base64
import io
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis

import cli.render_command
from cli.main import main
from common.errors import RenderError
from common.settings import Settings
from common.urls import redact_url
from monitoring import exporter
from orchestrator import api_view as api_module
from orchestrator.api import CloudRenderingAPI
from tests.helpers import colour_project
from tests.media import write_project

SECRET = "hunter2"

REDACTED = [
    # (url, what must be shown): the password never, everything else where it is unambiguous
    ("redis://:hunter2@redis:6379/0", "redis://:***@redis:6379/0"),
    ("redis://worker:hunter2@redis:6379/0", "redis://worker:***@redis:6379/0"),
    ("redis://:hun@ter2@redis:6379/0", "redis://:***@redis:6379/0"),
    ("redis://:hun/ter2@redis:6379/0", "redis://:***@redis:6379/0"),
    ("redis://:h@u/n?t#er2@redis:6379/0", "redis://:***@redis:6379/0"),
    ("redis://:hunter2@[::1]:6379", "redis://:***@[::1]:6379"),
    ("rediss://:hunter2@redis:6380/0?ssl_cert_reqs=required", None),
    ("redis://redis:6379/0?password=hunter2", "redis://redis:6379/0?password=***"),
    (
        "redis://redis:6379/0?db=1&PassWord=hunter2&x=1",
        "redis://redis:6379/0?db=1&PassWord=***&x=1",
    ),
    ("redis+socket:///run/redis.sock?password=hunter2&db=0", None),
    ("unix://:hunter2@/run/redis.sock?db=0", None),
    ("https://acct.blob.core.windows.net/c?sv=2024&sig=hunter2", None),
    ("s3://bucket/key?X-Amz-Signature=hunter2&X-Amz-Credential=hunter2", None),
    ("redis://:hunter2@a:1/0;redis://:hunter2@b:1/0", None),
    # no secret: unchanged
    ("redis://redis:6379/0", "redis://redis:6379/0"),
    ("redis://worker@redis:6379/0", "redis://worker@redis:6379/0"),
    ("file:///data/storage", "file:///data/storage"),
    ("s3://bucket/renders/cat@2x.mp4", "s3://bucket/renders/cat@2x.mp4"),
]


@pytest.mark.parametrize(("url", "shown"), REDACTED)
def test_redact_url_hides_every_password(url: str, shown: str | None) -> None:
    redacted = redact_url(url)
    assert SECRET not in redacted and "ter2" not in redacted
    if shown is not None:
        assert redacted == shown


class _Terminal(io.StringIO):
    """stderr as a terminal, so that the CLI shows its progress and announcements."""

    def isatty(self) -> bool:
        return True


def test_cli_announces_the_cluster_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"redis://:{SECRET}@10.0.0.7:6379/0"

    def render_distributed(*_: Any, announce: Any = None, **__: Any) -> dict[str, Any]:
        announce(url, None)  # what the real one does once the cluster is up
        return {"mode": "distributed", "frames": 1, "seconds": 1.0, "fps": 1.0, "encoder": "x"}

    monkeypatch.setattr(cli.render_command, "render_distributed", render_distributed)
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    project = write_project(tmp_path / "p.json", colour_project(0.1))
    assert main(["render", str(project), "-o", str(tmp_path / "o.mp4"), "--broker", url]) == 0
    said = terminal.getvalue() + capsys.readouterr().out
    assert "cluster at redis://:***@10.0.0.7:6379/0" in said
    assert SECRET not in said


def test_api_lost_redis_message_hides_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = CloudRenderingAPI(
        f"redis://:{SECRET}@127.0.0.1:1/0",
        storage_url=f"file://{tmp_path}",
        settings=Settings(),
    )

    def unreachable(job_id: str) -> None:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(api.store, "get", unreachable)
    monkeypatch.setattr(api_module, "REDIS_PATIENCE", 0.0)
    with pytest.raises(RenderError, match="lost contact with Redis") as caught:
        api.wait("job", poll=0.01)
    assert "redis://:***@127.0.0.1:1/0" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_exporter_with_credentials_tells_a_stranger_nothing() -> None:
    dead = exporter.scrape_store("redis://127.0.0.1:1/0")
    server, thread = exporter.start_exporter(dead, 0, gpus=False, auth=f"prom:{SECRET}")
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10).close()
        with refused.value as response:
            assert response.code == 401
            assert "cloudrender" not in response.read().decode()
        token = base64.b64encode(f"prom:{SECRET}".encode()).decode()
        request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert "cloudrender_store_up" in response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_worker_with_malformed_metrics_auth_refuses_to_start() -> None:
    with pytest.raises(RenderError, match="user:password"):
        exporter.install(object(), Settings(metrics_port=9808, metrics_auth=SECRET))
