"""The names an EDL event's media go by in a relink (chunking.timeline.otio_edl_names): an EDL
without clip-name comments (pycmx's ISSUE_19_unusual01.edl, written by LTedlMixer) relinks each
event by its reel, a camera file's name (tests/data/nle/edl)."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from common.errors import TimelineError
from tests.media import make_video

EDLS = Path(__file__).parents[1] / "data" / "nle" / "edl"


def copied(tmp_path: Path, name: str, media: list[str]) -> Path:
    """A copy of an EDL with an empty file of each medium's name beside it."""
    shutil.copy(EDLS / name, tmp_path / name)
    for medium in media:
        (tmp_path / medium).touch()
    return tmp_path / name


def test_an_edl_without_clip_names_relinks_each_event_by_its_reel(tmp_path: Path) -> None:
    """pycmx's ISSUE_19_unusual01.edl (LTedlMixer): no clip-name comments, each reel a camera
    file's name. The clips ('0001'...) found no media: every event was refused."""
    reels = ["Z125C001_220217_ROLX", "B505C014_230224_RNBP", "B505C011_230224_RNBP"]
    path = copied(tmp_path, "ISSUE_19_unusual01_head.edl", [f"{r}.mov" for r in reels])
    timeline = load(str(path))
    used = [Path(c.source.path).stem for c in timeline.tracks[0].clips]  # type: ignore[union-attr]
    assert used == [reels[0], reels[1], reels[1], reels[1], reels[1], reels[2]]
    assert timeline.tracks[0].clips[0].end == 4 * 24 + 6  # 00:00:04:06 at 24 fps


def test_an_unrelinked_event_names_its_reel_as_a_name_to_relink_by(tmp_path: Path) -> None:
    with pytest.raises(TimelineError, match=r"'0001', any suffix, or its reel 'Z125C001_220217"):
        load(str(copied(tmp_path, "ISSUE_19_unusual01_head.edl", [])))


def test_the_media_found_by_reel_settle_the_edls_frame_rate(tmp_path: Path) -> None:
    """Its timecodes add up at 24 fps (event 0004: two frames from 20:20:01:23, three at 25),
    which fits 23.976 alike: 23.976 fps camera files named as its reels make it a 23.976 fps
    cut (it was read at 24, its media's rate unknown, each cut 0.1 % early)."""
    reels = ["Z125C001_220217_ROLX", "B505C014_230224_RNBP", "B505C011_230224_RNBP"]
    path = copied(tmp_path, "ISSUE_19_unusual01_head.edl", [])
    for reel in reels:
        make_video(tmp_path / f"{reel}.mov", frames=2, fps=Fraction(24000, 1001), size=(32, 18))
    timeline = load(str(path))
    assert timeline.fps == Fraction(24000, 1001)
    assert timeline.tracks[0].clips[0].end == 4 * 24 + 6  # 00:00:04:06, 24 frames a second
