"""32-bit greyscale stills: float ones show their 0-1 levels, integer ones are refused by
validate and render alike (both rendered solid black, without a word)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chunking.timeline.project import read_project
from common.errors import DecodeError
from tests.media import project, video_track
from workers.probe import media_report
from workers.sources import StillSource


def test_a_float_greyscale_still_shows_its_levels(tmp_path: Path) -> None:
    levels = np.array([[0.0, 0.25, 0.5, 1.0, 1.5, -0.5]], np.float32).repeat(2, axis=0)
    path = tmp_path / "depth.tif"
    Image.fromarray(levels, mode="F").save(path)
    picture = StillSource(str(path), "matte").picture
    assert picture.rgb[0, :, 0].tolist() == [0, 64, 128, 255, 255, 0]
    assert (picture.rgb[:, :, 0] == picture.rgb[:, :, 1]).all()


def test_a_32_bit_integer_greyscale_still_is_refused_naming_clip_and_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "scan.tif"
    Image.new("RGB", (8, 8), (200, 50, 50)).convert("I").save(path)
    with pytest.raises(DecodeError, match=r"^clip 'scan': 32-bit integer greyscale .*scan\.tif"):
        StillSource(str(path), "scan")
    clip = {"id": "scan", "start_time": 0, "end_time": 1, "source": {"File": "scan.tif"}}
    timeline = read_project(project([video_track("v", [clip])]), base_dir=str(tmp_path)).timeline
    problems, _ = media_report(timeline, str(tmp_path))
    assert len(problems) == 1 and problems[0].startswith("clip 'scan': 32-bit integer greyscale")


def test_16_bit_tiffs_are_still_read_as_16_bit(tmp_path: Path) -> None:
    path = tmp_path / "grey16.tif"
    Image.fromarray(np.full((2, 2), 65535, np.uint16)).save(path)
    assert StillSource(str(path), "scan").picture.rgb.min() == 255
