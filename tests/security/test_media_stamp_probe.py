"""A job document's media_stamps cannot probe the worker's disk (security2 finding 4: each
chunk stat'ed every path the stamps named, so a job failed for a file that exists and completed
for one that does not, and a guessed [size, mtime_ns] confirmed a file's size and time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chunking.timeline.model import Timeline
from chunking.timeline.project import read_project
from tests.helpers import file_clip
from tests.media import make_video, project, video_track
from workers.job_policy import JobRefused
from workers.job_spec import JobSpec
from workers.media_stamps import check_stamps, media_stamps


def timeline_of(tmp_path: Path) -> Timeline:
    make_video(tmp_path / "a.mp4", frames=6, size=(64, 36))
    doc = project([video_track("v", [file_clip("c", tmp_path / "a.mp4", 0, 0.2)])])
    return read_project(doc, base_dir=str(tmp_path)).timeline


def test_a_stamp_for_a_file_the_timeline_does_not_read_refuses_the_job_alike(
    tmp_path: Path,
) -> None:
    timeline = timeline_of(tmp_path)
    secret = tmp_path / "outside" / "secret.key"
    secret.parent.mkdir()
    secret.write_text("x")
    messages = []
    for probe in (secret, tmp_path / "outside" / "no-such-file"):
        stamps = {**media_stamps(timeline), str(probe): [0, 0]}
        with pytest.raises(JobRefused) as refused:
            check_stamps(stamps, timeline)
        messages.append(str(refused.value).replace(probe.name, "NAME"))
    # The same words whether the file exists or not, and the job's own file untouched
    assert messages[0] == messages[1]
    assert "is not a media file of the job's timeline" in messages[0]
    check_stamps(media_stamps(timeline), timeline)


def test_a_stamp_that_is_not_size_and_time_is_refused_in_one_line() -> None:
    base = JobSpec(
        id="abc", project={}, base_dir="/", export={}, storage_url="file:///tmp/x", frames=1,
        output_ext="mp4",
    ).to_dict()  # fmt: skip
    for bad in (5, [1], [1, "2"], [True, 2], None, {"size": 1}):
        with pytest.raises(JobRefused, match="media_stamps holds '/etc/passwd' with a stamp"):
            JobSpec.from_dict({**base, "media_stamps": {"/etc/passwd": bad}})
