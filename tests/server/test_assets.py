"""Media over HTTP: ask which assets are missing, upload only those (to the service, or to a
pre-signed S3 URL), and a second round uploads nothing. In this process and on real uvicorn."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from common.settings import Settings
from orchestrator.api import CloudRenderingAPI
from server import routes_assets
from server.app import create_app
from tests.media import make_image, make_video
from tests.server.conftest import ServerCluster, bearer, serving

pytestmark = pytest.mark.timeout(120)


def name_of(data: bytes, ext: str) -> str:
    return hashlib.sha256(data).hexdigest() + ext


def app_for(settings: Settings) -> FastAPI:
    """The service with the asset routes (included here until app.py lists them)."""
    app = create_app(settings, api=CloudRenderingAPI(settings=settings))
    if not any(getattr(r, "path", "").startswith("/v1/assets") for r in app.routes):
        app.include_router(routes_assets.router)
    return app


@pytest.fixture
def api_app(server_cluster: ServerCluster) -> FastAPI:
    return app_for(server_cluster.settings)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A 320x180 mp4 and png, by asset name."""
    folder = tmp_path_factory.mktemp("media")
    make_video(folder / "clip.mp4", frames=4, size=(320, 180))
    make_image(folder / "still.png", (320, 180), (250, 120, 0, 255))
    return {
        name_of((folder / f).read_bytes(), os.path.splitext(f)[1]): (folder / f).read_bytes()
        for f in ("clip.mp4", "still.png")
    }


