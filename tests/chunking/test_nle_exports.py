"""Editors' exports loaded directly (chunking.timeline.otio_nle): Premiere's and Hiero's FCP 7 XML,
Final Cut Pro's FCPXML, Avid's AAF and CMX 3600 EDLs, real files from OpenTimelineIO's adapter
repositories (tests/data/README.md), with generated media of the names they reference put
beside a copy, as a user does who carries an export to another machine."""

from __future__ import annotations

import os
import re
import shutil
import time
import wave
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import opentimelineio as otio
import pytest

from chunking.timeline.fields import Problems
from chunking.timeline.loader import load
from chunking.timeline.model import FileSource, TrackKind
from chunking.timeline.otio_media import media_path
from chunking.timeline.otio_nle import drop_graphics, edl_rate
from common.errors import TimelineError
from tests.media import make_video
from workers.compositor import Compositor

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("nle") / "clip.mp4", frames=4, size=(160, 90))


def put_media(folder: Path, names: list[str], clip: Path) -> None:
    """A small file of each name in `folder`: a video, or a second of silence for .wav."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name.lower().endswith(".wav"):
            with wave.open(str(folder / name), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(48000)
                out.writeframes(b"\0\0" * 48000)
        else:
            shutil.copy(clip, folder / name)


def referenced(path: Path) -> list[str]:
    """The file names an export's media references end in."""
    tl = otio.adapters.read_from_file(str(path))
    if not isinstance(tl, otio.schema.Timeline):
        tl = next(t for t in tl.find_children() if isinstance(t, otio.schema.Timeline))
    urls = {str(c.media_reference.target_url or "") for c in tl.find_clips()
            if isinstance(c.media_reference, otio.schema.ExternalReference)}  # fmt: skip
    return sorted({re.split(r"[\\/]", u)[-1] for u in urls if u})


def write_edl(path: Path, rate: int, shots: list[tuple[str, int]]) -> Path:
    """An EDL of shots (clip name, frames) one after another, written by the adapter at rate."""
    track = otio.schema.Track()
    for name, frames in shots:
        track.append(
            otio.schema.Clip(
                name=name,
                source_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(frames, rate)
                ),
            )
        )
    otio.adapters.write_to_file(otio.schema.Timeline(tracks=[track]), str(path), rate=rate)
    return path


def copied(tmp_path: Path, *parts: str) -> Path:
    target = tmp_path / parts[-1]
    shutil.copy(DATA.joinpath(*parts), target)
    return target


def test_a_premiere_export_loads_with_its_media_relinked_beside_it(
    tmp_path: Path, clip: Path
) -> None:
    export = copied(tmp_path, "nle", "premiere_example.xml")
    names = referenced(export)
    assert "sc01_sh010_anim.mov" in names  # written as D:/media/... on the editor's machine
    put_media(tmp_path / "media", names, clip)
    timeline = load(str(export))
    # The sequence's own format, from the XML: not the 1920x1080 default.
    assert (timeline.width, timeline.height) == (1280, 720)
    assert timeline.fps == 30
    relinked = [w for w in timeline.warnings if "is not on this machine" in w]
    assert len(relinked) == len(names)  # one warning per medium, not per clip
    assert all("media/" in w for w in relinked)
    sources = {
        Path(c.source.path).name
        for t in timeline.tracks
        for c in t.clips
        if isinstance(c.source, FileSource)
    }
    assert sources == set(names)
    assert any(t.kind is TrackKind.AUDIO for t in timeline.tracks)
    comp = Compositor(timeline)
    try:
        frame = comp.frame(20)  # the first video clip starts at frame 13
    finally:
        comp.close()
    assert frame.shape == (720, 1280, 3) and frame.any()


def test_a_final_cut_pro_x_project_loads_with_its_media_beside_it(
    tmp_path: Path, clip: Path
) -> None:
    export = copied(tmp_path, "nle", "fcpx_project.fcpxml")
    names = referenced(export)
    put_media(tmp_path, names, clip)
    timeline = load(str(export))
    assert timeline.frames > 0 and timeline.fps == 30
    assert sum(len(t.clips) for t in timeline.tracks) >= len(names)
    assert any("/Volumes/Media/otio/" in w for w in timeline.warnings)


