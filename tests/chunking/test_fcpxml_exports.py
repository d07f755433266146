"""Real Final Cut Pro exports (tests/data/nle/fcp: DAWFileKit's test files, FCPXML 1.9 to 1.11)
load at their project's frame rate and length, with every clip inside the program: what the
adapter's reader got wrong on them (rates, nesting, retimes, auditions, generators)."""

from __future__ import annotations

import re
import shutil
import time
from fractions import Fraction
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import TrackKind
from chunking.timeline.otio_fcpxml_retime import conformed_rate
from chunking.timeline.otio_fcpxml_time import fcpxml_time

EXPORTS = Path(__file__).parents[1] / "data" / "nle" / "fcp"
NTSC_24, NTSC_30, NTSC_60 = Fraction(24000, 1001), Fraction(30000, 1001), Fraction(60000, 1001)


def sequence_of(path: Path) -> tuple[Fraction, Fraction]:
    """The project sequence's frame rate and length in seconds, read from the file itself."""
    root = ElementTree.parse(path).getroot()
    (sequence,) = root.findall(".//project/sequence")
    formats = {f.get("id"): f for f in root.iter("format")}
    frame = fcpxml_time(formats[sequence.get("format")].get("frameDuration"))
    length = fcpxml_time(sequence.get("duration"))
    assert frame and length
    return 1 / frame, length


def with_media(tmp_path: Path, name: str) -> Path:
    """A copy of an export with an empty file of each medium's name beside it (the loader
    checks that media exist; it does not decode them)."""
    export = tmp_path / name
    shutil.copy(EXPORTS / name, export)
    for src in re.findall(r'src="([^"]+)"', export.read_text()):
        (tmp_path / re.split(r"[\\\\/]", src.replace("%20", " "))[-1]).touch()
    return export


@pytest.mark.parametrize("name", sorted(p.name for p in EXPORTS.glob("*.fcpxml")))
def test_a_final_cut_export_keeps_its_rate_length_and_clips(tmp_path: Path, name: str) -> None:
    rate, length = sequence_of(EXPORTS / name)
    timeline = load(str(with_media(tmp_path, name)))
    assert timeline.fps == rate
    assert abs(timeline.frames - length * rate) <= 1
    late = [(c.id, c.end) for t in timeline.tracks for c in t.clips if c.end > timeline.frames]
    assert late == [], f"clips past the program's end ({timeline.frames} frames)"


def test_25_fps_media_in_a_24_fps_project_play_frame_for_frame(tmp_path: Path) -> None:
    """Final Cut conforms 25 fps media to a 24 fps project (each media frame one program frame,
    96 % speed): TestVideo2's 3551 frames fill its 3551 program frames and TestVideo ends on
    its media's last frame. They played at full speed, running past their media's end (the
    last 6 s one held frame), and a conformed clip's in point (684/25 s, in media time) would
    have moved with the speed."""
    timeline = load(str(with_media(tmp_path, "24With25Media.fcpxml")))
    pictures = {c.id.split()[-1]: c for t in timeline.tracks if t.kind is TrackKind.VIDEO
                for c in t.clips}  # fmt: skip
    for name, first, frames in [("TestVideo", 684, 54), ("TestVideo2", 0, 3551)]:
        clip = pictures[name]
        assert clip.end - clip.start == frames
        speed, start = Fraction(str(clip.speed)), Fraction(str(clip.source_start))
        # The media frame (25 fps) each program frame (24 fps) shows, as the compositor finds it.
        shown = [(start + k * speed / timeline.fps) * 25 for k in range(frames)]
        assert shown == list(range(first, first + frames))


@pytest.mark.parametrize(
    ("media", "project", "played"),
    [
        # Final Cut's rate conforming chart: the rate media of one rate play at in another.
        (NTSC_24, 24, 24), (NTSC_24, 25, 25), (NTSC_24, 50, 25), (24, NTSC_24, NTSC_24),
        (24, 25, 25), (24, 50, 25), (25, NTSC_24, NTSC_24), (25, 24, 24), (NTSC_30, 30, 30),
        (30, NTSC_30, NTSC_30), (30, NTSC_60, NTSC_30), (50, NTSC_24, 2 * NTSC_24),
        (50, 24, 48), (NTSC_60, 60, 60), (60, NTSC_30, NTSC_60), (60, NTSC_60, NTSC_60),
        # Others keep their speed, frames dropped or repeated.
        (NTSC_24, 30, None), (30, 25, None), (25, 30, None), (NTSC_30, 25, None),
        (30, 60, None), (60, 30, None), (25, 25, None), (25, 50, None),
    ],
)  # fmt: skip
def test_the_rates_final_cut_conforms(media: Fraction, project: Fraction, played: Any) -> None:
    assert conformed_rate(Fraction(media), Fraction(project)) == played


def test_a_conformed_clip_at_timecode_shows_the_source_frame_final_cut_shows(
    tmp_path: Path,
) -> None:
    """The case FCP Cafe's "source timecode" article measured in Final Cut: 25 fps media
    stamped 01:02:03:04 in a 24 fps project starting at 01:02:03:04. At program 01:02:08:07
    (123 frames in) Final Cut's source timecode shows media frame 93202, 123 frames into the
    file: frame for frame."""
    (tmp_path / "clip.mov").touch()
    export = tmp_path / "cut.fcpxml"
    export.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n<fcpxml version="1.11">'
        '<resources><format id="r1" frameDuration="100/2400s" width="1920" height="1080"/>'
        '<format id="r3" frameDuration="100/2500s" width="1920" height="1080"/>'
        '<asset id="r2" name="clip" start="9307900/2500s" duration="60s" hasVideo="1"'
        ' format="r3"><media-rep kind="original-media" src="clip.mov"/></asset></resources>'
        '<library><event name="e"><project name="p"><sequence format="r1"'
        ' duration="12000/1920s" tcStart="7148480/1920s"><spine><asset-clip ref="r2"'
        ' offset="7148480/1920s" name="clip" start="93079/25s" duration="12000/1920s"'
        ' format="r3"><conform-rate srcFrameRate="25"/></asset-clip></spine></sequence>'
        "</project></event></library></fcpxml>"
    )
    timeline = load(str(export))
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    frame = 123  # program 01:02:08:07
    media = Fraction(str(clip.source_start)) + (frame - clip.start) * Fraction(str(clip.speed)) / 24
    assert media * 25 == 93202 - 93079


