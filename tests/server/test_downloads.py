"""``HEAD /v1/jobs/{id}/output``: the headers a download gets (its size first of all), however
the video is served: from the storage's disk, fetched to a temporary file, or where GET
redirects to a pre-signed URL."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from orchestrator.http_client import HTTPRenderingAPI
from providers.storage import StorageError
from providers.storage.local import LocalStorage
from server import routes_jobs
from server.openapi import openapi_document
from tests.helpers import colour_project
from tests.server.conftest import bearer

pytestmark = pytest.mark.timeout(300)


class Fetched(LocalStorage):
    """A storage whose objects are not on this disk: a download fetches them first."""

    def local_path(self, key: str) -> str | None:
        raise StorageError("not on this disk", key=key)


class Signing(LocalStorage):
    """A storage that signs GET URLs, as S3 and GCS do."""

    def presigned_url(self, key: str, expires: int = 3600) -> str:
        return f"https://storage.example/{key}?signature=for-GET"


def _completed_job(client: TestClient, key: str) -> str:
    submitted = client.post(
        "/v1/jobs",
        json={"project": colour_project(0.5, "#3366cc"), "output_name": "probe.mp4"},
        headers=bearer(key),
    )
    assert submitted.status_code == 201, submitted.text
    job_id = str(submitted.json()["id"])
    deadline = time.monotonic() + 150
    while client.get(f"/v1/jobs/{job_id}", headers=bearer(key)).json()["state"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    return job_id


def test_head_answers_a_downloads_headers_without_the_video(
    client: TestClient,
    live_server: str,
    user_key: str,
    other_user_key: str,
    storage_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HEAD answered 405: download managers and resumable clients learn the size with it."""
    job_id = _completed_job(client, user_key)
    url = f"/v1/jobs/{job_id}/output"
    stored = storage_dir / "jobs" / job_id / "output.mp4"
    size = stored.stat().st_size
    for kind in (LocalStorage, Fetched, Signing):
        monkeypatch.setattr(routes_jobs, "open_storage", lambda _url, k=kind: k(str(storage_dir)))
        # RFC 9110: a Range is for GET only; HEAD tells the whole video's size
        probe = client.head(url, headers={"Range": "bytes=0-9", **bearer(user_key)})
        assert probe.status_code == 200, (kind.__name__, probe.status_code)
        assert probe.content == b""
        assert probe.headers["content-length"] == str(size), kind.__name__
        assert probe.headers["content-type"] == "video/mp4"
        assert probe.headers["content-disposition"] == 'attachment; filename="probe.mp4"'
        assert probe.headers["accept-ranges"] == "bytes"
        on_socket = httpx.head(f"{live_server}{url}", headers=bearer(user_key), timeout=30)
        assert (on_socket.status_code, on_socket.headers["content-length"]) == (200, str(size))
    # Where GET redirects, to a URL signed for GET only, HEAD answered the size itself
    redirected = client.get(url, headers=bearer(user_key), follow_redirects=False)
    assert redirected.status_code == 307
    assert redirected.headers["location"].startswith("https://storage.example/")
    assert client.head(url, headers=bearer(other_user_key)).status_code == 404
    assert client.head(url).status_code == 401
    stored.unlink()
    for kind in (LocalStorage, Fetched, Signing):
        monkeypatch.setattr(routes_jobs, "open_storage", lambda _url, k=kind: k(str(storage_dir)))
        assert client.head(url, headers=bearer(user_key)).status_code == 410, kind.__name__


class SigningFor(LocalStorage):
    """A storage whose signed GET URLs say how long they last."""

    def presigned_url(self, key: str, expires: int = 3600) -> str:
        return f"https://storage.example/{key}?expires={expires}"


def test_a_signed_link_lasts_as_long_as_the_client_asked(
    client: TestClient,
    live_server: str,
    user_key: str,
    storage_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``HTTPRenderingAPI.output_url(job, expires=60)`` sent ?expires=60, which the service
    ignored: every link it handed out lasted an hour."""
    job_id = _completed_job(client, user_key)
    monkeypatch.setattr(routes_jobs, "open_storage", lambda _url: SigningFor(str(storage_dir)))
    url = f"/v1/jobs/{job_id}/output"

    def location(query: str) -> str:
        answer = client.get(url + query, headers=bearer(user_key), follow_redirects=False)
        assert answer.status_code == 307, answer.text
        return answer.headers["location"]

    assert location("").endswith("?expires=3600")
    assert location("?expires=60").endswith("?expires=60")
    for wrong in ("0", "604801", "soon"):
        refused = client.get(f"{url}?expires={wrong}", headers=bearer(user_key))
        assert refused.status_code == 422 and "expires" in refused.json()["error"]
    with HTTPRenderingAPI(live_server, user_key) as api:
        assert api.output_url(job_id, expires=90).endswith("?expires=90")


def test_a_range_set_is_served_by_the_parts_inside_the_video(
    client: TestClient, user_key: str, storage_dir: Path
) -> None:
    """One part outside the video made Starlette answer an empty text/plain 416 to the whole
    set, and a position of over 4300 digits answered 500."""
    job_id = _completed_job(client, user_key)
    url = f"/v1/jobs/{job_id}/output"
    stored = (storage_dir / "jobs" / job_id / "output.mp4").read_bytes()
    size = len(stored)
    for header in (f"bytes=0-9,{size + 10}-", "bytes=-0,0-9", "bytes=0-9," + "9" * 5000 + "-"):
        part = client.get(url, headers={"Range": header, **bearer(user_key)})
        assert part.status_code == 206, (header[:40], part.status_code, part.text[:200])
        assert part.headers["content-range"] == f"bytes 0-9/{size}"
        assert part.content == stored[:10]
    whole = client.get(url, headers={"Range": "bytes=0-" + "9" * 5000, **bearer(user_key)})
    assert whole.status_code == 206 and whole.content == stored
    outside = client.get(url, headers={"Range": "bytes=" + "9" * 5000 + "-", **bearer(user_key)})
    assert outside.status_code == 416 and outside.headers["content-range"] == f"bytes */{size}"
    assert "outside the video" in outside.json()["error"]


def test_the_editor_may_send_head_across_origins(client: TestClient) -> None:
    preflight = client.options(
        "/v1/jobs/0123456789abcdef/output",
        headers={
            "Origin": "tauri://localhost",
            "Access-Control-Request-Method": "HEAD",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200
    assert "HEAD" in preflight.headers["access-control-allow-methods"]


def test_the_download_documents_every_error_it_answers() -> None:
    """A generated client took 400, 410 and 416 for unknown errors."""
    operations = openapi_document()["paths"]["/v1/jobs/{job_id}/output"]
    assert {"400", "404", "409", "410", "416"} <= set(operations["get"]["responses"])
    assert {"404", "409", "410"} <= set(operations["head"]["responses"])