def modern_fcpxml(text: str) -> str:
    """An FCPXML 1.8 document as Final Cut Pro 10.4.1 and later write it (version 1.10): each
    asset's file in a ``media-rep`` child instead of its own ``src``."""
    text = text.replace('<fcpxml version="1.8">', '<fcpxml version="1.10">')
    return re.sub(
        r'(<asset [^>]*?) src="([^"]+)"([^>]*>)',
        r'\1\3<media-rep kind="original-media" src="\2"/>',
        text,
    )


@pytest.mark.parametrize("bundle", [False, True])
def test_a_modern_fcpxml_finds_its_media_in_media_reps_and_loads_from_its_bundle(
    tmp_path: Path, clip: Path, bundle: bool
) -> None:
    """FCPXML 1.9+ names media in ``<media-rep>`` (the adapter reads only ``src``: every clip
    was offline); Final Cut Pro 10.6 exports a ``.fcpxmld`` folder holding ``Info.fcpxml``,
    with the media beside the folder."""
    text = modern_fcpxml((DATA / "nle" / "fcpx_project.fcpxml").read_text())
    assert "<media-rep" in text and ' src="file' not in text.split("<media-rep")[0]
    if bundle:
        (tmp_path / "Cut.fcpxmld").mkdir()
        export = tmp_path / "Cut.fcpxmld" / "Info.fcpxml"
    else:
        export = tmp_path / "cut.fcpxml"
    export.write_text(text)
    names = referenced(DATA / "nle" / "fcpx_project.fcpxml")
    put_media(tmp_path, names, clip)
    timeline = load(str(export.parent if bundle else export))
    assert timeline.frames > 0 and timeline.fps == 30
    assert sum(len(t.clips) for t in timeline.tracks) >= len(names)
    assert sum("is not on this machine" in w for w in timeline.warnings) == len(names)


RESOLVE_FCPXML = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.9">
  <resources>
    <format id="r0" name="FFVideoFormat1080p30" frameDuration="1/30s" width="1920" height="1080"/>
    <asset id="r2" name="Demo.mp4" format="r0" start="0/1s" duration="90/30s" hasVideo="1">
      <media-rep kind="original-media" src="file:///Users/me/Downloads/Demo.mp4"/>
    </asset>
  </resources>
  <library>
    <event name="Timeline 1 (Resolve)">
      <project name="Timeline 1 (Resolve)">
        <sequence tcStart="3600/1s" format="r0" tcFormat="NDF" duration="60/30s">
          <spine>
            <asset-clip offset="3600/1s" name="Demo.mp4" start="0/1s" ref="r2" duration="30/30s"/>
            <asset-clip offset="108030/30s" name="Demo.mp4" start="45/30s" ref="r2"
                        duration="30/30s"/>
          </spine>
        </sequence>
      </project>
    </event>
  </library>
</fcpxml>
"""


def test_a_resolve_fcpxml_starting_at_one_hour_renders_from_its_first_clip(
    tmp_path: Path, clip: Path
) -> None:
    """Resolve's timelines start at 01:00:00:00 and its FCPXML places clips from 3600 s: the
    render is the program's 2 seconds, not an hour of black before them."""
    export = tmp_path / "cut.fcpxml"
    export.write_text(RESOLVE_FCPXML)
    put_media(tmp_path, ["Demo.mp4"], clip)
    timeline = load(str(export))
    assert timeline.fps == 30 and timeline.frames == 60
    placed = [(c.start, c.end, c.source_start) for t in timeline.tracks for c in t.clips]
    assert placed == [(0, 30, 0.0), (30, 60, 1.5)]


def test_an_avid_aaf_loads_with_its_media_beside_it(tmp_path: Path, clip: Path) -> None:
    export = copied(tmp_path, "nle", "one_clip.aaf")
    names = referenced(export)  # //VSD/Tools_Media/... on Avid's shared storage
    assert any(n.endswith(".mxf") for n in names)
    put_media(tmp_path, names, clip)
    timeline = load(str(export))
    assert timeline.fps == 24 and timeline.frames == 10
    assert {t.kind for t in timeline.tracks} == {TrackKind.VIDEO, TrackKind.AUDIO}
    assert sum("is not on this machine" in w for w in timeline.warnings) == len(names)


