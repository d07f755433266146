"""An EDL's M2 lines: speed changes, freeze frames and reverses (Avid's, Resolve's)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from chunking.timeline.fields import Problems
from chunking.timeline.loader import load
from chunking.timeline.model import Timeline
from chunking.timeline.otio_nle import read_export
from chunking.timeline.otio_read import plain, read_timeline
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


def test_resolve_speed_changes_are_played_at_their_speed(tmp_path: Path) -> None:
    """Resolve writes a retimed event's source as long as its record, its speed in M2 only."""
    timeline = cut(
        tmp_path,
        HEAD + "001  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n"
        "M2   AX             048.0                00:00:00:00\n"
        "* FROM CLIP NAME: shot.mov\n\n"
        "002  AX       V     C        00:00:05:00 00:00:06:00 01:00:01:00 01:00:02:00\n"
        "M2   AX             012.0                00:00:05:00\n"
        "* FROM CLIP NAME: shot.mov\n",
    )
    assert shots(timeline) == [(0, 24, 0.0, 2.0), (24, 48, 5.0, 0.5)]


def test_a_resolve_freeze_frame_holds_its_frame(tmp_path: Path) -> None:
    timeline = cut(
        tmp_path,
        HEAD + "001  AX       V     C        00:00:02:00 00:00:03:00 01:00:00:00 01:00:01:00\n"
        "M2   AX             000.0                00:00:02:12\n"
        "* FROM CLIP NAME: shot.mov\n",
    )
    (clip,) = timeline.tracks[0].clips
    assert clip.source_start == Fraction(5, 2)
    assert clip.source_end is not None and clip.source_end - clip.source_start < Fraction(1, 12)


def test_an_avid_freeze_frame_holds_its_frame(tmp_path: Path) -> None:
    """Avid writes a freeze frame's source as one frame, its record as long as it holds: it
    was played at 1/24x (the one frame over 24 was within the M2 field's rounding) and
    refused as too slow."""
    timeline = cut(
        tmp_path,
        HEAD + "001  AX       V     C        00:00:02:12 00:00:02:13 01:00:00:00 01:00:01:00\n"
        "M2   AX             000.0                00:00:02:12\n"
        "* FROM CLIP NAME: shot.mov\n",
    )
    (clip,) = timeline.tracks[0].clips
    assert (clip.start, clip.end, clip.source_start) == (0, 24, Fraction(5, 2))
    assert clip.source_end is not None and clip.source_end - clip.source_start < Fraction(1, 24)


def test_a_resolve_reverse_plays_from_its_m2_frame_back(tmp_path: Path) -> None:
    """It was refused. The M2's frame (5:23) is the first shown, then back to 5:00: the span
    [5 s, 6 s) of the source reversed."""
    timeline = cut(
        tmp_path,
        HEAD + "001  AX       V     C        00:00:05:00 00:00:06:00 01:00:00:00 01:00:01:00\n"
        "M2   AX             -024.0                00:00:05:23\n"
        "* FROM CLIP NAME: shot.mov\n",
    )
    (clip,) = timeline.tracks[0].clips
    assert clip.reverse and (clip.start, clip.end, clip.speed) == (0, 24, 1.0)
    assert clip.source_start == pytest.approx(5.0)


def test_a_drop_frame_speed_change_written_with_semicolons_plays_exactly(tmp_path: Path) -> None:
    """The adapter refused ``;`` in an M2 line ("'NoneType' object has no attribute 'group'"),
    and took the speed from its field, rounded to 0.1 fps (059.9: 1.9987 times)."""
    timeline = cut(
        tmp_path,
        "TITLE: t\nFCM: DROP FRAME\n\n"
        "001  C1       V     C        00:00:01;00 00:00:03;00 01:00:00;00 01:00:01;00\n"
        "M2   C1             059.9                00:00:01;00\n"
        "* FROM CLIP NAME: shot.mov\n",
        fps=Fraction(30000, 1001),
    )
    assert timeline.fps == Fraction(30000, 1001)
    assert shots(timeline) == [(0, 30, 1.001, 2.0)]


