"""What an FCPXML project says that the adapter leaves out (chunking.timeline.otio_fcpxml_extras):
its titles as subtitles, its frame size, the multicam and retimed clips it cannot render."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from chunking.timeline.loader import load
from chunking.timeline.otio_fcpxml_extras import fcpxml_extras
from common.errors import TimelineError
from tests.media import make_video
from workers.compositor import Compositor

EXPORTS = Path(__file__).parents[1] / "data" / "nle" / "fcp"

TITLES = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="320" height="180"/>
    <asset id="r2" name="a" start="0s" duration="20s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="file:///Volumes/Media/a.mp4"/>
    </asset>
    <effect id="r4" name="Basic Title" uid=".../Basic Title.moti"/>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="9s" tcStart="3600s">
      <spine>
        <asset-clip name="a" ref="r2" offset="3600s" duration="4s" start="0s"/>
        <title name="Opener" ref="r4" offset="3604s" duration="2s" start="3600s">
          <text><text-style ref="ts1">Hello</text-style></text>
          <text-style-def id="ts1">
            <text-style font="DejaVu Sans" fontSize="108" fontColor="1 0 0 1" bold="1"/>
          </text-style-def>
        </title>
        <asset-clip name="a" ref="r2" offset="3606s" duration="3s" start="2s">
          <title name="Lower third" lane="1" ref="r4" offset="3s" duration="1s" start="3600s">
            <param name="Position" key="9999/1/100/101" value="0 -270"/>
            <text>
              <text-style ref="ts2">Jane</text-style> <text-style ref="ts2">Doe</text-style>
            </text>
            <text-style-def id="ts2"><text-style font="DejaVu Sans" fontSize="54"/></text-style-def>
          </title>
          <title name="Off" lane="2" ref="r4" offset="2s" duration="1s" enabled="0">
            <text><text-style>hidden</text-style></text>
          </title>
        </asset-clip>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def test_titles_become_subtitles_at_their_output_times(tmp_path: Path) -> None:
    """A spine title (a gap to the adapter) and one connected to a clip (dropped by the
    adapter) are subtitles: the spine one at its offset from tcStart, the connected one at its
    parent's offset plus its own offset less the parent's start; text, font size scaled from
    1080p, colour, weight and position kept; a disabled title is not drawn."""
    path = tmp_path / "cut.fcpxml"
    path.write_text(TITLES)
    titles = fcpxml_extras(str(path)).titles
    assert [(t["text"], t["start_time"], t["end_time"]) for t in titles] == [
        ("Hello", 4.0, 6.0),
        ("Jane Doe", 7.0, 8.0),  # 6 s + (3 s - its parent's start 2 s)
    ]
    hello, jane = titles
    assert hello["style"]["font_size"] == 18  # 108 at 1080p on a 180-line frame
    assert hello["style"]["color"] == "#ff0000ff" and hello["style"]["font_weight"] == "Bold"
    assert hello["position"] == "center"
    assert jane["position"] == pytest.approx({"x": 0.5, "y": 0.75})  # 270 px below centre


def test_a_title_connected_to_a_picture_without_sound_is_drawn(tmp_path: Path) -> None:
    """Final Cut writes a clip without sound, a still or a generator as a spine <video>."""
    path = tmp_path / "cut.fcpxml"
    path.write_text(
        TITLES.replace(
            '<asset-clip name="a" ref="r2" offset="3600s" duration="4s" start="0s"/>',
            '<video name="a" ref="r2" offset="3600s" duration="4s" start="10s">'
            '<title name="On video" lane="1" ref="r4" offset="11s" duration="1s">'
            "<text><text-style>Still</text-style></text></title></video>",
        )
    )
    titles = fcpxml_extras(str(path)).titles
    assert [(t["text"], t["start_time"]) for t in titles][:2] == [("Still", 1.0), ("Hello", 4.0)]


def test_an_fcpxml_with_titles_loads_and_draws_them(tmp_path: Path) -> None:
    make_video(tmp_path / "a.mp4", frames=500, fps=25, size=(320, 180))
    path = tmp_path / "cut.fcpxml"
    path.write_text(TITLES.replace("file:///Volumes/Media/a.mp4", (tmp_path / "a.mp4").as_uri()))
    timeline = load(str(path))
    assert (timeline.width, timeline.height, timeline.frames) == (320, 180, 225)
    assert [(s.text, s.start, s.end) for s in timeline.subtitles] == [
        ("Hello", 100, 150),
        ("Jane Doe", 175, 200),
    ]
    assert any("title(s) drawn as subtitles" in w for w in timeline.warnings)
    comp = Compositor(timeline)
    try:
        frame = comp.frame(120)  # the spine title over nothing: red text on black
    finally:
        comp.close()
    red = (frame[..., 0] > 150) & (frame[..., 1] < 80)
    ys, xs = np.nonzero(red)
    assert ys.size > 50 and 60 < ys.mean() < 120 and 120 < xs.mean() < 200  # centred


def test_a_library_of_projects_or_an_unreadable_file_has_no_titles(tmp_path: Path) -> None:
    path = tmp_path / "cut.fcpxml"
    path.write_text(
        TITLES.replace("</project>", "</project><project name='q'><sequence/></project>")
    )
    assert fcpxml_extras(str(path)).titles == []
    path.write_text("<fcpxml><unclosed>")
    assert fcpxml_extras(str(path)).titles == []


def test_a_speed_ramp_is_named_in_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "cut.fcpxml"
    path.write_text(
        TITLES.replace(
            '<asset-clip name="a" ref="r2" offset="3600s" duration="4s" start="0s"/>',
            '<asset-clip name="ramp" ref="r2" offset="3600s" duration="4s" start="0s">'
            '<timeMap><timept time="0s" value="0s"/><timept time="2s" value="1s"/>'
            '<timept time="4s" value="5s"/></timeMap></asset-clip>',
        )
    )
    (message,) = fcpxml_extras(str(path)).unrendered
    assert "'ramp' at 0s" in message and "own speed" in message


def retimed(tmp_path: Path, clip: str) -> Path:
    """TITLES with its first clip replaced by ``clip``, over a 20 s video with sound here."""
    make_video(tmp_path / "a.mp4", frames=500, fps=25, size=(320, 180), audio_hz=440.0)
    path = tmp_path / "cut.fcpxml"
    path.write_text(
        TITLES.replace("file:///Volumes/Media/a.mp4", (tmp_path / "a.mp4").as_uri())
        .replace('hasVideo="1" format="r1"', 'hasVideo="1" hasAudio="1" format="r1"')
        .replace('<asset-clip name="a" ref="r2" offset="3600s" duration="4s" start="0s"/>', clip)
    )
    return path


def test_a_constant_retime_plays_at_its_speed(tmp_path: Path) -> None:
    """Final Cut's 50 % clip (a two-point timeMap: 4 s of the clip show 2 s of media) starting
    at its own 2 s (media 1 s) plays at half speed from the media's 1 s; no warning."""
    path = retimed(
        tmp_path,
        '<asset-clip name="slow" ref="r2" offset="3600s" duration="4s" start="2s">'
        '<timeMap><timept time="0s" value="0s" interp="smooth2"/>'
        '<timept time="10s" value="5s" interp="smooth2"/></timeMap></asset-clip>',
    )
    assert fcpxml_extras(str(path)).unrendered == []
    timeline = load(str(path))
    slows = [c for t in timeline.tracks for c in t.clips if c.id.endswith("slow")]
    assert len(slows) == 2  # its picture and its sound
    for slow in slows:
        assert (slow.start, slow.end, slow.source_start, slow.speed) == (0, 100, 1.0, 0.5)
    assert not any("own speed" in w for w in timeline.warnings)
    # Final Cut keeps a retimed clip's pitch (preservesPitch, 1 by default): the sound is
    # shifted back up an octave, unless the clip says not to.
    (sound,) = [c for c in slows if c.track_id.startswith("sound")]
    assert [(e.kind, dict(e.params)) for e in sound.effects] == [("audiopitch", {"ratio": 2.0})]
    path.write_text(path.read_text().replace("<timeMap>", '<timeMap preservesPitch="0">'))
    plain = load(str(path))
    assert all(c.effects == () for t in plain.tracks for c in t.clips)