@pytest.mark.parametrize("suffix", ["xml", "fcpxml"])
def test_a_sequence_written_by_an_adapter_loads_at_its_rate(
    suffix: str, tmp_path: Path, clip: Path
) -> None:
    """A 25 fps cut of two clips, written as FCP 7 XML and as FCPXML by OTIO's own adapters."""
    shutil.copy(clip, tmp_path / "a.mp4")
    shutil.copy(clip, tmp_path / "b.mp4")
    rt = otio.opentime.RationalTime
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    for name, length in (("a", 20), ("b", 25)):
        media = otio.schema.ExternalReference(
            target_url=(tmp_path / f"{name}.mp4").as_uri(),
            available_range=otio.opentime.TimeRange(rt(0, 25), rt(100, 25)),
        )
        track.append(
            otio.schema.Clip(
                name=name,
                media_reference=media,
                source_range=otio.opentime.TimeRange(rt(0, 25), rt(length, 25)),
            )
        )
    tl = otio.schema.Timeline(name="cut", tracks=[track], global_start_time=rt(0, 25))
    path = tmp_path / f"cut.{suffix}"
    otio.adapters.write_to_file(tl, str(path))
    timeline = load(str(path))
    assert timeline.fps == 25 and timeline.frames == 45
    assert [(c.start, c.end) for t in timeline.tracks for c in t.clips] == [(0, 20), (20, 45)]


def test_media_that_cannot_be_found_are_named_in_one_error(tmp_path: Path) -> None:
    export = copied(tmp_path, "nle", "premiere_example.xml")
    with pytest.raises(TimelineError) as caught:
        load(str(export))
    assert "media file not found: D:/media/sc01_sh010_anim.mov" in str(caught.value)


def test_media_found_nowhere_are_errors_that_say_where_a_relink_looks(
    tmp_path: Path, clip: Path
) -> None:
    """An EDL event without media was told to "relink the clip in the editor and export
    again" (an EDL never carries media) and an export's absent file was "outside the project
    directory", as if refused: each error now says which file name a relink looks for, and
    where."""
    path = write_edl(tmp_path / "cut.edl", 25, [("shot_a", 30), ("shot_b", 30)])
    put_media(tmp_path, ["shot_a.mov"], clip)
    with pytest.raises(TimelineError) as caught:
        load(str(path))
    assert "clip 'shot_b': the export names no media file for it" in str(caught.value)
    # The EDL's reel is a name a relink tries too (otio_edl_names).
    assert (
        "('shot_b', any suffix, or its reel 'shotb') is in the export's folder or its media/"
        in str(caught.value)
    )
    assert "in the editor" not in str(caught.value)

    gone = tmp_path / "elsewhere" / "Day 2" / "A001.mov"  # on the editor's disk, not this one
    track = otio.schema.Track(kind=otio.schema.TrackKind.Video)
    track.append(
        otio.schema.Clip(
            name="interview",
            media_reference=otio.schema.ExternalReference(target_url=gone.as_uri()),
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, 25), otio.opentime.RationalTime(25, 25)
            ),
        )
    )
    project = tmp_path / "project"
    project.mkdir()
    otio.adapters.write_to_file(otio.schema.Timeline(tracks=[track]), str(project / "cut.otio"))
    with pytest.raises(TimelineError) as caught:
        load(str(project / "cut.otio"))
    assert str(caught.value).endswith(
        f"clip 'interview': media cannot be opened on this machine: {gone}; no file named "
        "'A001.mov' is in the export's folder or its media/ folder either: put it there to "
        "relink it by name"
    )
    put_media(project / "media", ["A001.mov"], clip)
    assert load(str(project / "cut.otio")).tracks[0].clips[0].source == FileSource(
        str(project / "media" / "A001.mov")
    )


