"""An EDL's events: the channels they are on (AUD lines, A/V) and their order (B/C-mode)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import FileSource, Timeline, TrackKind
from chunking.timeline.otio_edl_events import tracks_of
from common.errors import TimelineError
from tests.media import make_video


def event(number: int, reel: str, channels: str, source: str, record: str, seconds: int = 1) -> str:
    """An event of a cut, ``seconds`` long, and the comment naming its media."""
    hours, rest = source.split(":", 1)
    source_out = f"{hours}:00:0{int(source[6:8]) + seconds}:00"
    record_out = f"01:00:0{int(record[6:8]) + seconds}:00"
    return (
        f"{number:03d}  {reel:<8} {channels:<5} C        {source} {source_out} {record} "
        f"{record_out}\n* FROM CLIP NAME: {reel}.mov\n"
    )


def cut(tmp_path: Path, *events: str) -> Timeline:
    """Load an EDL of these events, A001.mov and B002.mov beside it (with sound)."""
    for name in ("A001", "B002"):
        if not (tmp_path / f"{name}.mov").exists():
            make_video(tmp_path / f"{name}.mov", frames=120, fps=25, audio_hz=440, size=(32, 18))
    path = tmp_path / "cut.edl"
    path.write_text("TITLE: t\nFCM: NON-DROP FRAME\n\n" + "\n".join(events))
    return load(str(path))


def picture(timeline: Timeline) -> list[tuple[str, int, int]]:
    """The video clips: (media file name, start, end)."""
    return [
        (Path(clip.source.path).name, clip.start, clip.end)
        for track in timeline.tracks
        if track.kind == TrackKind.VIDEO
        for clip in track.clips
        if isinstance(clip.source, FileSource)
    ]


def sound(timeline: Timeline) -> dict[str, list[str]]:
    """The audio tracks that play, by name: their clips' media file names."""
    return {
        track.id: [Path(clip.source.path).name for clip in track.clips]
        for track in timeline.tracks
        if track.kind == TrackKind.AUDIO
        if track.clips and isinstance(track.clips[0].source, FileSource)
    }


@pytest.mark.parametrize(
    ("code", "aud", "tracks"),
    [
        ("V", [], ["V"]),
        ("A", [], ["A1"]),
        ("AA", [], ["A1", "A2"]),
        ("B", [], ["V", "A1"]),
        ("A/V", [], ["V", "A1"]),
        ("A2/V", [], ["V", "A2"]),
        ("AA/V", [], ["V", "A1", "A2"]),
        ("NONE", ["A3", "A4"], ["A3", "A4"]),
        ("B", ["A3"], ["V", "A1", "A3"]),
        ("NONE", [], []),
        ("A4", [], ["A4"]),
        ("V2", [], ["V2"]),
        ("BOTH", [], None),
    ],
)
def test_a_channel_code_names_its_tracks(code: str, aud: list[str], tracks: list[str]) -> None:
    assert tracks_of(code, aud) == tracks


def test_an_event_on_audio_channels_3_and_4_is_sound_under_the_picture(tmp_path: Path) -> None:
    """``NONE`` and ``AUD 3 4``: it was a video track drawn over the cut, its sound lost."""
    timeline = cut(
        tmp_path,
        event(1, "A001", "V", "01:00:00:00", "01:00:00:00"),
        event(2, "B002", "NONE", "02:00:00:00", "01:00:00:00") + "AUD  3    4\n",
    )
    assert picture(timeline) == [("A001.mov", 0, 25)]
    assert sound(timeline)["A3"] == ["B002.mov"]


def test_an_a_v_event_keeps_its_picture(tmp_path: Path) -> None:
    """``A/V`` (audio 1 and video) was an audio track only: the cut was black."""
    timeline = cut(tmp_path, event(1, "A001", "A/V", "01:00:00:00", "01:00:00:00"))
    assert picture(timeline) == [("A001.mov", 0, 25)]
    assert sound(timeline) == {"A1": ["A001.mov"]}


def test_a_channel_code_that_names_no_track_is_refused_naming_the_event(tmp_path: Path) -> None:
    with pytest.raises(TimelineError, match=r"event 002: channel 'BOTH' names no track"):
        cut(
            tmp_path,
            event(1, "A001", "V", "01:00:00:00", "01:00:00:00"),
            event(2, "B002", "BOTH", "02:00:00:00", "01:00:01:00"),
        )


def test_an_edl_sorted_by_source_plays_in_record_order(tmp_path: Path) -> None:
    """Avid's B and C modes list events by reel and source timecode, not by record time."""
    timeline = cut(
        tmp_path,
        event(1, "A001", "V", "01:00:02:00", "01:00:02:00"),
        event(2, "B002", "V", "02:00:00:00", "01:00:00:00"),
        event(3, "B002", "V", "02:00:03:00", "01:00:01:00"),
    )
    assert picture(timeline) == [("B002.mov", 0, 25), ("B002.mov", 25, 50), ("A001.mov", 50, 75)]


