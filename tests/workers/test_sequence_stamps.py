"""An image sequence re-exported while its job renders fails the job naming the clip (the
chunks mixed the old and the new images, exit 0), with one stamp per sequence."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from chunking.timeline.model import Timeline
from chunking.timeline.project import read_project
from common.errors import RenderError
from tests.media import project, video_track
from workers.media_stamps import check_stamps, media_stamps


def _sequence(folder: Path, count: int, colour: tuple[int, int, int]) -> None:
    for n in range(count):
        Image.new("RGB", (16, 16), colour).save(folder / f"f{n:03d}.png")


def _timeline(folder: Path, count: int) -> Timeline:
    clip = {
        "id": "plate",
        "start_time": 0,
        "end_time": 1,
        "source": {"File": "f000.png"},
        "image_sequence": {"prefix": "f", "suffix": ".png", "count": count, "padding": 3,
                           "rate": 30},
    }  # fmt: skip
    return read_project(project([video_track("v", [clip])]), base_dir=str(folder)).timeline


def test_an_image_of_a_sequence_rewritten_mid_job_is_refused(tmp_path: Path) -> None:
    _sequence(tmp_path, 30, (255, 0, 0))
    timeline = _timeline(tmp_path, 30)
    stamps = media_stamps(timeline)
    assert len(stamps) == 2  # the first image, and one for the whole sequence
    check_stamps(stamps, timeline)  # unchanged: nothing to say
    later = tmp_path / "f020.png"
    Image.new("RGB", (16, 16), (0, 0, 255)).save(later)
    os.utime(later, ns=(later.stat().st_atime_ns, later.stat().st_mtime_ns + 10**9))
    with pytest.raises(RenderError, match=r"clip 'plate': images of the image sequence .*changed"):
        check_stamps(stamps, timeline)


def test_a_long_sequence_adds_one_small_stamp(tmp_path: Path) -> None:
    _sequence(tmp_path, 1, (0, 0, 0))
    for n in range(1, 1000):
        os.link(tmp_path / "f000.png", tmp_path / f"f{n:03d}.png")
    timeline = _timeline(tmp_path, 1000)
    stamps = media_stamps(timeline)
    assert len(stamps) == 2 and sorted(len(s) for s in stamps.values()) == [2, 4]
    assert len(str(stamps)) < 400