def test_an_edl_is_read_at_the_rate_its_timecodes_show_and_relinked_by_clip_name(
    tmp_path: Path, clip: Path
) -> None:
    export = copied(tmp_path, "otio", "edl", "screening_example.edl")
    tl = otio.adapters.read_from_file(str(export), rate=24)
    put_media(tmp_path, [f"{c.name}.mov" for c in tl.find_clips()], clip)
    timeline = load(str(export))
    assert timeline.fps == 24
    assert any("found by its name" in w for w in timeline.warnings)
    assert sum(len(t.clips) for t in timeline.tracks) == len(list(tl.find_clips()))


@pytest.mark.parametrize(
    ("named", "stored"),
    [("Cafe\u0301", "Café.mp4"), ("Café", "Cafe\u0301.mp4"), ("CAFÉ", "café.mp4")],
)
def test_a_relink_finds_a_name_whatever_its_accents_composition(
    tmp_path: Path, clip: Path, named: str, stored: str
) -> None:
    """A Mac's HFS+ disk stores names decomposed: the export and the folder may disagree."""
    path = write_edl(tmp_path / "cut.edl", 25, [(named, 30), ("b", 30)])
    put_media(tmp_path, [stored, "b.mp4"], clip)
    timeline = load(str(path))
    first = timeline.tracks[0].clips[0]
    assert isinstance(first.source, FileSource) and first.source.path.endswith(stored)


def test_an_edl_of_another_rate_keeps_its_rate(tmp_path: Path, clip: Path) -> None:
    """An EDL written at 25 fps (frame numbers up to 24) is not read at OTIO's default 24."""
    path = write_edl(tmp_path / "cut.edl", 25, [("a", 49), ("b", 74)])
    put_media(tmp_path, ["a.mp4", "b.mp4"], clip)
    timeline = load(str(path))
    assert timeline.fps == 25 and timeline.frames == 123


@pytest.mark.parametrize(
    ("text", "rate", "warned"),
    [
        ("001 AX V C 01:00:00:00 01:00:01:23 00:00:00:00 00:00:01:23", 24.0, True),
        ("001 AX V C 01:00:00:00 01:00:01:24 00:00:00:00 00:00:01:24", 25.0, False),
        ("001 AX V C 01:00:00:00 01:00:01:29 00:00:00:00 00:00:01:29", 30.0, False),
        ("001 AX V C 01:00:00;00 01:00:01;12 00:00:00;00 00:00:01;12", 30000 / 1001, False),
        ("001 AX V C 01:00:00:00 01:00:01:49 00:00:00:00 00:00:01:49", 50.0, False),
        ("no events", 24.0, True),
    ],
)
def test_edl_rate(text: str, rate: float, warned: bool) -> None:
    problems = Problems()
    assert edl_rate(text, problems) == pytest.approx(rate)
    assert bool(problems.warnings) == warned


def _events(frames: list[int], separator: str = ":") -> str:
    """EDL event lines whose record out timecodes end in these frame numbers."""
    return "\n".join(
        f"{n:03d} AX V C 00:00:00{separator}00 00:00:01{separator}{f:02d} "
        f"01:00:00{separator}00 01:00:01{separator}{f:02d}"
        for n, f in enumerate(frames, 1)
    )


NTSC = Fraction(30000, 1001)
FILM = Fraction(24000, 1001)


@pytest.mark.parametrize(
    ("frames", "separator", "media", "rate", "warned"),
    [
        ([10, 23], ":", [Fraction(25)], 25.0, False),  # 24 or 25: the media settle it
        ([10, 23], ":", [FILM], 24000 / 1001, False),
        ([10, 23], ":", [], 24.0, True),
        ([10, 29], ":", [NTSC, NTSC], 30000 / 1001, False),  # Premiere's non-drop 29.97
        ([10, 29], ":", [Fraction(30)], 30.0, False),
        ([10, 29], ":", [Fraction(25)], 30.0, False),  # a frame 29 rules 25 fps out
        ([5, 12], ":", [Fraction(30)], 30.0, True),  # the media's rate, with a warning
        ([10, 24], ":", [Fraction(30)], 30.0, True),
        ([10, 29], ":", [Fraction(50), Fraction(50)], 50.0, True),
        ([10, 59], ":", [Fraction(60000, 1001)], 60000 / 1001, False),
        ([10, 23], ":", [Fraction(15)], 24.0, True),
        ([10, 45], ";", [], 60000 / 1001, False),  # drop frame at 59.94
        ([10, 29], ";", [Fraction(25)], 30000 / 1001, False),
        ([10, 23], ":", [Fraction(25), Fraction(25), FILM], 25.0, False),  # most of them
    ],
)
def test_an_edl_rate_takes_its_media_into_account(
    frames: list[int], separator: str, media: list[Fraction], rate: float, warned: bool
) -> None:
    problems = Problems()
    assert edl_rate(_events(frames, separator), problems, media) == pytest.approx(rate)
    assert bool(problems.warnings) == warned


