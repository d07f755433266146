"""EDL frame-code mode lines: drop-frame counting declared by ``FCM: DROP FRAME``."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.otio_edl_fcm import drop_frame_marked
from tests.media import make_video

EVENT = "001  AX       V     C        00:01:00:02 00:01:01:02 01:00:00:00 01:00:01:00\n"
DROPPED = "001  AX       V     C        00:01:00;02 00:01:01;02 01:00:00;00 01:00:01;00\n"


@pytest.mark.parametrize(
    ("header", "marked"),
    [
        ("FCM: DROP FRAME\n", True),
        ("fcm:drop frame\n", True),
        ("FCM: NON-DROP FRAME\n", False),
        ("", False),
    ],
)
def test_events_under_a_drop_frame_mode_are_counted_drop_frame(header: str, marked: bool) -> None:
    text = f"TITLE: t\n{header}\n{EVENT}* FROM CLIP NAME: a.mov\n"
    expected = DROPPED if marked else EVENT
    assert drop_frame_marked(text) == f"TITLE: t\n{header}\n{expected}* FROM CLIP NAME: a.mov\n"


def test_an_fcm_line_switches_the_mode_for_the_events_after_it() -> None:
    text = f"FCM: DROP FRAME\n{EVENT}FCM: NON-DROP FRAME\n{EVENT}"
    _, first, _, second = drop_frame_marked(text).splitlines()
    assert first.count(";") == 4 and ";" not in second


def test_a_drop_frame_edl_written_with_colons_plays_the_right_frames(tmp_path: Path) -> None:
    """One minute into a 29.97 drop-frame count is frame 1800, not 1802."""
    make_video(tmp_path / "a.mov", frames=1900, fps=Fraction(30000, 1001), size=(32, 18))
    path = tmp_path / "cut.edl"
    path.write_text(f"TITLE: t\nFCM: DROP FRAME\n\n{EVENT}* FROM CLIP NAME: a.mov\n")
    timeline = load(str(path))
    (clip,) = timeline.tracks[0].clips
    assert timeline.fps == pytest.approx(30000 / 1001)
    assert round(clip.source_start * 30000 / 1001) == 1800


@pytest.mark.parametrize(
    ("header", "written", "expected"),
    [
        ("FCM: DROP FRAME\n", "00:01:00.02", "00:01:00;02"),
        ("", "00:01:00.02", "00:01:00;02"),  # "." is drop-frame's separator where ";" is not
        ("", "00:01:00,02", "00:01:00;02"),
        ("FCM: NON-DROP FRAME\n", "00:01:00.02", "00:01:00:02"),
        ("", "00:01:00;02", "00:01:00;02"),
    ],
)
def test_a_drop_frame_timecode_written_with_a_dot_is_drop_frame(
    header: str, written: str, expected: str
) -> None:
    text = f"{header}001  AX  V  C  {written} {written} {written} {written}\n"
    assert drop_frame_marked(text).splitlines()[-1] == f"001  AX  V  C  {' '.join([expected] * 4)}"


def test_a_drop_frame_edl_written_with_dots_plays_at_29_97(tmp_path: Path) -> None:
    """Sony, Panasonic and Grass Valley write drop-frame timecodes with "."; it was read at 24."""
    make_video(tmp_path / "a.mov", frames=1900, fps=Fraction(30000, 1001), size=(32, 18))
    path = tmp_path / "cut.edl"
    dotted = "001  AX       V     C        00:01:00.02 00:01:01.02 01:00:00.00 01:00:01.00\n"
    path.write_text(f"TITLE: t\nFCM: DROP FRAME\n\n{dotted}* FROM CLIP NAME: a.mov\n")
    timeline = load(str(path))
    (clip,) = timeline.tracks[0].clips
    assert timeline.fps == pytest.approx(30000 / 1001)
    assert not [w for w in timeline.warnings if "fps" in w]
    assert round(clip.source_start * 30000 / 1001) == 1800 and clip.end - clip.start == 30