def test_a_freeze_frame_holds_its_frame_in_silence(tmp_path: Path) -> None:
    """Final Cut's freeze (a two-point timeMap whose values are equal: media 1 s at both) holds
    that frame for the clip's length; it played as moving video, with a warning."""
    path = retimed(
        tmp_path,
        '<asset-clip name="held" ref="r2" offset="3600s" duration="2s" start="0s">'
        '<timeMap><timept time="0s" value="1s"/><timept time="2s" value="1s"/>'
        "</timeMap></asset-clip>",
    )
    assert fcpxml_extras(str(path)).unrendered == []
    timeline = load(str(path))
    held = [c for t in timeline.tracks for c in t.clips if c.id.endswith("held")]
    assert held and all((c.speed, c.source_start) == (1.0, 1.0) for c in held)
    assert all(c.source_end is not None and c.source_end - 1.0 < 0.1 for c in held)
    assert all(c.muted for c in held)  # a held frame has no sound
    assert not any("own speed" in w for w in timeline.warnings)


def test_a_library_of_several_events_names_its_projects(tmp_path: Path) -> None:
    """The adapter reads a library's first event only: a library whose second event holds
    another project is refused naming both, not rendered as the first event's project."""
    second = '<event name="f"><project name="q"><sequence format="r1" duration="1s"/></project>'
    path = tmp_path / "cut.fcpxml"
    path.write_text(
        TITLES.replace("</event></library>", "</event>" + second + "</event></library>")
    )
    with pytest.raises(TimelineError) as caught:
        load(str(path))
    # Read from every event now (otio_fcpxml_adapter): both are named as the file's timelines.
    assert "holds 2 timelines ('p', 'q')" in str(caught.value)


