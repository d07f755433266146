"""Uploaded media in a bucket (S3 on moto) checked at submit and estimate from what probing each
asset showed, recorded beside it: a sound file on a video track was accepted (201) and failed
on a worker, because only assets on this server's disk were checked. The whole asset is never
downloaded for it; one stored without a record is fetched and probed once."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from orchestrator import asset_probes
from orchestrator.api import CloudRenderingAPI
from orchestrator.api_cache import sealed
from orchestrator.asset_probes import probe_key
from providers.storage import open_storage
from server.app import create_app
from tests.counting_storage import CountingStorage
from tests.media import make_video
from tests.server.conftest import ServerCluster, bearer
from tests.server.test_stored_media import _project, _refused, _sound_only, _upload

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def cloud_app(server_cluster: ServerCluster, s3_storage_url: str) -> FastAPI:
    """The service with its assets in the bucket, its asset storage counting what moves."""
    settings = dataclasses.replace(server_cluster.settings, storage_url=s3_storage_url)
    app = create_app(settings, api=CloudRenderingAPI(settings=settings))
    app.state.asset_storage = CountingStorage(sealed(open_storage(s3_storage_url), settings))
    return app


@pytest.fixture
def cloud(cloud_app: FastAPI) -> Iterator[TestClient]:
    """A client of ``cloud_app``."""
    with TestClient(cloud_app, raise_server_exceptions=False) as running:
        yield running


def _counted(client: TestClient) -> CountingStorage:
    storage = client.app.state.asset_storage  # type: ignore[attr-defined]
    assert isinstance(storage, CountingStorage)
    return storage


def _store_unprobed(client: TestClient, path: Path) -> str:
    """Put ``path`` in the bucket with no probe record (a pre-signed PUT, an older service)."""
    data = path.read_bytes()
    name = hashlib.sha256(data).hexdigest() + path.suffix
    _counted(client).inner.put_file("assets/" + name, str(path))
    return "asset:sha256:" + name


def _accepted(client: TestClient, key: str, body: dict[str, Any]) -> list[str]:
    """Estimate and submit ``body`` (the job cancelled at once); the submit's warnings."""
    estimate = client.post("/v1/estimate", json=body, headers=bearer(key))
    assert estimate.status_code == 200, estimate.text
    answer = client.post("/v1/jobs", json=body, headers=bearer(key))
    assert answer.status_code == 201, answer.text
    client.post(f"/v1/jobs/{answer.json()['id']}/cancel", headers=bearer(key))
    return list(answer.json()["warnings"])


def test_a_sound_file_on_a_video_track_in_a_bucket_is_refused(
    cloud: TestClient, user_key: str, tmp_path: Path
) -> None:
    ref = _upload(cloud, user_key, _sound_only(tmp_path / "voice.m4a"))
    _refused(cloud, user_key, {"project": _project(ref)}, "no video stream", ref)


def test_an_audio_stream_the_asset_in_a_bucket_lacks_is_refused(
    cloud: TestClient, user_key: str, tmp_path: Path
) -> None:
    shot = make_video(tmp_path / "shot.mp4", frames=5, size=(64, 36), audio_hz=440.0)
    ref = _upload(cloud, user_key, shot)
    _refused(cloud, user_key, {"project": _project(ref, audio_stream=3)}, "audio_stream 3", ref)


def test_a_good_asset_is_accepted_from_its_record_without_a_download(
    cloud: TestClient, user_key: str, tmp_path: Path
) -> None:
    shot = make_video(tmp_path / "shot.mp4", frames=3, size=(64, 36))
    ref = _upload(cloud, user_key, shot)
    storage = _counted(cloud)
    name = ref.removeprefix("asset:sha256:")
    assert storage.puts.count(probe_key(name)) == 1  # recorded by the upload
    warned = _accepted(cloud, user_key, {"project": _project(ref)})
    # Its length is known from the record: the clip (0.5 s) plays past its 3 frames.
    assert any("clip 'take'" in w and "last frame holds" in w for w in warned), warned
    assert "assets/" + name not in storage.gets  # never downloaded
    assert storage.puts.count(probe_key(name)) == 1  # read, not probed again


def test_an_asset_without_a_record_is_probed_once(
    cloud: TestClient, user_key: str, tmp_path: Path
) -> None:
    voice = _store_unprobed(cloud, _sound_only(tmp_path / "voice.m4a"))
    shot = _store_unprobed(cloud, make_video(tmp_path / "shot.mp4", frames=10, size=(64, 36)))
    storage = _counted(cloud)
    _refused(cloud, user_key, {"project": _project(voice)}, "no video stream", voice)
    for _ in range(2):
        assert _accepted(cloud, user_key, {"project": _project(shot)}) == []
    for ref in (voice, shot):
        name = ref.removeprefix("asset:sha256:")
        assert storage.gets.count("assets/" + name) == 1, storage.gets
        assert storage.puts.count(probe_key(name)) == 1, storage.puts


def test_an_asset_that_cannot_be_probed_is_accepted_with_a_note(
    cloud: TestClient, user_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asset_probes, "FETCH_LIMIT_BYTES", 100)
    voice = _store_unprobed(cloud, _sound_only(tmp_path / "voice.m4a"))
    warned = _accepted(cloud, user_key, {"project": _project(voice)})
    assert any(voice in w and "not checked at submit" in w for w in warned), warned
    assert "assets/" + voice.removeprefix("asset:sha256:") not in _counted(cloud).gets


def test_a_sound_file_on_a_video_track_in_encrypted_storage_is_refused(
    server_cluster: ServerCluster, user_key: str, tmp_path: Path
) -> None:
    """Encrypted storage on this disk holds ciphertext, which the file check cannot open."""
    store = tmp_path / "sealed-store"
    store.mkdir()
    settings = dataclasses.replace(
        server_cluster.settings, storage_url=store.as_uri(), encryption_key="ab" * 32
    )
    app = create_app(settings, api=CloudRenderingAPI(settings=settings))
    with TestClient(app, raise_server_exceptions=False) as client:
        ref = _upload(client, user_key, _sound_only(tmp_path / "voice.m4a"))
        _refused(client, user_key, {"project": _project(ref)}, "no video stream", ref)