def test_a_short_pal_edl_is_read_at_its_media_rate(tmp_path: Path) -> None:
    """An EDL cut at 25 fps whose frame numbers stay below 24 (two short shots) is read at
    the 25 fps of the media its events name, not at 24."""
    path = write_edl(tmp_path / "cut.edl", 25, [("a", 12), ("b", 20)])
    assert "FROM CLIP NAME" in path.read_text()
    media = tmp_path / "media"
    media.mkdir()
    for name in ("a", "b"):
        make_video(media / f"{name}.mp4", frames=30, fps=25, size=(160, 90))
    timeline = load(str(path))
    assert timeline.fps == 25 and timeline.frames == 32
    assert not [w for w in timeline.warnings if "24 and 25" in w]


def test_an_edl_whose_events_do_not_add_up_at_24_is_read_at_a_rate_they_do(
    tmp_path: Path, clip: Path
) -> None:
    """A 30 fps EDL whose frame numbers stay below 24 (two shots of 40 and 50 frames, cut on
    frame 10) fits 24 fps by its timecodes, but its sources and records last differently there:
    it is read at 30, with a warning, not refused."""
    path = write_edl(tmp_path / "cut.edl", 30, [("a", 40), ("b", 50)])
    put_media(tmp_path, ["a.mp4", "b.mp4"], clip)
    timeline = load(str(path))
    assert timeline.fps == 30 and timeline.frames == 90
    assert [(c.start, c.end) for t in timeline.tracks for c in t.clips] == [(0, 40), (40, 90)]
    assert any("read at 30" in w for w in timeline.warnings)  # its media's rate


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.xml", "<html><body>not an edit</body></html>"),
        ("cut.edl", "TITLE: broken\n001 AX V C 99:99:99:99 garbage\n"),
        ("cut.fcpxml", "<fcpxml version='1.8'><resources/></fcpxml>"),
        ("cut.aaf", "not a compound file"),
    ],
)
def test_a_broken_export_is_one_clear_error(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(TimelineError) as caught:
        load(str(path))
    assert name in str(caught.value) or "timeline" in str(caught.value)


def files_open_at(path: Path) -> list[str]:
    """This process's open file descriptors on ``path``."""
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            if Path(os.readlink(fd)) == path:
                found.append(fd.name)
        except OSError:  # the descriptor listing the folder, closed by now
            continue
    return found


@pytest.mark.parametrize("broken", ["header", "truncated"])
def test_an_unreadable_aaf_leaves_its_file_closed(tmp_path: Path, broken: str) -> None:
    """The AAF reader opens the file before the ``with`` that closes it: on a file it cannot
    read the file stayed open as long as the error was kept, then closed with a
    ResourceWarning (an error under ``-W error``)."""
    whole = (DATA / "nle" / "one_clip.aaf").read_bytes()
    path = tmp_path / "cut.aaf"
    # A compound file's signature and nothing usable after it, or an AAF cut off halfway.
    path.write_bytes(whole[:8] + bytes(4088) if broken == "header" else whole[: len(whole) // 2])
    with pytest.raises(TimelineError, match="not a readable AAF file") as caught:
        load(str(path))
    assert str(path) in str(caught.value)
    assert files_open_at(path) == []


@pytest.mark.parametrize(
    "content", ["<fcpxml version='1.10'/>", "<fcpxml version='1.8'><resources/></fcpxml>"]
)
def test_an_fcpxml_of_no_project_says_it_holds_no_timeline(tmp_path: Path, content: str) -> None:
    """The adapter reads such a document as nothing: the error said it held a "NoneType"."""
    path = tmp_path / "cut.fcpxml"
    path.write_text(content)
    with pytest.raises(TimelineError, match="holds no timeline") as caught:
        load(str(path))
    assert "NoneType" not in str(caught.value)


def test_premiere_graphics_are_left_out_or_drawn_as_subtitles_and_its_generators_drawn(
    tmp_path: Path,
) -> None:
    """Premiere's transparent video carries no pixels: left out with a warning naming it. Its
    Essential Graphics title (a "GraphicAndType" generator) carries its text and look in its
    Source Text parameter: drawn as a subtitle with them, where the clip was (frames 737 to
    855), as the title card's own text describes it (Menlo, blue fill, black stroke, red box at
    75 %, white shadow). The export is not refused; its colour matte is drawn in its colour and
    its "HD Bars and Tone" as bars."""
    export = copied(tmp_path, "nle", "premiere_generators.xml")
    timeline = load(str(export))
    left_out = [w for w in timeline.warnings if "not drawn" in w]
    assert any("'Transparent Video'" in w for w in left_out)
    assert any("'Graphic'" in w and "drawn as a subtitle" in w for w in timeline.warnings)
    (title,) = timeline.subtitles
    assert title.text.startswith("A center align Title Card\nwith Menlo Font")
    assert (title.start, title.end) == (737, 856)
    assert (title.font_family, title.font_size) == ("Menlo", 100)
    assert title.color == (0, 0, 255, 255) and title.stroke_color == (0, 0, 0, 255)
    assert title.background == (255, 0, 0, 191) and title.shadow_color == (255, 255, 255, 255)
    assert title.position == pytest.approx((0.4997, 0.2008), abs=1e-3)
    video = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert len(video) == 4
    comp = Compositor(timeline)
    try:
        drawn = {re.sub(r"^#\d+#\d+ ", "", c.id): comp.frame(c.start) for c in video}
    finally:
        comp.close()
    assert not drawn["Black Video"].any()
    assert (drawn["Blue Matte"] == [0, 0, 255]).all()
    bars = drawn["HD Bars and Tone"]
    assert len(np.unique(bars.reshape(-1, 3), axis=0)) >= 7


def test_a_library_of_several_projects_names_them_and_a_bin_of_clips_says_what_it_lacks(
    tmp_path: Path,
) -> None:
    with pytest.raises(TimelineError) as caught:
        load(str(copied(tmp_path, "nle", "fcpx_example.fcpxml")))
    message = str(caught.value)
    assert "holds 2 timelines" in message
    assert "'OpenTimeline_Project'" in message and "'OpenTimeline_Project 1'" in message
    with pytest.raises(TimelineError) as caught:
        load(str(copied(tmp_path, "nle", "fcpx_clips.fcpxml")))
    assert "holds no timeline" in str(caught.value)


def test_a_relink_never_reaches_outside_the_project_folder(tmp_path: Path, clip: Path) -> None:
    """A file of the right name elsewhere on the disk is not taken: only the project's folder
    and its media/ subfolder are searched."""
    project = tmp_path / "project"
    project.mkdir()
    export = copied(project, "nle", "hiero_xml_export.xml")
    put_media(tmp_path, ["A160C005_171213_R0MN.mxf"], clip)  # beside the folder, not in it
    with pytest.raises(TimelineError) as caught:
        load(str(export))
    assert "A160C005_171213_R0MN" in str(caught.value)


def test_fractions_of_the_timeline_rate_are_exact(tmp_path: Path, clip: Path) -> None:
    export = copied(tmp_path, "otio", "edl", "screening_example.edl")
    tl = otio.adapters.read_from_file(str(export), rate=24)
    put_media(tmp_path / "Media", [f"{c.name}.mov" for c in tl.find_clips()], clip)
    assert load(str(export)).fps == Fraction(24)


ENTITIES = """<?xml version="1.0"?>
<!DOCTYPE xmeml [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY secret SYSTEM "file:///etc/passwd">
]>
<xmeml version="4"><sequence><name>{name}</name></sequence></xmeml>
"""


FCPXML_BODY = (
    '<fcpxml version="1.10"><library><event><project name="p"><sequence><spine>'
    '<title offset="0s" duration="1s"><text><text-style>{name}</text-style></text></title>'
    "</spine></sequence></project></event></library></fcpxml>\n"
)


@pytest.mark.parametrize("suffix", ["xml", "fcpxml"])
@pytest.mark.parametrize("name", ["&f;", "&secret;"])
def test_hostile_xml_entities_are_refused_not_expanded(
    tmp_path: Path, name: str, suffix: str
) -> None:
    """An entity bomb (a billion laughs) or an external entity (a file of this machine) in an
    FCP XML or FCPXML (whose titles and media this loader reads itself, besides the adapter):
    one error at once, and nothing of the file read into the timeline."""
    path = tmp_path / f"cut.{suffix}"
    text = ENTITIES.format(name=name)
    if suffix == "fcpxml":
        text = text.replace("xmeml [", "fcpxml [").split("]>")[0] + "]>\n"
        text += FCPXML_BODY.format(name=name)
    path.write_text(text)
    began = time.monotonic()
    with pytest.raises(TimelineError) as caught:
        load(str(path))
    assert time.monotonic() - began < 10
    assert "root:" not in str(caught.value)


def fcp_filter(effect_id: str, parameter_id: str, value: str) -> str:
    """An FCP 7 XML filter element with one fixed parameter."""
    return (
        f"<filter><effect><name>{effect_id}</name><effectid>{effect_id}</effectid>"
        f"<parameter><parameterid>{parameter_id}</parameterid><value>{value}</value>"
        "</parameter></effect></filter>"
    )


def test_premiere_audio_levels_and_opacity_are_the_clips_volume_and_opacity(
    tmp_path: Path, clip: Path
) -> None:
    """A fixed Audio Levels filter (a linear level: 0.5 is -6 dB) is the clip's volume, a fixed
    Opacity filter (percent) its opacity."""
    export = copied(tmp_path, "nle", "premiere_example.xml")
    text = export.read_text()
    for item, added in (
        ('<clipitem id="clipitem-17"', fcp_filter("audiolevels", "level", "0.5")),
        ('<clipitem id="clipitem-1"', fcp_filter("opacity", "opacity", "40")),
    ):
        at = text.index("</clipitem>", text.index(item))
        text = text[:at] + added + text[at:]
    export.write_text(text)
    put_media(tmp_path, referenced(export), clip)
    timeline = load(str(export))
    clips = {c.id: c for t in timeline.tracks for c in t.clips}
    placeholder = [c for i, c in clips.items() if "sc01_placeholder" in i]
    assert [c.volume for c in placeholder] == [0.5]
    assert [c.opacity for i, c in clips.items() if "sc01_sh010_anim" in i][0] == pytest.approx(0.4)


def test_a_relink_follows_the_exported_folders_inside_the_project(
    tmp_path: Path, clip: Path
) -> None:
    """Camera cards reuse file names: two days' A001.mov, copied with their folders into the
    project's, each play their own file (they were not found: only the project's folder and
    media/ were searched, by name)."""
    track = otio.schema.Track()
    for day in ("Day 1", "Day 2"):
        url = f"file:///Volumes/Shoot/{day.replace(' ', '%20')}/A001.mov"
        track.append(
            otio.schema.Clip(
                name=day,
                media_reference=otio.schema.ExternalReference(target_url=url),
                source_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(2, 24)
                ),
            )
        )
    export = tmp_path / "cut.otio"
    otio.adapters.write_to_file(otio.schema.Timeline(tracks=[track]), str(export))
    put_media(tmp_path / "Day 1", ["A001.mov"], clip)
    put_media(tmp_path / "Day 2", ["A001.mov"], clip)
    timeline = load(str(export))
    sources = [c.source.path for c in timeline.tracks[0].clips if isinstance(c.source, FileSource)]
    assert sources == [str(tmp_path / "Day 1" / "A001.mov"), str(tmp_path / "Day 2" / "A001.mov")]
    relinked = [w for w in timeline.warnings if "is not on this machine" in w]
    assert relinked == [
        f"media /Volumes/Shoot/{day}/A001.mov: is not on this machine; using {day}/A001.mov "
        "(1 clip uses it)"
        for day in ("Day 1", "Day 2")
    ]


def test_a_relink_does_not_climb_out_of_the_project_by_the_exported_path(
    tmp_path: Path, clip: Path
) -> None:
    """An exported path's ``..`` is never followed: the file above the project is not used."""
    project = tmp_path / "project"
    put_media(tmp_path / "shoot", ["a.mov"], clip)
    project.mkdir()
    track = otio.schema.Track()
    track.append(
        otio.schema.Clip(
            name="a",
            media_reference=otio.schema.ExternalReference(target_url="/x/../shoot/a.mov"),
            source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(2, 24)
            ),
        )
    )
    otio.adapters.write_to_file(otio.schema.Timeline(tracks=[track]), str(project / "c.otio"))
    with pytest.raises(TimelineError) as caught:
        load(str(project / "c.otio"))
    assert "shoot/a.mov" in str(caught.value)


def test_a_premiere_windows_share_is_named_as_windows_writes_it() -> None:
    """Premiere writes a share as file://localhost/%5C%5Cserver...: the path is \\\\server\\...
    (it was /\\\\server\\..., a path nobody wrote, in the relink's and missing media's messages)."""
    url = "file://localhost/%5C%5Cnas%5Cshoot%5CA001.mov"
    assert media_path(url, "clip 'a'", Problems()) == "\\\\nas\\shoot\\A001.mov"


def test_a_premiere_clip_starting_inside_the_one_before_plays_at_its_start(
    tmp_path: Path, clip: Path
) -> None:
    """premiere_example.xml's audio track 4 holds sc01_master_layerA_sh030_temp.mov to frame
    1177 and sc01_sh010_anim.mov from frame 1164: the adapter played the second 13 frames late,
    at 1177; it plays at 1164, the first cut there (as the other channel's track has them)."""
    export = copied(tmp_path, "nle", "premiere_example.xml")
    put_media(tmp_path / "media", referenced(export), clip)
    timeline = load(str(export))
    audio = [
        [
            (Path(c.source.path).name, c.start, c.end)
            for c in t.clips
            if isinstance(c.source, FileSource)
        ]
        for t in timeline.tracks
        if t.kind is TrackKind.AUDIO
    ]
    assert [
        ("sc01_master_layerA_sh030_temp.mov", 956, 1164),
        ("sc01_sh010_anim.mov", 1164, 1258),
    ] in audio
    assert any("starts at frame 1164, inside clip" in w for w in timeline.warnings)


def test_thousands_of_premiere_graphics_are_left_out_in_one_pass_a_track(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each title asked its track for its index (a Python scan of the track) and its place (a
    walk from the track's start): captions exported as 2000 graphics took many seconds, tens
    of thousands minutes. Each track's are now read once, with the same result."""
    asked: list[str] = []
    for owner, name in (
        (otio.schema.Track, "index"),
        (otio.schema.Track, "range_of_child"),
        (otio.core.Item, "range_in_parent"),
    ):
        original = getattr(owner, name)

        def counted(self: Any, *args: Any, _original: Any = original, _name: str = name) -> Any:
            asked.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(owner, name, counted)
    titles = 500
    length = otio.opentime.TimeRange(
        otio.opentime.RationalTime(0, 25), otio.opentime.RationalTime(25, 25)
    )
    track = otio.schema.Track(name="V2")
    for i in range(titles):
        track.append(
            otio.schema.Clip(
                name=f"Graphic {i}",
                media_reference=otio.schema.GeneratorReference(generator_kind="GraphicAndType"),
                source_range=length,
            )
        )
    tl = otio.schema.Timeline()
    tl.tracks.append(track)
    p = Problems()
    drop_graphics(tl, p)
    assert asked == []
    assert [type(item) for item in track] == [otio.schema.Gap] * titles
    assert track.duration().value == 25 * titles
    assert len(p.warnings) == titles and "Graphic 499" in p.warnings[-1]