def test_titles_inside_compound_clips_are_drawn_where_the_compound_shows_them(
    tmp_path: Path,
) -> None:
    """Final Cut Pro 10.7's ``Occlusion.fcpxml`` (tests/data/nle/fcp, swift-fcpxml's export:
    titles in three compound clips, each ``<ref-clip>`` showing part of its compound). A
    compound's titles were neither drawn nor named: a lower third made a compound clip went
    missing without a warning. Each is drawn at the compound's offset plus its own less the
    compound's start, cut to the span the compound clip shows: 'Basic Title 4' (0-30 s of its
    compound) from 10 s in, for 10 s; 'Basic Title 5' starts 20 s into a compound clip 10 s
    long, so is not drawn (swift-fcpxml's own test of the file calls it fully occluded)."""
    shutil.copy(EXPORTS / "Occlusion.fcpxml", tmp_path / "Occlusion.fcpxml")
    timeline = load(str(tmp_path / "Occlusion.fcpxml"))
    assert timeline.fps == 24
    assert [(s.text, s.start / 24, s.end / 24) for s in timeline.subtitles] == [
        ("Title", 0, 30),  # Basic Title 1, in the spine
        ("Title", 40, 50),  # Basic Title 2
        ("Title", 60, 90),  # Basic Title 3: all of Occlusion Clip 1
        ("Title", 100, 110),  # Basic Title 4: 10-20 s of it, as Occlusion Clip 2 shows
    ]


def test_a_generator_inside_a_compound_clip_is_named(tmp_path: Path) -> None:
    """``CompoundClips.fcpxml`` (tests/data/nle/fcp, DAWFileKit's Final Cut Pro 10.7 export):
    its 'Clouds Compound Clip' holds the Clouds background (a Final Cut generator, not drawn)
    and a compound of a title. Neither was drawn and the load said nothing; the title now is,
    and the generator is named."""
    shutil.copy(EXPORTS / "CompoundClips.fcpxml", tmp_path / "CompoundClips.fcpxml")
    timeline = load(str(tmp_path / "CompoundClips.fcpxml"))
    assert [(s.text, s.start, s.end) for s in timeline.subtitles] == [
        ("Title", 0, 251),  # Title Compound Clip: 10.04 s at 25 fps
        ("Title", 501, 752),  # the same compound again, 10 s into Clouds Compound Clip
    ]
    assert any("'Clouds' at 10.04s" in w and "not drawn" in w for w in timeline.warnings)