def test_events_that_do_overlap_are_named(tmp_path: Path) -> None:
    with pytest.raises(TimelineError, match=r"events 001 and 002 overlap on V at 01:00:01:00"):
        cut(
            tmp_path,
            event(1, "A001", "V", "01:00:00:00", "01:00:00:00", seconds=2),
            event(2, "B002", "V", "02:00:00:00", "01:00:01:00"),
        )


def _frames_tc(frame: int) -> str:
    """A 25 fps timecode."""
    return f"{frame // 90000:02d}:{frame // 1500 % 60:02d}:{frame // 25 % 60:02d}:{frame % 25:02d}"


def test_an_edl_of_a_hundred_thousand_events_is_refused_at_once(tmp_path: Path) -> None:
    """A generated EDL far longer than any cut: one line saying so within seconds, not minutes
    of the adapter reading every event."""
    lines = ["TITLE: big", "FCM: NON-DROP FRAME", ""]
    for n in range(100_000):
        a, b = _frames_tc(n), _frames_tc(n + 1)
        lines.append(f"{n + 1:06d}  AX V C {a} {b} {a} {b}")
    path = tmp_path / "big.edl"
    path.write_text("\n".join(lines) + "\n")
    began = time.monotonic()
    with pytest.raises(TimelineError, match="100000 event lines; at most 10000"):
        load(str(path))
    assert time.monotonic() - began < 5


def test_an_event_number_of_thousands_of_digits_is_one_error(tmp_path: Path) -> None:
    """Python refuses to read an integer that long (a ValueError traceback before)."""
    path = tmp_path / "cut.edl"
    path.write_text(
        "TITLE: x\n" + "9" * 5000 + "  AX V C 00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00\n"
    )
    with pytest.raises(TimelineError, match="event number 999999999999... has 5000 digits"):
        load(str(path))


@pytest.mark.parametrize(
    "text",
    ["\n\n  \n", "TITLE: empty\n", "TITLE: t\nFCM: NON-DROP FRAME\n* a comment\n"],
)
def test_an_edl_of_no_events_is_named(tmp_path: Path, text: str) -> None:
    """It said "timeline.duration: the timeline is empty" (or "Unknown event type"), naming
    neither the file nor that it holds no events."""
    path = tmp_path / "cut.edl"
    path.write_text(text)
    with pytest.raises(TimelineError, match=rf"^{path}: holds no events"):
        load(str(path))


def test_an_edl_of_no_bytes_is_named_empty(tmp_path: Path) -> None:
    path = tmp_path / "cut.edl"
    path.touch()
    with pytest.raises(TimelineError, match=rf"^{path}: is empty \(0 bytes\)"):
        load(str(path))


def test_an_edl_whose_every_event_is_on_no_channel_names_them(tmp_path: Path) -> None:
    """It said "timeline.duration: the timeline is empty", naming no event and no file."""
    path = tmp_path / "cut.edl"
    events = [event(n, "A001", "NONE", "02:00:00:00", f"01:00:0{n}:00") for n in range(1, 8)]
    path.write_text("TITLE: t\nFCM: NON-DROP FRAME\n\n" + "\n".join(events))
    with pytest.raises(TimelineError) as refused:
        load(str(path))
    said = str(refused.value)
    assert said.startswith(f"{path}: every event is on no channel (event 001, 002, 003, 004, 005")
    assert "and 2 more" in said and "NONE" in said


@pytest.mark.parametrize("sound_first", [False, True])
def test_a_first_event_on_no_channel_keeps_the_others_at_their_record_times(
    tmp_path: Path, sound_first: bool
) -> None:
    """The program starts at the first event's record in though that event is left out: the
    next one, recorded a second later, started the output instead (every cut 25 frames early,
    out of sync with a sound track that starts at 01:00:00:00)."""
    events = [
        event(1, "B002", "NONE", "02:00:00:00", "01:00:00:00"),
        event(2, "A001", "V", "01:00:01:00", "01:00:01:00"),
        event(3, "B002", "V", "02:00:02:00", "01:00:02:00"),
    ]
    if sound_first:
        events.append(event(4, "B002", "A", "02:00:00:00", "01:00:00:00", seconds=3))
    timeline = cut(tmp_path, *events)
    assert picture(timeline) == [("A001.mov", 25, 50), ("B002.mov", 50, 75)]
    assert timeline.frames == 75
    assert any("event 1: is on no channel" in w for w in timeline.warnings)


def test_an_event_on_no_channel_after_the_first_moves_nothing(tmp_path: Path) -> None:
    timeline = cut(
        tmp_path,
        event(1, "A001", "V", "01:00:00:00", "01:00:00:00"),
        event(2, "B002", "NONE", "02:00:00:00", "01:00:01:00"),
        event(3, "B002", "V", "02:00:02:00", "01:00:02:00"),
    )
    assert picture(timeline) == [("A001.mov", 0, 25), ("B002.mov", 50, 75)]
