"""A media file edited while its job renders fails the job naming the file (a fault injection
replaced a clip's file mid-job: the "completed" video showed the old file, then the new)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chunking.timeline.project import read_project
from common.errors import RenderError
from tests.media import make_video, project, video_track
from workers.job_spec import JobSpec
from workers.media_stamps import check_stamps, media_stamps


def test_stamps_name_the_file_that_changed(tmp_path: Path) -> None:
    make_video(tmp_path / "a.mp4", frames=10, size=(64, 36))
    clip = {"id": "c", "start_time": 0, "end_time": 0.3, "source": {"File": "a.mp4"}}
    timeline = read_project(project([video_track("v", [clip])]), base_dir=str(tmp_path)).timeline
    stamps = media_stamps(timeline)
    assert list(stamps) == [str(tmp_path / "a.mp4")]
    check_stamps(stamps, timeline)  # unchanged: nothing to say
    make_video(tmp_path / "new.mp4", frames=12, size=(64, 36))
    os.replace(tmp_path / "new.mp4", tmp_path / "a.mp4")  # an atomic replace, as editors save
    with pytest.raises(RenderError, match=r"clip 'c': media .*a\.mp4 changed while the job"):
        check_stamps(stamps, timeline)


def test_a_copy_that_keeps_size_and_time_is_seen(tmp_path: Path) -> None:
    """`cp -p` or `rsync -t` over a file: same size, its time put back (a still swapped for one
    of another colour) passed every chunk's check."""
    (tmp_path / "a.png").write_bytes(b"red" * 100)
    clip = {"id": "c", "start_time": 0, "end_time": 0.3, "source": {"File": "a.png"}}
    doc = project([video_track("v", [clip])])
    timeline = read_project(doc, base_dir=str(tmp_path)).timeline
    stamps = media_stamps(timeline)
    times = os.stat(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes(b"grn" * 100)
    os.replace(tmp_path / "b.png", tmp_path / "a.png")
    os.utime(tmp_path / "a.png", ns=(times.st_atime_ns, times.st_mtime_ns))
    with pytest.raises(RenderError, match="changed while the job rendered"):
        check_stamps(stamps, timeline)


def test_the_job_document_carries_the_stamps() -> None:
    spec = JobSpec(
        id="abc", project={}, base_dir="/", export={}, storage_url="file:///tmp/x", frames=1,
        output_ext="mp4", media_stamps={"/m/a.mp4": [10, 20]},
    )  # fmt: skip
    assert JobSpec.from_dict(spec.to_dict()).media_stamps == {"/m/a.mp4": [10, 20]}