def test_the_titles_of_a_retimed_compound_clip_are_named_not_misplaced(tmp_path: Path) -> None:
    """A retimed ``<ref-clip>`` (its titles' times would move with its speed) is named."""
    text = (EXPORTS / "Occlusion.fcpxml").read_text()
    clip = '<ref-clip ref="r3" offset="60s" name="Occlusion Clip 1" duration="30s"/>'
    assert clip in text
    retimed = clip.replace(
        "/>", '><timeMap><timept time="0s" value="0s"/><timept time="30s" value="15s"/></timeMap>'
    )
    (tmp_path / "Occlusion.fcpxml").write_text(text.replace(clip, retimed + "</ref-clip>"))
    timeline = load(str(tmp_path / "Occlusion.fcpxml"))
    assert [s.start / 24 for s in timeline.subtitles] == [0, 40, 100]
    assert any(
        "retimed compound clip(s) 'Occlusion Clip 1' at 60s are not drawn" in w
        for w in timeline.warnings
    )


CAPTIONS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.13">
  <resources>
    <format id="r1" name="FFVideoFormat1080p2398" frameDuration="1001/24000s" width="1920"
     height="1080"/>
    <asset id="r2" name="AA0005" start="0s" duration="3081078/24000s" hasVideo="1" format="r1"
     hasAudio="1"><media-rep kind="original-media" src="file:///Users/user/AA0005.mov"/></asset>
  </resources>
  <library><event name="Projects"><project name="Subtitle-Sample">
    <sequence format="r1" duration="2546544/24000s" tcStart="0s"><spine>
      <asset-clip ref="r2" offset="0s" name="AA0005" start="426426/24000s"
       duration="2546544/24000s">
        <caption lane="1" offset="447447/24000s" name="Speaker 1: Right." start="3600s"
         duration="13013/24000s" role="SRT?captionFormat=SRT.en">
          <text placement="bottom"><text-style ref="ts1">Speaker 1: Right.</text-style></text>
          <text-style-def id="ts1"><text-style font=".AppleSystemUIFont" fontSize="13"
           fontColor="1 1 1 1" backgroundColor="0 0 0 1"/></text-style-def>
        </caption>
        <caption lane="1" offset="23023/1200s" name="So intentions extremely important."
         start="3600s" duration="51051/24000s" role="SRT?captionFormat=SRT.en">
          <text placement="bottom"><text-style ref="ts2">So intentions
extremely important.</text-style></text>
          <text-style-def id="ts2"><text-style font=".AppleSystemUIFont" fontSize="13"
           fontColor="1 1 1 1" backgroundColor="0 0 0 1"/></text-style-def>
        </caption>
      </asset-clip>
    </spine></sequence>
  </project></event></library>
</fcpxml>
"""


def test_captions_are_named_as_not_drawn(tmp_path: Path) -> None:
    """Final Cut's closed captions (``<caption>``, here SRT), cut from OpenFCPXMLKit's
    ``Tests/FCPXML Samples/FCPXML/CaptionSample.fcpxml`` (Final Cut Pro, FCPXML 1.13:
    https://github.com/TheAcharya/OpenFCPXMLKit at commit
    8df8d34212adecdbab3666f01c9492d15f533d08; MIT, Copyright (c) 2026 The Acharya): its first
    two captions, metadata left out. Final Cut shares captions as a caption track, burned in
    only when asked; they were dropped without a word, as if the project had none."""
    (tmp_path / "AA0005.mov").write_bytes(b"")
    path = tmp_path / "captions.fcpxml"
    path.write_text(CAPTIONS)
    timeline = load(str(path))
    assert timeline.subtitles == ()
    (warning,) = [w for w in timeline.warnings if "caption" in w]
    assert "2 caption(s)" in warning and "SRT" in warning and "not drawn" in warning