def test_music_connected_to_a_title_plays_under_the_whole_project(tmp_path: Path) -> None:
    """Occlusion3 (Final Cut 10.7): the music 'Intro' is connected to the Basic Title that
    opens the primary storyline, its 337.44 s from the title's start (program 0, 01:00:00:00
    of its media). A sound connected to a title made the adapter fail on the whole file ("its
    reader fails on a line it does not expect there")."""
    timeline = load(str(with_media(tmp_path, "Occlusion3.fcpxml")))
    sounds = [c for t in timeline.tracks if t.kind is TrackKind.AUDIO for c in t.clips]
    (intro,) = [c for c in sounds if c.id.endswith("Intro")]
    assert (intro.start, intro.end) == (0, 8436)  # 80985600/240000 s at 25 fps
    assert intro.source_start == 0  # its asset starts at 3600 s, as the clip's start
    # The disabled 'TempMusic' on the title stays out.
    assert not [c for c in sounds if "TempMusic" in c.id]


def test_a_library_export_with_a_still_among_its_browser_clips_loads_its_project(
    tmp_path: Path,
) -> None:
    """ImageSample's project beside a browser clip of its still, as Final Cut writes one in an
    event (EventsWithKeywords): ``<video ref=... duration="0s"/>``. That unread clip's 0 s
    picture refused the whole file ("duration '0s' is not a positive time")."""
    timeline = load(str(with_media(tmp_path, "ImageSampleWithBrowserStill.fcpxml")))
    (still,) = [c for t in timeline.tracks for c in t.clips]
    assert (still.start, still.end) == (0, timeline.frames) and timeline.frames == 1097


def test_a_library_whose_project_is_in_its_second_event_loads_that_project(
    tmp_path: Path,
) -> None:
    """KeywordsWithinFolders (a Final Cut library) cut to an event without a project and the
    'Media' event holding a browser clip and project W8VFN3~0: the adapter read a library's
    first event only, so the file held "no timeline"."""
    timeline = load(str(with_media(tmp_path, "KeywordsWithinFolders_SecondEvent.fcpxml")))
    pictures = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    # The eight asset-clips' offsets, in frames of 23.976 fps (n/24000 s = n/1001 frames).
    starts = [0, 554554, 829829, 1278277, 1464463, 2325323, 2785783, 3333330]
    assert sorted(c.start for c in pictures) == [n // 1001 for n in starts]


def test_a_whole_multicam_clip_shows_its_late_angle_after_a_gap_and_plays_its_recorder(
    tmp_path: Path,
) -> None:
    """MulticamSample (OpenFCPXMLKit): the multicam 'Chocolate Interview' dropped whole into
    its project, its video angle (camera A) starting 260260/24000 s (260 frames) after the
    sound recorder's angle. Nothing of it was drawn or heard: a silent black program."""
    timeline = load(str(with_media(tmp_path, "MulticamSample.fcpxml")))
    (picture,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    (sound,) = [c for t in timeline.tracks if t.kind is TrackKind.AUDIO for c in t.clips]
    assert Path(picture.source.path).name == "Day2_InterviewOwners_02_A.mov"  # type: ignore[union-attr]
    # Camera A's 12532520/48000 s from frame 260; black before and after it.
    assert (picture.start, picture.end, picture.source_start) == (260, 6520, 0)
    assert Path(sound.source.path).name == "4CH001I.wav"  # type: ignore[union-attr]
    assert (sound.start, sound.end, sound.source_start) == (0, 6630, 0)
    assert not [w for w in timeline.warnings if "multicam" in w]


def test_a_conform_rate_written_as_a_huge_number_is_no_conform_and_costs_no_time(
    tmp_path: Path,
) -> None:
    """``srcFrameRate="1e9999999"`` made Fraction build a ten-million-digit integer (35 s of
    CPU); a rate that is no plain decimal or ratio is no conform: the clip plays at its speed."""
    (tmp_path / "clip.mov").touch()
    export = tmp_path / "cut.fcpxml"
    export.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE fcpxml>\n<fcpxml version="1.11">'
        '<resources><format id="r1" frameDuration="100/2400s" width="1920" height="1080"/>'
        '<asset id="r2" name="clip" start="0s" duration="60s" hasVideo="1"'
        ' format="r1"><media-rep kind="original-media" src="clip.mov"/></asset></resources>'
        '<library><event name="e"><project name="p"><sequence format="r1"'
        ' duration="10s" tcStart="0s"><spine><asset-clip ref="r2"'
        ' offset="0s" name="clip" start="0s" duration="10s"'
        ' format="r1"><conform-rate srcFrameRate="1e9999999"/></asset-clip></spine></sequence>'
        "</project></event></library></fcpxml>"
    )
    started = time.process_time()
    timeline = load(str(export))
    assert time.process_time() - started < 5
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert clip.speed == 1.0
