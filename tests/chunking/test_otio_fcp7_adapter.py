"""FCP 7 XML (Premiere, Final Cut 7) as editors write it: nested sequences and disabled items."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import FileSource, Timeline
from common.errors import ValidationError
from tests.media import make_video

RATE = "<rate><timebase>25</timebase><ntsc>FALSE</ntsc></rate>"
FORMAT = (
    f"<format><samplecharacteristics>{RATE}<width>64</width><height>36</height>"
    "</samplecharacteristics></format>"
)


def file(name: str) -> str:
    """A <file> of 150 frames starting at timecode 10:00:00:00."""
    return (
        f'<file id="f-{name}"><name>{name}</name><pathurl>file://localhost/D:/Media/{name}'
        f"</pathurl>{RATE}<duration>150</duration><timecode>{RATE}<string>10:00:00:00</string>"
        "<frame>900000</frame></timecode></file>"
    )


def clipitem(name: str, start: int, end: int, source: int, inner: str, enabled: bool = True) -> str:
    """A clipitem over [start, end) of the sequence from ``source``, holding ``inner``."""
    flag = "TRUE" if enabled else "FALSE"
    return (
        f'<clipitem id="c-{name}-{start}"><name>{name}</name><enabled>{flag}</enabled>'
        f"<duration>150</duration>{RATE}<start>{start}</start><end>{end}</end><in>{source}</in>"
        f"<out>{source + end - start}</out>{inner}</clipitem>"
    )


def track(*items: str, enabled: bool = True) -> str:
    """A video track holding the items."""
    return f"<track>{''.join(items)}<enabled>{'TRUE' if enabled else 'FALSE'}</enabled></track>"


def sequence(name: str, *tracks: str) -> str:
    """A sequence of 50 frames with these video tracks."""
    return (
        f'<sequence id="s-{name}"><name>{name}</name><duration>50</duration>{RATE}'
        f"<media><video>{FORMAT}{''.join(tracks)}</video></media></sequence>"
    )


def export(folder: Path, *tracks: str) -> Timeline:
    """An xmeml of a sequence of these tracks, with its media beside it; loaded."""
    for name in ("A.mov", "B.mov", "C.mov"):
        if not (folder / name).exists():
            make_video(folder / name, frames=4, size=(64, 36))
    path = folder / "edit.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n<xmeml version="5">'
        f"{sequence('Main', *tracks)}</xmeml>\n"
    )
    return load(str(path))


def shown(timeline: Timeline) -> list[tuple[str, int, int, float]]:
    """Each clip that plays: its file, its frames and its source start, bottom track first."""
    return [
        (Path(c.source.path).name, c.start, c.end, round(c.source_start * 25))
        for t in timeline.tracks
        if t.enabled
        for c in t.clips
        if isinstance(c.source, FileSource)
    ]


def test_a_nested_sequence_shows_its_tracks_from_its_in_point(tmp_path: Path) -> None:
    nest = sequence(
        "Nest",
        track(clipitem("A.mov", 0, 50, 0, file("A.mov"))),
        track(clipitem("C.mov", 10, 30, 10, file("C.mov"))),
    )
    timeline = export(tmp_path, track(clipitem("Nest", 5, 30, 20, nest)))
    # The nest's frames 20-44 at 5-29: A.mov throughout, C.mov's 20-29 over it at 5-14.
    assert shown(timeline) == [("A.mov", 5, 30, 20), ("C.mov", 5, 15, 20)]


@pytest.mark.parametrize("disabled", ["clip", "track"])
def test_a_disabled_clip_or_track_is_neither_seen_nor_heard(tmp_path: Path, disabled: str) -> None:
    top = track(
        clipitem("B.mov", 10, 20, 0, file("B.mov"), enabled=disabled != "clip"),
        enabled=disabled != "track",
    )
    timeline = export(tmp_path, track(clipitem("A.mov", 0, 30, 0, file("A.mov"))), top)
    assert shown(timeline) == [("A.mov", 0, 30, 0)]


def time_remap(percent: float, reverse: bool = False, variable: bool = False) -> str:
    """Premiere's Speed/Duration as it exports it: a Time Remap filter."""

    def parameter(name: str, value: object) -> str:
        return f"<parameter><parameterid>{name}</parameterid><name>{name}</name><value>{value}</value></parameter>"  # noqa: E501

    return (
        "<filter><effect><name>Time Remap</name><effectid>timeremap</effectid>"
        "<effectcategory>motion</effectcategory><effecttype>motion</effecttype>"
        f"<mediatype>video</mediatype>{parameter('variablespeed', int(variable))}"
        f"{parameter('speed', percent)}{parameter('reverse', str(reverse).upper())}"
        "</effect></filter>"
    )