def test_an_m2_line_that_is_not_one_is_refused_naming_the_event(tmp_path: Path) -> None:
    with pytest.raises(TimelineError, match=r"event 001: its M2 line 'M2 AX fast' is not"):
        cut(
            tmp_path,
            HEAD + "001  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n"
            "M2 AX fast\n* FROM CLIP NAME: shot.mov\n",
        )


EVENT = "001  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n"


@pytest.mark.timeout(30)
def test_an_m2_line_of_thousands_of_blanks_is_refused_at_once(tmp_path: Path) -> None:
    """Its pattern could split a run of blanks anywhere three ways: "M2" and 2,500 blanks took
    two minutes to refuse, 10,000 hours; the message showed the whole line."""
    with pytest.raises(TimelineError, match=r"event 001: its M2 line 'M2 {5}") as refused:
        cut(tmp_path, HEAD + EVENT + "M2" + " " * 20_000 + "x\n* FROM CLIP NAME: shot.mov\n")
    assert len(str(refused.value)) < 300


@pytest.mark.timeout(30)
def test_an_edl_of_many_blank_lines_is_read_at_once(tmp_path: Path) -> None:
    """Counting event numbers crossed line ends: 20,000 blank lines took 11 s, 40,000 some 45 s."""
    timeline = cut(tmp_path, HEAD + EVENT + "* FROM CLIP NAME: shot.mov\n" + " \n" * 40_000 + "x")
    assert timeline.frames == 24


def test_an_adapter_slip_is_no_python_error_text() -> None:
    """Given an M2 timecode its pattern misses, the adapter calls .group on None."""
    text = (
        "001  AX       V     C        00:00:00:00 00:00:02:00 01:00:00:00 01:00:01:00\n"
        "M2   AX             048.0                00:00:00;00\n"
    )
    with pytest.raises(TimelineError) as caught:
        read_timeline("cut.edl", text=text)
    assert "NoneType" not in str(caught.value) and "reader fails" in str(caught.value)


def test_the_mark_that_finds_an_events_clip_is_taken_out_again(tmp_path: Path) -> None:
    make_video(tmp_path / "shot.mov", frames=240, fps=24, size=(32, 18))
    path = tmp_path / "cut.edl"
    path.write_text(
        HEAD + "001  AX       V     C        00:00:00:00 00:00:01:00 01:00:00:00 01:00:01:00\n"
        "M2   AX             048.0                00:00:00:00\n* FROM CLIP NAME: shot.mov\n"
        "* a note\n"
    )
    (clip,) = read_export(str(path), Problems()).find_clips()
    assert plain(clip.metadata) == {"cmx_3600": {"comments": ["a note"]}}


def test_a_premiere_reverse_plays_its_source_span_backwards(tmp_path: Path) -> None:
    """Premiere names the event's source in as the M2's frame (python-edl's test_25.edl,
    event 010: 00:00:00:00 to 00:00:30:01 at -25.0): read as the first frame shown, the whole
    event lay before the media and held its first frame ("starts 750 frames before its
    media"). It plays [5 s, 6 s) backwards, from its last frame."""
    timeline = cut(
        tmp_path,
        HEAD + "001  AX       V     C        00:00:05:00 00:00:06:00 01:00:00:00 01:00:01:00\n"
        "* FROM CLIP NAME: shot.mov\n"
        "M2   AX       -24.0                      00:00:05:00 \n",
    )
    (clip,) = timeline.tracks[0].clips
    assert clip.reverse and (clip.start, clip.end, clip.speed) == (0, 24, 1.0)
    assert clip.source_start == pytest.approx(5.0)
    assert not [w for w in timeline.warnings if "before its media" in w]
