"""Issue 13, finding 2, as an attacker runs it: job B aims its ``-o`` at job A's objects.

A finished job's storage prefix (``jobs/<A>/``) and the video it delivered belong to it: B is
refused at submit, whatever the spelling (``file://`` URL, plain path, a symlinked alias of the
store); a B that skips the submit checks (raw Redis writes) is refused by the merge; a merge
message naming A's segments reads and deletes only B's own. A stays completed and ``download
A`` returns A's video bit for bit.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from common.names import QUEUE_MERGE, TASK_MERGE
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from providers.storage import LocalStorage
from tests.helpers import colour_project
from tests.security.redis_writer import inject, job_document, push_task
from workers.delivery import deliver, job_area, put_object
from workers.job_policy import JobRefused, WorkerPolicy, policy_env

pytestmark = pytest.mark.timeout(240)


@dataclass(frozen=True)
class Finished:
    """Job A, completed, and what it produced."""

    api: CloudRenderingAPI
    job: str
    store: Path
    out: Path
    delivered: Path  # A's video where A delivered it
    video: bytes  # A's video as `download A` returned it


@pytest.fixture(scope="module")
def job_a(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Finished]:
    root = tmp_path_factory.mktemp("isolation")
    store, out, media = root / "store", root / "out", root / "media"
    for d in (store, out, media):
        d.mkdir()
    env = policy_env(storage_url=store.as_uri(), media_roots=[str(media)], output_roots=[str(out)])
    env["CLOUDRENDER_CACHE_DIR"] = str(root / "cache")
    with EmbeddedCluster(workers=1, env=env) as cluster:
        api = CloudRenderingAPI(cluster.broker_url, storage_url=store.as_uri())
        delivered = out / "a.mp4"
        job = api.submit_job(
            colour_project(0.3, "#ff0000"), output=str(delivered), keep_segments=True
        )
        record = api.wait(job, timeout=120)
        assert record.state is JobState.COMPLETED, record.error
        fetched = root / "a-download.mp4"
        api.download(job, str(fetched))
        yield Finished(api, job, store, out, delivered, fetched.read_bytes())


def a_is_intact(a: Finished, tmp: Path) -> None:
    """A still shows completed, and both its stored and delivered videos are A's."""
    assert a.api.get_job_status(a.job).state is JobState.COMPLETED
    again = tmp / "again.mp4"
    a.api.download(a.job, str(again))
    assert again.read_bytes() == a.video
    assert a.delivered.read_bytes() == a.video


def test_an_output_into_another_jobs_prefix_is_refused_at_submit(
    job_a: Finished, tmp_path: Path
) -> None:
    a = job_a
    alias = tmp_path / "alias"
    alias.symlink_to(a.store)
    a_output = a.store / "jobs" / a.job / "output.mp4"
    spellings = [
        a_output.as_uri(),
        str(a_output),
        str(alias / "jobs" / a.job / "output.mp4"),
        (alias / "jobs" / a.job / "segments" / "000000.mkv").as_uri(),
        (a.store / "jobs" / "future-job" / "output.mp4").as_uri(),  # any job's, even unborn
        (a.store / "assets" / ("0" * 64 + ".mp4")).as_uri(),
    ]
    before = a.api.store.recent()
    for output in spellings:
        with pytest.raises(JobRefused, match=r"lies in the job storage's (jobs|assets)/ area"):
            a.api.submit_job(colour_project(0.3, "#0000ff"), output=output)
    assert a.api.store.recent() == before  # nothing was queued
    a_is_intact(a, tmp_path)


def test_an_output_over_a_delivered_video_is_refused_at_submit(
    job_a: Finished, tmp_path: Path
) -> None:
    a = job_a
    for output in (str(a.delivered), a.delivered.as_uri()):
        with pytest.raises(JobRefused, match="already exists"):
            a.api.submit_job(colour_project(0.3, "#0000ff"), output=output)
    a_is_intact(a, tmp_path)


def wait(api: CloudRenderingAPI, job: str) -> JobRecord:
    record = api.wait(job, timeout=120)
    assert record.state.finished, record
    return record