def retimed(start: int, end: int, source: int, out: int, inner: str) -> str:
    return (
        f'<clipitem id="r-{start}"><name>A.mov</name><enabled>TRUE</enabled><duration>150'
        f"</duration>{RATE}<start>{start}</start><end>{end}</end><in>{source}</in>"
        f"<out>{out}</out>{file('A.mov')}{inner}</clipitem>"
    )


def test_a_speed_change_plays_the_clip_at_its_speed(tmp_path: Path) -> None:
    """Half speed: 25 source frames fill 50; the filter's own figure agrees."""
    timeline = export(tmp_path, track(retimed(0, 50, 10, 35, time_remap(50))))
    (clip,) = timeline.tracks[0].clips
    assert (clip.start, clip.end, clip.speed, round(clip.source_start * 25)) == (0, 50, 0.5, 10)
    assert not [w for w in timeline.warnings if "Time Remap" in w]


def premiere_frame(record: int, source: int, percent: int) -> int:
    """The source frame Premiere shows at a constant speed's record frame."""
    return source + record * percent // 100


def test_a_speed_whose_out_point_is_rounded_shows_premieres_frames(tmp_path: Path) -> None:
    """Half speed over 51 frames uses 25.5 source frames; Premiere writes a whole <out>."""
    timeline = export(tmp_path, track(retimed(0, 51, 10, 35, time_remap(50))))
    (clip,) = timeline.tracks[0].clips
    shown = []
    for t in range(clip.start, clip.end):
        # the compositor's rule: the image that starts before the record frame's middle
        middle = (
            Fraction(str(clip.source_start))
            + (t + Fraction(1, 2)) * Fraction(str(clip.speed)) / timeline.fps
        )
        shown.append(math.ceil(middle * 25) - 1)
    assert shown == [premiere_frame(t, 10, 50) for t in range(51)]


def test_a_stale_percentage_gives_way_to_the_frames(tmp_path: Path) -> None:
    timeline = export(tmp_path, track(retimed(0, 50, 0, 100, time_remap(50))))
    assert timeline.tracks[0].clips[0].speed == 2.0


@pytest.mark.parametrize("out", [10, 11, 60])
def test_a_speed_of_0_percent_holds_the_in_point(tmp_path: Path, out: int) -> None:
    """Resolve's freeze frame: refused (0.02x, 'no usable speed') or played at 100 % before."""
    timeline = export(tmp_path, track(retimed(0, 50, 10, out, time_remap(0))))
    (clip,) = timeline.tracks[0].clips
    assert (clip.start, clip.end, round(clip.source_start * 25)) == (0, 50, 10)
    assert clip.source_end is not None and round(clip.source_end * 25) == 10  # held there


def test_a_keyframed_speed_plays_at_its_average_with_a_warning(tmp_path: Path) -> None:
    timeline = export(tmp_path, track(retimed(0, 25, 0, 50, time_remap(100, variable=True))))
    assert timeline.tracks[0].clips[0].speed == 2.0
    assert "clip 'A.mov': keyframed speed (Time Remap) is rendered at its average 2x" in (
        timeline.warnings
    )