def error_of(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and "\n" not in body["error"], body
    return str(body["error"])


def missing(client: TestClient | httpx.Client, key: str, names: list[str], **extra: Any) -> Any:
    response = client.post(
        "/v1/assets/missing", json={"assets": names, **extra}, headers=bearer(key)
    )
    assert response.status_code == 200, response.text
    return response.json()


# -- the round trip ---------------------------------------------------------------------------


def test_missing_upload_missing_with_a_user_key(
    client: TestClient, user_key: str, media: dict[str, bytes], storage_dir: Path
) -> None:
    names = list(media)
    sizes = {n: len(d) for n, d in media.items()}
    first = missing(client, user_key, names, sizes=sizes)
    # Local storage signs nothing: every upload comes to the service.
    assert first == {"missing": names, "uploads": {}}
    for name in first["missing"]:
        response = client.put(f"/v1/assets/{name}", content=media[name], headers=bearer(user_key))
        assert response.status_code == 201, response.text
        assert response.json() == {"asset": name, "bytes": len(media[name])}
        assert (storage_dir / "assets" / name).read_bytes() == media[name]
    # The second round: nothing missing, so nothing to upload.
    assert missing(client, user_key, names) == {"missing": [], "uploads": {}}
    # An upload anyway is answered 200 and rewrites nothing.
    path = storage_dir / "assets" / names[0]
    before = path.stat().st_mtime_ns
    again = client.put(f"/v1/assets/{names[0]}", content=media[names[0]], headers=bearer(user_key))
    assert again.status_code == 200 and again.json()["bytes"] == len(media[names[0]])
    assert path.stat().st_mtime_ns == before
    # Assets are by content: another user's project finds them there too.


def test_assets_need_a_key(client: TestClient) -> None:
    name = "ab" * 32 + ".mp4"
    assert "API key" in error_of(client.post("/v1/assets/missing", json={"assets": [name]}), 401)
    assert "API key" in error_of(client.put(f"/v1/assets/{name}", content=b"x"), 401)
    bad = {"Authorization": "Bearer cr_000000000000_" + "a" * 43}
    assert "not valid" in error_of(client.put(f"/v1/assets/{name}", content=b"x", headers=bad), 401)


# -- refusals, each one JSON line ----------------------------------------------------------------


def test_refusals(
    client: TestClient, user_key: str, media: dict[str, bytes], storage_dir: Path
) -> None:
    mp4 = next(n for n in media if n.endswith(".mp4"))
    auth = bearer(user_key)
    # A sample entry naming a codec FFmpeg has no decoder for: the check raised (a 500).
    entry = media[mp4].index(b"avc1", media[mp4].index(b"stsd"))
    unknown = media[mp4][:entry] + b"zzzz" + media[mp4][entry + 4 :]
    cases: list[tuple[str, bytes, int, str]] = [
        (name_of(unknown, ".mp4"), unknown, 415, "no decoder for the video codec"),
        ("nope.mp4", b"x", 400, "not an asset name"),
        ("ab" * 32 + ".m3u8", b"#EXTM3U\n", 415, ".m3u8 is not an allowed media format"),
        (mp4, media[mp4][:-1] + b"\x01", 400, "not the hash the name promises"),
        (name_of(b"text " * 40, ".mp4"), b"text " * 40, 415, "not a media file a render can use"),
        (
            name_of(b"#EXTM3U\n/etc/passwd\n", ".mp4"),
            b"#EXTM3U\n/etc/passwd\n",
            415,
            "HLS playlist",
        ),
    ]
    before = sorted(p.name for p in (storage_dir / "assets").glob("*"))
    for name, body, status, words in cases:
        response = client.put(f"/v1/assets/{name}", content=body, headers=auth)
        assert words in error_of(response, status), name
    assert sorted(p.name for p in (storage_dir / "assets").glob("*")) == before
    response = client.post("/v1/assets/missing", json={"assets": ["x"]}, headers=auth)
    assert "not an asset name" in error_of(response, 400)
    response = client.post("/v1/assets/missing", json={"assets": "x"}, headers=auth)
    assert "assets" in error_of(response, 422)
    response = client.post("/v1/assets/missing", json={"assets": [], "extra": 1}, headers=auth)
    assert "unknown field" in error_of(response, 422)


def test_size_limit(server_cluster: ServerCluster, user_key: str, media: dict[str, bytes]) -> None:
    mp4 = next(n for n in media if n.endswith(".mp4"))
    limit = len(media[mp4]) - 1
    settings = dataclasses.replace(server_cluster.settings, api_max_asset_bytes=limit)
    auth = bearer(user_key)
    with TestClient(app_for(settings), raise_server_exceptions=False) as client:
        said = client.post(
            "/v1/assets/missing", json={"assets": [mp4], "sizes": {mp4: limit + 1}}, headers=auth
        )
        assert f"is {limit + 1} bytes, above the limit of {limit} bytes" in error_of(said, 413)
        declared = client.put(f"/v1/assets/{mp4}", content=media[mp4], headers=auth)
        error_of(declared, 413)

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            for i in range(0, len(media[mp4]), 1000):
                yield media[mp4][i : i + 1000]

        streamed = client.put(f"/v1/assets/{mp4}", content=chunks(), headers=auth)
        error_of(streamed, 413)


# -- on a real server: streamed (chunked) upload --------------------------------------------------


def test_streamed_upload_on_uvicorn(
    live_server: str, operator_key: str, tmp_path: Path, storage_dir: Path
) -> None:
    make_video(tmp_path / "long.mp4", frames=48, size=(320, 180))
    data = (tmp_path / "long.mp4").read_bytes()
    name = name_of(data, ".mp4")

    def body() -> Iterator[bytes]:
        with open(tmp_path / "long.mp4", "rb") as f:
            while block := f.read(8192):
                yield block

    with httpx.Client(base_url=live_server, timeout=60) as http:
        assert missing(http, operator_key, [name])["missing"] == [name]
        response = http.put(f"/v1/assets/{name}", content=body(), headers=bearer(operator_key))
        assert response.status_code == 201, response.text
        assert missing(http, operator_key, [name])["missing"] == []
    assert (storage_dir / "assets" / name).read_bytes() == data


def test_an_upload_the_client_abandons_is_no_error_in_the_log(
    live_server: str, user_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client gone mid-upload was logged as uvicorn's "Exception in ASGI application" with
    a 60-line traceback, at ERROR, for every dropped connection."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the upload is spooled
    errors: list[logging.LogRecord] = []
    catcher = logging.Handler(logging.ERROR)
    catcher.emit = errors.append  # type: ignore[method-assign]
    logging.getLogger("uvicorn.error").addHandler(catcher)
    parts = urlsplit(live_server)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as gone:
            gone.sendall(
                f"PUT /v1/assets/{'a' * 64}.mp4 HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {user_key}\r\nContent-Length: 1000000\r\n\r\n".encode()
                + b"\0" * 100_000
            )
            time.sleep(0.5)  # the upload is under way: its temporary file exists
        deadline = time.monotonic() + 10
        while list(tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert httpx.get(f"{live_server}/healthz", timeout=10).status_code == 200
    finally:
        logging.getLogger("uvicorn.error").removeHandler(catcher)
    assert not list(tmp_path.iterdir())  # the partial upload was removed
    assert [r.getMessage() for r in errors] == []


# -- S3 storage: pre-signed PUTs straight to the bucket --------------------------------------------


def test_presigned_uploads_on_s3(
    server_cluster: ServerCluster, s3_storage_url: str, user_key: str, media: dict[str, bytes]
) -> None:
    settings = dataclasses.replace(server_cluster.settings, storage_url=s3_storage_url)
    names = list(media)
    sizes = {n: len(d) for n, d in media.items()}
    with serving(app_for(settings)) as url, httpx.Client(base_url=url, timeout=60) as http:
        first = missing(http, user_key, names, sizes=sizes)
        assert first["missing"] == names and set(first["uploads"]) == set(names)
        for name in names:
            target = first["uploads"][name]
            assert target["method"] == "PUT" and "x-amz-checksum-sha256" in target["headers"]
            # Straight to the bucket: no service key, no AWS credentials.
            response = httpx.put(target["url"], content=media[name], headers=target["headers"])
            assert response.status_code == 200, response.text
        assert missing(http, user_key, names, sizes=sizes) == {"missing": [], "uploads": {}}
        # Without sizes there is no URL (it is signed for a length): the service takes it.
        late = name_of(b"never sent", ".wav")
        assert missing(http, user_key, [late]) == {"missing": [late], "uploads": {}}