def test_the_merge_refuses_what_the_submit_would_have(job_a: Finished, tmp_path: Path) -> None:
    # B written straight into Redis, past the submit checks.
    a = job_a
    doc = colour_project(0.3, "#0000ff")
    for fields in (
        {"output_url": (a.store / "jobs" / a.job / "output.mp4").as_uri()},
        {"destination": str(a.store / "jobs" / a.job / "output.mp4")},
        {"destination": str(a.delivered)},
    ):
        b = inject(a.api.broker_url, job_document(doc, tmp_path, a.store.as_uri(), **fields))
        record = wait(a.api, b)
        if "destination" in fields and fields["destination"] == str(a.delivered):
            # Rendered, but not put over A's video: B completes saying so, its video kept.
            assert record.state is JobState.COMPLETED
            assert "already exists" in (record.result or {})["delivery_error"]
        else:
            assert record.state is JobState.FAILED
            assert "area" in (record.error or "")
    a_is_intact(a, tmp_path)


def test_a_merge_message_cannot_name_another_jobs_segments(job_a: Finished, tmp_path: Path) -> None:
    a = job_a
    segments = sorted((a.store / "jobs" / a.job / "segments").iterdir())
    assert segments  # A kept them (keep_segments)
    # B: a planned job whose merge message lists A's segment keys, asking to delete them.
    document = job_document(colour_project(0.3, "#0000ff"), tmp_path, a.store.as_uri())
    document["chunks"] = [[0, 9]]
    b = document["id"]
    store = JobStore.from_url(a.api.broker_url)
    store.create(JobRecord(id=b, submitted_at=time.time(), frames=9), document)
    for state in (JobState.PLANNING, JobState.RENDERING):
        store.transition(b, state)
    chunks = [{"index": 0, "start": 0, "end": 9, "key": f"jobs/{a.job}/segments/000000.mkv"}]
    push_task(a.api.broker_url, TASK_MERGE, [b, chunks, None], QUEUE_MERGE)
    record = wait(a.api, b)
    assert record.state is JobState.FAILED
    assert f"jobs/{b}/segments/000000.mkv" in (record.error or ""), record.error
    assert sorted((a.store / "jobs" / a.job / "segments").iterdir()) == segments
    a_is_intact(a, tmp_path)


# -- the rules, without a cluster -------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "area"),
    [
        ("s3://bucket/renders/jobs/a1/output.mp4", "jobs/"),
        ("s3://bucket//renders/assets/x.mp4", "assets/"),
        ("s3://BUCKET/renders/jobs/x.mp4", "jobs/"),
        ("s3://bucket/renders/jobsx/film.mp4", None),
        ("s3://bucket/other/jobs/a1/output.mp4", None),
        ("gs://bucket/renders/jobs/a1/output.mp4", None),  # another store altogether
        ("/srv/cr/jobs/a1/output.mp4", None),
    ],
)
def test_reserved_areas_of_a_cloud_store(target: str, area: str | None) -> None:
    assert job_area(target, "s3://bucket/renders") == area


def test_a_delivery_never_replaces_and_a_retried_one_succeeds(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    policy = WorkerPolicy(storage_url=(tmp_path / "s").as_uri(), output_roots=(str(out),))
    video, other = tmp_path / "video.mp4", tmp_path / "other.mp4"
    video.write_bytes(b"this job's video")
    other.write_bytes(b"another video")
    deliver(str(video), str(out / "film.mp4"), policy=policy)
    deliver(str(video), str(out / "film.mp4"), policy=policy)  # the merge, run again
    with pytest.raises(JobRefused, match="already exists and is not this job's video"):
        deliver(str(other), str(out / "film.mp4"), policy=policy)
    assert (out / "film.mp4").read_bytes() == b"this job's video"
    assert [p.name for p in out.iterdir()] == ["film.mp4"]  # no temp file left
    store = LocalStorage(str(tmp_path / "objects"))
    put_object(store, "film.mp4", str(video), "film.mp4")
    put_object(store, "film.mp4", str(video), "film.mp4")
    with pytest.raises(JobRefused, match="already exists"):
        put_object(store, "film.mp4", str(other), "film.mp4")