def test_a_keyframed_speed_plays_at_its_curves_average_not_its_in_out_ratio(
    tmp_path: Path,
) -> None:
    """Premiere's Time Remapping as in the adapter's empty_name_tags.xml: <in>..<out> spans the
    clip's own frames (0..100 over 100) while its graphdict curve ends on media frame 130 and
    its speed says 130 %; the clip played at 1x, its last 30 media frames never shown."""
    curve = "".join(
        f"<keyframe><when>{when}</when><value>{value}</value></keyframe>"
        for when, value in ((0, 0), (1, 1), (40, 40), (80, 110), (100, 130))
    )
    graph = (
        "<parameter><parameterid>graphdict</parameterid><name>graphdict</name>"
        f"<valuemin>0</valuemin><valuemax>150</valuemax><value>0</value>{curve}</parameter>"
    )
    remap = time_remap(130, variable=True).replace("</effect>", f"{graph}</effect>")
    timeline = export(tmp_path, track(retimed(0, 100, 0, 100, remap)))
    (clip,) = timeline.tracks[0].clips
    assert (clip.start, clip.end, clip.source_start, clip.speed) == (0, 100, 0, 1.3)
    assert "clip 'A.mov': keyframed speed (Time Remap) is rendered at its average 1.3x" in (
        timeline.warnings
    )


@pytest.mark.parametrize(
    ("remap", "source", "out", "speed"),
    [
        # The reverse box ticked; or a negative speed alone, which played forwards silently.
        (time_remap(100, reverse=True), 10, 35, 1.0),
        (time_remap(-100), 10, 35, 1.0),
        (time_remap(-200), 10, 60, 2.0),
        (time_remap(-100, variable=True), 10, 35, 1.0),
        (time_remap(-100), 35, 10, 1.0),  # <in> and <out> the other way round
    ],
)
def test_a_reversed_clip_plays_its_in_to_out_span_backwards(
    tmp_path: Path, remap: str, source: int, out: int, speed: float
) -> None:
    """It was refused: the span <in>..<out> (frames 10 to 35 or 60) now plays backwards."""
    timeline = export(tmp_path, track(retimed(0, 25, source, out, remap)))
    (clip,) = timeline.tracks[0].clips
    assert clip.reverse and (clip.start, clip.end, clip.speed) == (0, 25, speed)
    assert round(clip.source_start * 25) == 10


def test_a_sequence_without_timecode_plays_at_its_own_rate_not_its_first_clips(
    tmp_path: Path,
) -> None:
    ntsc = "<rate><timebase>30</timebase><ntsc>TRUE</ntsc></rate>"
    nest = sequence("Nest", track(clipitem("A.mov", 0, 50, 0, file("A.mov"))))
    main = sequence("Main", track(clipitem("Nest", 0, 30, 0, nest))).replace(RATE, ntsc, 1)
    make_video(tmp_path / "A.mov", frames=4, size=(64, 36))
    path = tmp_path / "edit.xml"
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE xmeml>\n<xmeml version="4">{main}</xmeml>')
    timeline = load(str(path))
    # 29.97 fps, as the sequence says (its first clip, a 25 fps nest, made it 25 fps)
    assert (timeline.fps, timeline.frames) == (Fraction(30000, 1001), 30)


@pytest.mark.parametrize("c_start", [33, 32])
def test_a_clip_starting_inside_the_one_before_plays_at_its_start(
    tmp_path: Path, c_start: int
) -> None:
    """B's <start> (15) is inside A (to 20), as Premiere wrote in premiere_example.xml's audio:
    the adapter played B after A, 5 frames late, and C after it by its late cursor (33: its gap
    was counted from 35; 32: no gap at all, C 3 frames late). B now plays at 15, A cut there,
    and C where the file puts it."""
    timeline = export(
        tmp_path,
        track(
            clipitem("A.mov", 0, 20, 0, file("A.mov")),
            clipitem("B.mov", 15, 30, 0, file("B.mov")),
            clipitem("C.mov", c_start, 40, 0, file("C.mov")),
        ),
    )
    assert shown(timeline) == [("A.mov", 0, 15, 0), ("B.mov", 15, 30, 0), ("C.mov", c_start, 40, 0)]
    (said,) = [w for w in timeline.warnings if "inside clip" in w]
    assert "'B.mov': starts at frame 15, inside clip 'A.mov' (which ends at frame 20)" in said


def test_an_out_point_before_the_in_point_is_refused_naming_the_clip(tmp_path: Path) -> None:
    """It played forward from <in> for its record length, without a word."""
    with pytest.raises(ValidationError, match=r"clip 'A.mov': its <out> \(5\) is before its <in>"):
        export(tmp_path, track(retimed(0, 10, 15, 5, "")))
