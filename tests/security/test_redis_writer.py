"""Issue 13, finding 1, as an attacker runs it: raw Redis writes (a job hash and a JSON
``plan_job`` message) to a live cluster whose workers are configured like ``cloudrender
render``'s private cluster: their own storage, media roots and output roots.

Each hostile job fails with one line naming what it asked for; nothing outside the roots is
read (the secret's access time stays put on this relatime disk), no file is written or replaced,
and a legitimate job beside them completes with frames identical to a direct render.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.project import read_project
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import JobRecord, JobState
from tests.media import decode_rgb, make_video, project, video_track
from tests.security.redis_writer import inject, job_document
from workers.job_policy import WorkerPolicy, policy_env
from workers.render import render_to_file

pytestmark = pytest.mark.timeout(240)


@dataclass(frozen=True)
class Site:
    """A cluster confined to ``store``, media under ``media`` and deliveries into ``out``."""

    broker: str
    store: Path
    media: Path
    out: Path
    outside: Path  # neither a media root nor an output root: the attacker's targets

    @property
    def storage_url(self) -> str:
        return self.store.as_uri()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("site")
    media, out, outside, store = (root / n for n in ("media", "out", "outside", "store"))
    for d in (media, out, outside, store):
        d.mkdir()
    make_video(media / "clip.mp4", frames=12, size=(64, 36))
    # A video outside the roots: if a worker opened it, the job would render fine.
    make_video(outside / "secret.mp4", frames=12, size=(64, 36))
    env = policy_env(storage_url=store.as_uri(), media_roots=[str(media)], output_roots=[str(out)])
    env["CLOUDRENDER_CACHE_DIR"] = str(root / "cache")
    with EmbeddedCluster(workers=1, env=env) as cluster:
        yield Site(cluster.broker_url, store, media, out, outside)


def clip_project(source: str) -> dict[str, Any]:
    """0.4 s of one video clip at 64x36, lossless, so frames compare exactly."""
    clip = {"id": "c", "start_time": 0, "end_time": 0.4, "source": {"File": source}}
    return project(
        [video_track("v", [clip])],
        size=(64, 36),
        settings={"export": {"container": "mkv", "lossless": True}},
    )


def attack(site: Site, source: str = "clip.mp4", **fields: Any) -> JobRecord:
    """Inject a job (a legitimate one, with its clip's media ``source`` and ``fields``
    replaced) and wait for its end."""
    document = job_document(clip_project("clip.mp4"), site.media, site.storage_url, **fields)
    document["project"]["tracks"][0]["clips"][0]["source"] = {"File": source}
    job = inject(site.broker, document)
    return CloudRenderingAPI(site.broker, storage_url=site.storage_url).wait(job, timeout=120)


def refused(record: JobRecord, *words: str) -> None:
    """The job failed, with one line holding ``words``."""
    assert record.state is JobState.FAILED, record
    error = record.error or ""
    assert "\n" not in error and "Traceback" not in error, error
    for word in words:
        assert word in error, error


def test_media_outside_the_roots_is_never_opened(site: Site) -> None:
    secret = site.outside / "secret.mp4"
    link = site.media / "innocent.mp4"
    if not link.exists():
        link.symlink_to(secret)
    # relatime: an access time older than the mtime moves on the next read.
    os.utime(secret, (1_000_000, secret.stat().st_mtime))
    attacks = [
        (str(secret), {}),
        (str(secret).lstrip("/"), {"base_dir": "/"}),
        ("../outside/secret.mp4", {}),
        ("innocent.mp4", {}),  # a symlink inside the media root, leading out
        ("/etc/hostname", {}),
        ("/etc/no-such-file", {}),  # the same message: no existence oracle
    ]
    for source, fields in attacks:
        record = attack(site, source, **fields)
        refused(record, f"media {source!r} of clip 'c' is outside this worker's media roots")
        assert not (site.store / "jobs" / record.id).exists()
    assert secret.stat().st_atime == 1_000_000, "the secret was read"


def test_a_foreign_storage_is_refused_and_left_empty(site: Site, tmp_path: Path) -> None:
    foreign = tmp_path / "attacker-store"
    foreign.mkdir()
    record = attack(site, storage_url=foreign.as_uri())
    refused(record, f"names storage {foreign.as_uri()}", "not this worker's storage")
    assert list(foreign.iterdir()) == []


def test_delivery_outside_the_output_roots_writes_nothing(site: Site) -> None:
    target = site.outside / "planted.mkv"
    for fields in ({"destination": str(target)}, {"output_url": target.as_uri()}):
        record = attack(site, **fields)
        refused(record, "outside this worker's output roots")
        # Refused before any chunk rendered, not after the whole render at the merge.
        assert record.frames_done == 0, record
    refused(attack(site, destination="/etc/cron.d/planted"), "outside this worker's output")
    # Through a directory symlink inside the output root: the real directory is what counts.
    door = site.out / "door"
    if not door.exists():
        door.symlink_to(site.outside)
    refused(attack(site, destination=str(door / "planted.mkv")), "outside this worker's output")
    assert not target.exists()


def undelivered(record: JobRecord, *words: str) -> None:
    """The job rendered but did not deliver, saying why in one line (its video kept)."""
    assert record.state is JobState.COMPLETED, record
    error = (record.result or {}).get("delivery_error", "")
    assert error and "\n" not in error and "Traceback" not in error, record
    for word in words:
        assert word in error, error


def test_no_existing_file_is_replaced(site: Site) -> None:
    # A shell rc file stand-in inside the output root, and one reached through a symlink.
    rc = site.out / "victim.rc"
    rc.write_text("export PATH=/usr/bin\n")
    victim = site.outside / "victim.rc"
    victim.write_text("export PATH=/usr/bin\n")
    link = site.out / "link.mkv"
    if not link.exists():
        link.symlink_to(victim)
    for fields in (
        {"destination": str(rc)},
        {"output_url": rc.as_uri()},
        {"destination": str(link)},
        {"output_url": link.as_uri()},
    ):
        undelivered(attack(site, **fields), "already exists and is not this job's video")
    assert rc.read_text() == victim.read_text() == "export PATH=/usr/bin\n"
    assert sorted(p.name for p in site.out.iterdir() if p.name.startswith(".")) == []


def test_a_malformed_document_fails_in_one_line(site: Site) -> None:
    job = inject(site.broker, {"id": "x1", "project": "not a project", "frames": "many"}, "x1")
    record = CloudRenderingAPI(site.broker, storage_url=site.storage_url).wait(job, 60)
    refused(record, "job document")


def test_a_legitimate_job_beside_the_attacks_completes_bit_identical(
    site: Site, tmp_path: Path
) -> None:
    api = CloudRenderingAPI(site.broker, storage_url=site.storage_url)
    document = job_document(clip_project("clip.mp4"), site.media, site.storage_url)
    document["base_dir"] = "/"
    hostile = inject(site.broker, document)
    doc = clip_project("clip.mp4")
    out = site.out / "legit.mkv"
    job = api.submit_job(doc, output=str(out), base_dir=str(site.media))
    refused(api.wait(hostile, timeout=120), "outside this worker's media roots")
    record = api.wait(job, timeout=120)
    assert record.state is JobState.COMPLETED, record.error
    direct = tmp_path / "direct.mkv"
    render_to_file(read_project(doc, base_dir=str(site.media)).timeline, str(direct))
    ours, reference = decode_rgb(out), decode_rgb(direct)
    assert len(ours) == len(reference) == 12
    assert all(np.array_equal(a, b) for a, b in zip(ours, reference, strict=True))


def test_policy_of_a_worker_without_configuration_trusts_the_job() -> None:
    # The documented fallback for hand-started and test workers: nothing configured, nothing
    # confined (render's private cluster is always configured, see cli.render_command).
    assert not WorkerPolicy().confined
    assert WorkerPolicy(storage_url="file:///srv/cr").confined


def test_the_private_cluster_of_render_is_confined(tmp_path: Path) -> None:
    # `cloudrender render` without --broker: its workers get their storage and the project's
    # media directories from the client, so a local user reaching its Redis is refused too.
    from cli.render_command import _cluster

    make_video(tmp_path / "clip.mp4", frames=12, size=(64, 36))
    with _cluster(None, 1, [str(tmp_path)]) as (broker, storage_url, _url_file, lost):
        site = Site(broker, Path(storage_url.removeprefix("file://")), tmp_path, tmp_path, tmp_path)
        refused(attack(site, "/etc/hostname"), "outside this worker's media roots")
        refused(attack(site, storage_url=(tmp_path / "x").as_uri()), "not this worker's storage")
        refused(attack(site, destination=str(tmp_path / "new.mkv")), "outside this worker's output")
        assert attack(site).state is JobState.COMPLETED
        assert lost() is None  # its workers and Redis ran throughout
