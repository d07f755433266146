"""An EDL's M2 lines: speed changes."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import Timeline
from chunking.timeline.otio_read import read_timeline
from common.errors import TimelineError
from tests.media import make_video

HEAD = "TITLE: t\nFCM: NON-DROP FRAME\n\n"


def cut(tmp_path: Path, text: str, fps: Fraction | int = 24) -> Timeline:
    """Load an EDL of this text, shot.mov (10 s at fps) beside it."""
    if not (tmp_path / "shot.mov").exists():
        make_video(tmp_path / "shot.mov", frames=10 * round(fps), fps=fps, size=(32, 18))
    path = tmp_path / "cut.edl"
    path.write_text(text)
    return load(str(path))


def shots(timeline: Timeline) -> list[tuple[int, int, float, float]]:
    """The clips: (start, end, source start in seconds, speed)."""
    return [
        (c.start, c.end, round(float(c.source_start), 4), float(c.speed))
        for t in timeline.tracks
        for c in t.clips
    ]


def test_a_drop_frame_speed_change_written_with_semicolons_plays_exactly(tmp_path: Path) -> None:
    """The adapter refused ``;`` in an M2 line ("'NoneType' object has no attribute 'group'")."""
    timeline = cut(
        tmp_path,
        "TITLE: t\nFCM: DROP FRAME\n\n"
        "001  C1       V     C        00:00:01;00 00:00:03;00 01:00:00;00 01:00:01;00\n"
        "M2   C1             059.9                00:00:01;00\n"
        "* FROM CLIP NAME: shot.mov\n",
        fps=Fraction(30000, 1001),
    )
    assert timeline.fps == Fraction(30000, 1001)
    assert shots(timeline) == [(0, 30, 1.001, pytest.approx(2.0, abs=0.002))]


def test_an_m2_line_that_is_not_one_is_refused_naming_the_event(tmp_path: Path) -> None:
    with pytest.raises(TimelineError, match=r"event 001: its M2 line 'M2 AX fast' is not"):
        cut(
            tmp_path,
            HEAD + "001  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n"
            "M2 AX fast\n* FROM CLIP NAME: shot.mov\n",
        )


def test_an_adapter_slip_is_no_python_error_text() -> None:
    """Given an M2 timecode its pattern misses, the adapter calls .group on None."""
    text = (
        "001  AX       V     C        00:00:00:00 00:00:02:00 01:00:00:00 01:00:01:00\n"
        "M2   AX             048.0                00:00:00;00\n"
    )
    with pytest.raises(TimelineError) as caught:
        read_timeline("cut.edl", text=text)
    assert "NoneType" not in str(caught.value) and "reader fails" in str(caught.value)
