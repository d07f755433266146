"""Distributed renders whose media, segments and output live in each storage backend.

Real protocol emulators (moto for S3, gcp-storage-emulator, Azurite), real worker processes.
A second submit of the same project uploads nothing: assets are content-addressed.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import JobState
from providers.storage.encrypted_format import MAGIC
from tests.helpers import sealed_objects
from tests.media import decode_rgb, make_image, make_video, project, video_track
from tests.providers.emulators import worker_env

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(params=["local", "s3", "gcs", "azure"])
def storage_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    backend = request.param
    if backend == "local":
        return f"file://{tmp_path / 'store'}"
    if backend == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        monkeypatch.setenv(
            "CLOUDRENDER_S3_ENDPOINT_URL", request.getfixturevalue("moto_s3_endpoint")
        )
        return f"s3://{bucket}/renders"
    if backend == "gcs":
        return f"gs://{request.getfixturevalue('gcs_bucket')}/renders"
    return f"az://{request.getfixturevalue('azurite_container')}/renders"


def media_project(tmp: Path) -> dict[str, Any]:
    make_video(tmp / "clip.mp4", frames=45, audio_hz=330.0)
    make_image(tmp / "logo.png", (64, 36), (255, 255, 255, 180))
    return project(
        [
            video_track(
                "v",
                [{"id": "clip", "start_time": 0, "end_time": 1.5, "source": {"File": "clip.mp4"}}],
            ),
            video_track(
                "logo",
                [
                    {
                        "id": "logo",
                        "start_time": 0,
                        "end_time": 1.5,
                        "source": {"File": "logo.png"},
                        "transform": {"scale_x": 0.3, "scale_y": 0.3},
                    }
                ],
            ),
        ],
        settings={"export": {"preset": "ultrafast"}},
    )


def test_render_through_storage(storage_url: str, tmp_path: Path) -> None:
    doc = media_project(tmp_path)
    with EmbeddedCluster(workers=1, env=worker_env(tmp_path / "worker-cache")) as cluster:
        api = CloudRenderingAPI(cluster.broker_url, storage_url=storage_url)
        first = api.submit_job(
            doc,
            output=str(tmp_path / "first.mp4"),
            base_dir=str(tmp_path),
            chunk_frames=15,
            sync_assets=True,
        )
        done = api.wait(first, timeout=180)
        assert done.state is JobState.COMPLETED, done.error
        # Only workers on a shared disk write a local output path; otherwise the client fetches.
        shared_disk = storage_url.startswith("file://")
        assert (tmp_path / "first.mp4").exists() == shared_disk
        if not shared_disk:
            api.download(first, str(tmp_path / "first.mp4"))
        media_bytes = (tmp_path / "clip.mp4").stat().st_size + (
            tmp_path / "logo.png"
        ).stat().st_size
        assert done.uploaded_bytes == media_bytes
        # The same project again: every asset is already there, nothing is uploaded.
        second = api.submit_job(
            doc,
            output=str(tmp_path / "second.mp4"),
            base_dir=str(tmp_path),
            chunk_frames=15,
            sync_assets=True,
        )
        assert api.wait(second, timeout=180).state is JobState.COMPLETED
        assert api.get_job_status(second).uploaded_bytes == 0
        # The output is in the storage and downloadable, by the API and by URL where signed.
        fetched = tmp_path / "fetched.mp4"
        api.download(second, str(fetched))
        assert len(decode_rgb(fetched)) == 45
        # Downloaded to a symlink: the video lands in its target, and the link stays one.
        (tmp_path / "renders").mkdir()
        target = tmp_path / "renders" / "week-49.mp4"
        target.write_bytes(b"last week")
        (tmp_path / "latest.mp4").symlink_to(target)
        api.download(second, str(tmp_path / "latest.mp4"))
        assert (tmp_path / "latest.mp4").is_symlink()
        assert target.read_bytes() == fetched.read_bytes()
        url = api.output_url(second)
        if url.startswith("http"):
            with urllib.request.urlopen(url, timeout=30) as response:
                assert response.read() == fetched.read_bytes()
        else:
            assert url.startswith(storage_url.split("/")[0])
    assert decode_rgb(tmp_path / "first.mp4")[0].shape == (180, 320, 3)


def test_encrypted_render_stores_only_ciphertext(tmp_path: Path) -> None:
    from common.settings import Settings

    key = "ab" * 32
    doc = media_project(tmp_path)
    store = tmp_path / "store"
    env = {"CLOUDRENDER_ENCRYPTION_KEY": key, "CLOUDRENDER_CACHE_DIR": str(tmp_path / "cache")}
    with EmbeddedCluster(workers=1, env=env) as cluster:
        settings = Settings(broker_url=cluster.broker_url, encryption_key=key)
        api = CloudRenderingAPI(
            cluster.broker_url, storage_url=f"file://{store}", settings=settings
        )
        job = api.submit_job(
            doc,
            output=str(tmp_path / "out.mp4"),
            base_dir=str(tmp_path),
            chunk_frames=15,
            sync_assets=True,
            keep_segments=True,
        )
        record = api.wait(job, timeout=180)
        assert record.state is JobState.COMPLETED, record.error
        stored = sealed_objects(store)
        assert stored and all(p.read_bytes().startswith(MAGIC) for p in stored)
        api.download(job, str(tmp_path / "fetched.mp4"))
    assert len(decode_rgb(tmp_path / "fetched.mp4")) == 45
    assert (tmp_path / "fetched.mp4").read_bytes() == (tmp_path / "out.mp4").read_bytes()
