"""Real EDLs whose events' source and record lengths differ with no M2 line
(chunking.timeline.otio_edl_lengths): Premiere's audio fade into black loads; Avid's events of
media without timecode, and retimed events whose speed the export left out, are refused naming
the events (tests/data/nle/edl: pycmx's test EDLs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import GeneratedSource, TrackKind
from chunking.timeline.otio_edl_lengths import black_sources, mismatched
from common.errors import TimelineError

EDLS = Path(__file__).parents[1] / "data" / "nle" / "edl"


def copied(tmp_path: Path, name: str, media: list[str] = []) -> Path:  # noqa: B006
    """A copy of an EDL with an empty file of each medium's name beside it (the loader checks
    that media exist; it does not decode them)."""
    shutil.copy(EDLS / name, tmp_path / name)
    for medium in media:
        (tmp_path / medium).touch()
    return tmp_path / name


def test_premieres_audio_fade_into_black_loads_as_silence_for_its_record_span(
    tmp_path: Path,
) -> None:
    """Event 007 fades 'Test rename' out over 25 frames into BL, whose source (00:00:00:00 to
    00:00:10:20, 270 frames) Premiere wrote 25 frames shorter than its record (00:01:59:01 to
    00:02:10:21, 295): the adapter refused the whole file."""
    media = ["Jellyfish.jpg", "N5_final screensaver_mp4.mov", "Test rename.mov", "Black Video.mov"]
    timeline = load(str(copied(tmp_path, "test_25.edl", media)))
    assert timeline.fps == 25
    black = [
        c
        for t in timeline.tracks
        if t.kind is TrackKind.AUDIO
        for c in t.clips
        if isinstance(c.source, GeneratedSource)
    ]
    assert black and {c.end for c in black} == {(2 * 60 + 10) * 25 + 21}  # 00:02:10:21


def test_black_takes_its_record_times_as_its_source() -> None:
    line = "007  BL       AA    W001 025 00:00:00:00 00:00:10:20 00:01:59:01 00:02:10:21\n"
    assert black_sources(line) == (
        "007  BL       AA    W001 025 00:01:59:01 00:02:10:21 00:01:59:01 00:02:10:21\n"
    )
    other = "001  AX       V     C        01:00:00:00 01:00:01:00 00:00:00:00 00:00:02:00\n"
    assert black_sources(other) == other  # left to the adapter (or an M2 line)


def test_avid_events_of_media_without_timecode_are_refused_naming_them(tmp_path: Path) -> None:
    with pytest.raises(TimelineError) as caught:
        load(str(copied(tmp_path, "INS4_R1_DX_092117_head.edl")))
    message = str(caught.value)
    assert "event 001 (FKI_LEADER_HEAD_1920X1080.MOV), 002" in message
    assert "00:00:00:00 to 00:00:00:00" in message and "AAF" in message


def test_a_retimed_event_without_its_m2_line_is_named_with_both_lengths(tmp_path: Path) -> None:
    """Event 061, a 48 fps shot, runs 25 source frames over 13 record frames: the adapter's
    error gave RationalTime reprs and no event number."""
    with pytest.raises(TimelineError) as caught:
        load(str(copied(tmp_path, "ToD_R4_LOCK3.1_030618_Video_061.edl")))
    message = str(caught.value)
    assert "event 061 (R102-6* 48FPS) plays 25 source frames" in message
    assert "over 13 record frames with no M2 line" in message
    assert "event 059" not in message and "event 062" not in message


def test_mismatched_leaves_out_events_whose_m2_line_gives_their_speed() -> None:
    text = (
        "001  AX       V     C        01:00:00:00 01:00:02:00 00:00:00:00 00:00:01:00\n"
        "M2   AX       048.0                      01:00:00:00\n"
        "002  AX       V     C        01:00:00:00 01:00:02:00 00:00:01:00 00:00:02:00\n"
    )
    (found,) = mismatched(text, 24)
    assert found.startswith("event 002 (AX) plays 48 source frames")
