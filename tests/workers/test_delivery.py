"""Delivering a finished video into a user's directory (workers.delivery)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from providers.storage import StorageError, split_object_url
from workers.atomic import _HOST, PARTIAL_PREFIX
from workers.delivery import check_new_outputs, deliver, put_output
from workers.job_policy import JobRefused, WorkerPolicy


def test_a_delivery_killed_outright_leaves_no_copy_behind_the_next(tmp_path: Path) -> None:
    """A merge killed while it copied the video in (SIGKILL, the OOM killer) left a whole copy
    under a temp name; the next delivery to that name removes it, not a live one's."""
    out = tmp_path / "out"
    out.mkdir()
    policy = WorkerPolicy(storage_url=(tmp_path / "s").as_uri(), output_roots=(str(out),))
    video = tmp_path / "video.mp4"
    video.write_bytes(b"the video")
    gone = subprocess.Popen(["true"])
    gone.wait()
    running = subprocess.Popen(["sleep", "30"])
    try:
        dead = f"{PARTIAL_PREFIX}{_HOST}-{gone.pid}-{'a' * 16}-film.mp4"
        live = f"{PARTIAL_PREFIX}{_HOST}-{running.pid}-{'b' * 16}-film.mp4"
        for name in (dead, live):
            (out / name).write_bytes(b"the vid")
        deliver(str(video), str(out / "film.mp4"), policy=policy)
        assert sorted(p.name for p in out.iterdir()) == sorted(["film.mp4", live])
        assert (out / "film.mp4").read_bytes() == b"the video"
    finally:
        running.kill()
        running.wait()


def test_a_merge_run_again_finds_its_video_at_a_percent_encoded_file_url(tmp_path: Path) -> None:
    """``file:///.../my%20film.mp4`` is delivered to "my film.mp4"; a merge run again (its
    worker lost after the delivery) must recognise that file as its own video, not refuse it."""
    out = tmp_path / "out dir"
    out.mkdir()
    video = tmp_path / "video.mp4"
    video.write_bytes(b"the video")
    url = (out / "my film.mp4").as_uri()
    assert "%20" in url
    policy = WorkerPolicy(storage_url=(tmp_path / "s").as_uri(), output_roots=(str(out),))
    for attempt in range(2):
        put_output(url, str(video), str(tmp_path / f"scratch{attempt}"), policy=policy)
    assert [p.name for p in out.iterdir()] == ["my film.mp4"]
    assert (out / "my film.mp4").read_bytes() == b"the video"


def test_a_file_url_naming_a_host_is_refused() -> None:
    """``file://film.mp4`` (two slashes) names a host, not a file: refused, not written to '.'."""
    with pytest.raises(StorageError, match="names host 'film.mp4'"):
        split_object_url("file://film.mp4")


def test_a_folder_as_the_output_of_a_submit_is_named_as_such(tmp_path: Path) -> None:
    """`submit -o renders/` (an existing folder) said "already exists: remove it"."""
    folder = tmp_path / "renders"
    folder.mkdir()
    storage = f"file://{tmp_path / 'storage'}"
    with pytest.raises(JobRefused) as refused:
        check_new_outputs(str(folder), None, storage)
    assert str(refused.value) == f"output {folder} is a folder: name the video's file in it"
    check_new_outputs(str(folder / "film.mp4"), None, storage)  # a file in it is fine
