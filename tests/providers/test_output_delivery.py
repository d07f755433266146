"""Where the finished video goes: a storage URL, a shared disk, or back to the client.

Workers on a shared disk write a local output path themselves; remote workers (cloud storage)
cannot, so the client fetches the video; an ``s3://``/``gs://``/``az://``/``file://`` output is
put there by the merge. Real moto S3 server and real worker processes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.project import read_project
from cli.render_command import render_distributed
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import JobState
from orchestrator.submission import output_targets
from providers.storage import StorageError, open_storage, split_object_url
from tests.helpers import CLI, colour_project, subprocess_env
from tests.media import decode_rgb, write_project
from tests.providers.emulators import worker_env

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize(
    ("url", "parent", "key"),
    [
        ("s3://bucket/deliveries/film.mp4", "s3://bucket/deliveries", "film.mp4"),
        ("s3://bucket/film.mp4", "s3://bucket", "film.mp4"),
        ("gs://bucket/a/b/cut.mkv", "gs://bucket/a/b", "cut.mkv"),
        ("az://container/x.webm", "az://container", "x.webm"),
        ("file:///srv/out/film.mov", "file:///srv/out", "film.mov"),
        ("file:///film.mp4", "file:///", "film.mp4"),
    ],
)
def test_object_urls_split_into_storage_and_key(url: str, parent: str, key: str) -> None:
    assert split_object_url(url) == (parent, key)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://example.com/film.mp4", "must be file://, s3://, gs:// or az://"),
        ("s3://bucket", "must end in a file name with an extension"),
        ("s3://bucket/renders/", "must end in a file name with an extension"),
        ("gs://bucket/renders/film", "must end in a file name with an extension"),
        ("s3:///film.mp4", "names no bucket or container"),
        ("s3://film.mp4", "names a bucket but no object in it"),
        # Refused by the backend only when the merge opened the URL, after the whole render.
        ("s3://bucket/../film.mp4", "invalid S3 prefix '../film.mp4'.*'\\.\\.'"),
        ("s3://Bad_Bucket/film.mp4", "invalid S3 bucket name 'Bad_Bucket'"),
        ("s3://bucket/a//film.mp4", "empty parts"),
        ("s3://bucket/film.mp4?versionId=1", "query or fragment"),
        ("gs://B/film.mp4", "invalid GCS bucket name 'B'"),
        ("gs://bucket/../film.mp4", "'\\.\\.'"),
        ("az://c/film.mp4", "invalid Azure container name 'c'"),
        ("az://container/take./film.mp4", "drops a '.'"),
    ],
)
def test_malformed_output_urls_are_refused(url: str, problem: str) -> None:
    with pytest.raises(StorageError, match=problem):
        split_object_url(url)
    # The submit refuses it, before anything is rendered.
    with pytest.raises(StorageError, match=problem):
        output_targets(url, shared_disk=False)


def test_checking_an_output_url_loads_no_cloud_sdk() -> None:
    """The SDKs take tenths of a second to import (boto3 0.16-0.24 s, google-cloud-storage
    0.2-0.4 s on a 2-core machine): a submit that only checks an output URL's form, or refuses
    a malformed one, does not load them."""
    code = (
        "import sys\n"
        "from providers.storage import StorageError, split_object_url\n"
        "for url in ('s3://bucket/f.mp4', 'gs://bucket/f.mp4', 'az://container/f.mp4',"
        " 's3://BAD/f.mp4', 'gs://-x/f.mp4', 'az://c/f.mp4'):\n"
        "    try:\n"
        "        split_object_url(url)\n"
        "    except StorageError:\n"
        "        pass\n"
        "sdks = ('boto3', 'botocore', 'google.cloud.storage', 'azure.storage.blob')\n"
        "print(sorted(m for m in sdks if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def short_project() -> dict[str, Any]:
    return colour_project(0.5, "#22aa66")


@pytest.fixture
def s3_cluster(
    s3_bucket: str, moto_s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str]]:
    """A one-worker cluster that can reach the moto S3 bucket; (broker URL, bucket)."""
    monkeypatch.setenv("CLOUDRENDER_S3_ENDPOINT_URL", moto_s3_endpoint)
    with EmbeddedCluster(workers=1, env=worker_env(tmp_path / "worker-cache")) as cluster:
        yield cluster.broker_url, s3_bucket


def test_output_url_receives_the_video(s3_cluster: tuple[str, str], tmp_path: Path) -> None:
    broker, bucket = s3_cluster
    api = CloudRenderingAPI(broker, storage_url=f"file://{tmp_path / 'store'}")
    job = api.submit_job(short_project(), output=f"s3://{bucket}/deliveries/film.mp4")
    record = api.wait(job, timeout=120)
    assert record.state is JobState.COMPLETED, record.error
    delivered = tmp_path / "delivered.mp4"
    open_storage(f"s3://{bucket}/deliveries").get_file("film.mp4", str(delivered))
    assert len(decode_rgb(delivered)) == 15


def test_remote_workers_leave_local_paths_to_the_client(
    s3_cluster: tuple[str, str], tmp_path: Path
) -> None:
    broker, bucket = s3_cluster
    api = CloudRenderingAPI(broker, storage_url=f"s3://{bucket}/renders")
    out = tmp_path / "film.mp4"
    job = api.submit_job(short_project(), output=str(out))
    assert api.wait(job, timeout=120).state is JobState.COMPLETED
    # A worker elsewhere would have no such directory: it does not try; the client fetches.
    assert not out.exists()
    api.download(job, str(out))
    assert len(decode_rgb(out)) == 15


def test_render_on_a_remote_cluster_fetches_the_video(
    s3_cluster: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, bucket = s3_cluster
    monkeypatch.setenv("CLOUDRENDER_STORAGE_URL", f"s3://{bucket}/renders")
    prepared = read_project(short_project(), base_dir=str(tmp_path))
    out = tmp_path / "film.mp4"
    summary = render_distributed(
        prepared.with_export(output=str(out)),
        str(out),
        workers=1,
        broker_url=broker,
    )
    assert summary["frames"] == 15 and len(decode_rgb(out)) == 15
    # Nothing of the job is left in the bucket.
    assert open_storage(f"s3://{bucket}/renders").list(f"jobs/{summary['job']}/") == []


def test_a_malformed_output_url_fails_the_submit(
    s3_cluster: tuple[str, str], tmp_path: Path
) -> None:
    broker, bucket = s3_cluster
    api = CloudRenderingAPI(broker, storage_url=f"file://{tmp_path / 'store'}")
    with pytest.raises(StorageError, match="must end in a file name"):
        api.submit_job(short_project(), output=f"s3://{bucket}")
    assert api.store.recent() == []


def test_submit_says_how_to_fetch_a_video_remote_workers_cannot_deliver(
    cli: CLI, s3_cluster: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker, bucket = s3_cluster
    monkeypatch.setenv("CLOUDRENDER_STORAGE_URL", f"s3://{bucket}/renders")
    timeline = write_project(tmp_path / "p.json", short_project())
    out = tmp_path / "film.mp4"
    done = cli("submit", str(timeline), "-o", str(out), "--broker", broker)
    assert done.returncode == 0, done.stderr
    job = done.stdout.strip().splitlines()[-1]
    assert f"cloudrender download {job} -o {out}" in done.stderr
    api = CloudRenderingAPI(broker, storage_url=f"s3://{bucket}/renders")
    assert api.wait(job, timeout=120).state is JobState.COMPLETED
    fetched = cli("download", job, "-o", str(out), "--broker", broker)
    assert fetched.returncode == 0, fetched.stderr
    assert len(decode_rgb(out)) == 15
