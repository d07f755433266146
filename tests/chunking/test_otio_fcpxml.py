"""FCPXML amendments (chunking.timeline.otio_fcpxml): times, offsets moved to start at 0, the
sound of asset-clips."""

from __future__ import annotations

import re
import wave
from fractions import Fraction
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chunking.timeline.loader import load
from chunking.timeline.model import Clip, Timeline, TrackKind
from chunking.timeline.otio_fcpxml import fcpxml_amended
from chunking.timeline.otio_fcpxml_extras import fcpxml_extras
from chunking.timeline.otio_fcpxml_time import fcpxml_time
from common.errors import TimelineError, ValidationError
from tests.media import make_video


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3600s", Fraction(3600)),
        ("3600/1s", Fraction(3600)),
        ("1001/30000s", Fraction(1001, 30000)),
        (" 0s ", Fraction(0)),
        ("1/0s", None),
        ("-5s", None),
        ("5", None),
        ("", None),
        (None, None),
    ],
)
def test_fcpxml_time(text: str | None, seconds: Fraction | None) -> None:
    assert fcpxml_time(text) == seconds


def _sequence(tc_start: str, offsets: list[str]) -> str:
    items = "".join(f'<gap offset="{o}" duration="1s"/>' for o in offsets)
    return (
        '<fcpxml version="1.10"><library><event><project name="p">'
        f'<sequence tcStart="{tc_start}"><spine>{items}</spine></sequence>'
        "</project></event></library></fcpxml>"
    )


@pytest.mark.parametrize(
    ("tc_start", "offsets", "expected"),
    [
        ("3600s", ["3600s", "3601s"], ["0/1s", "1/1s"]),
        ("3600s", ["0s", "1s"], None),  # offsets already from 0: left alone
        ("0s", ["0s", "1s"], None),
        ("86400/24s", ["86400/24s", "86424/24s"], ["0/1s", "1/1s"]),
    ],
)
def test_a_project_spine_starts_at_zero(
    tmp_path: Path, tc_start: str, offsets: list[str], expected: list[str] | None
) -> None:
    path = tmp_path / "cut.fcpxml"
    path.write_text(_sequence(tc_start, offsets))
    amended = fcpxml_amended(str(path))
    if expected is None:
        assert amended is None
        return
    assert amended is not None
    spine = ElementTree.fromstring(amended).find(".//spine")
    assert spine is not None
    assert [item.get("offset") for item in spine] == expected


def test_an_unparsable_file_is_left_to_the_adapter(tmp_path: Path) -> None:
    path = tmp_path / "cut.fcpxml"
    path.write_text("<fcpxml><unclosed>")
    assert fcpxml_amended(str(path)) is None


def test_an_unknown_encoding_is_a_timeline_error_not_a_traceback(tmp_path: Path) -> None:
    """An XML declaration naming an encoding Python does not know raised LookupError, which
    the CLI printed as a traceback."""
    path = tmp_path / "cut.fcpxml"
    path.write_text('<?xml version="1.0" encoding="x-mac-nonsense"?>\n<fcpxml version="1.10"/>')
    with pytest.raises(TimelineError, match="not readable FCPXML.*x-mac-nonsense"):
        load(str(path))


SOUND = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="r2" name="av" start="0s" duration="10s" hasVideo="1" hasAudio="1" format="r1">
      <media-rep kind="original-media" src="av.mp4"/>
    </asset>
    <asset id="r3" name="music" start="0s" duration="10s" hasAudio="1">
      <media-rep kind="original-media" src="music.wav"/>
    </asset>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="6s" tcStart="0s">
      <spine>
        <asset-clip name="av" ref="r2" offset="0s" duration="3s" start="0s">
          <asset-clip name="music" ref="r3" lane="-1" offset="0s" duration="3s" start="1s"/>
        </asset-clip>
        <asset-clip name="picture only" ref="r2" offset="3s" duration="1s" start="4s"
                    srcEnable="video"/>
        <asset-clip name="av" ref="r2" offset="4s" duration="2s" start="5s">
          <asset-clip name="cutaway" ref="r2" lane="1" offset="5s" duration="1s" start="8s"/>
        </asset-clip>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def sound_of(timeline: Timeline, name: str) -> list[Clip]:
    """The audio clips named ``name`` (their id, or "<track>#<index> <name>" when the name is
    not unique)."""
    return [
        c
        for t in timeline.tracks
        if t.kind is TrackKind.AUDIO
        for c in t.clips
        if c.id == name or c.id.endswith(f" {name}")
    ]


def test_asset_clips_keep_their_sound(tmp_path: Path) -> None:
    """An asset-clip of a video with sound plays its sound over its span (the adapter read it
    as picture only: silent), from the same media time; a connected clip's sound too, on a
    track of its own; an audio-only asset stays the adapter's; srcEnable="video" stays
    silent."""
    make_video(tmp_path / "av.mp4", frames=250, fps=25, size=(160, 90), audio_hz=440)
    with wave.open(str(tmp_path / "music.wav"), "wb") as music:  # ten seconds of silence
        music.setnchannels(1)
        music.setsampwidth(2)
        music.setframerate(8000)
        music.writeframes(b"\0\0" * 80000)
    path = tmp_path / "cut.fcpxml"
    path.write_text(SOUND)
    timeline = load(str(path))
    sound = {
        t.id: [(c.start, c.end, c.source_start) for c in t.clips]
        for t in timeline.tracks
        if t.kind is TrackKind.AUDIO
    }
    assert sound["sound 0"] == [(0, 75, 0.0), (100, 150, 5.0)]
    assert sound["sound 1"] == [(100, 125, 8.0)]  # where the cutaway's picture is:
    (cutaway,) = [c for t in timeline.tracks if t.id == "1" for c in t.clips]
    assert (cutaway.start, cutaway.end, cutaway.source_start) == (100, 125, 8.0)
    assert [(c.start, c.end, c.source_start) for c in sound_of(timeline, "music")] == [(0, 75, 1.0)]


def test_clips_without_a_name_are_read_by_their_assets_name(tmp_path: Path) -> None:
    """``name`` is optional in the DTD: tools that write FCPXML leave it out."""
    make_video(tmp_path / "av.mp4", frames=250, fps=25, size=(160, 90), audio_hz=440)
    with wave.open(str(tmp_path / "music.wav"), "wb") as music:
        music.setnchannels(1)
        music.setsampwidth(2)
        music.setframerate(8000)
        music.writeframes(b"\0\0" * 80000)
    path = tmp_path / "cut.fcpxml"
    unnamed = '<asset-clip ref="r2" offset="0s"'
    path.write_text(SOUND.replace('<asset-clip name="av" ref="r2" offset="0s"', unnamed))
    timeline = load(str(path))
    picture = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert picture[0].start == 0 and "av" in picture[0].id


def test_an_fcpxml_nested_beyond_any_editors_is_one_line(tmp_path: Path) -> None:
    nest = "<clip><spine>" * 300 + "</spine></clip>" * 300
    path = tmp_path / "deep.fcpxml"
    path.write_text(
        '<fcpxml version="1.10"><library><event><project name="p"><sequence><spine>'
        f"{nest}</spine></sequence></project></event></library></fcpxml>"
    )
    with pytest.raises(TimelineError, match=r"deep.fcpxml: its elements nest 606 levels deep"):
        load(str(path))


MULTICAM = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="ra" name="cam a" start="0s" duration="10s" hasVideo="1" hasAudio="1" format="r1">
      <media-rep kind="original-media" src="a.mp4"/>
    </asset>
    <asset id="rb" name="cam b" start="0s" duration="10s" hasVideo="1" hasAudio="1" format="r1">
      <media-rep kind="original-media" src="b.mp4"/>
    </asset>
    <media id="rm" name="Interview">
      <multicam format="r1" tcStart="0s">
        <mc-angle name="A" angleID="A"><asset-clip ref="ra" offset="0s" duration="10s"/></mc-angle>
        <mc-angle name="B" angleID="B">
          <asset-clip ref="rb" offset="1s" duration="4s" start="2s"/>
          <asset-clip ref="rb" offset="5s" duration="5s" start="0s"/>
        </mc-angle>
      </multicam>
    </media>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="6s" tcStart="0s">
      <spine>
        <mc-clip name="both A" ref="rm" offset="0s" duration="2s" start="1s">
          <mc-source angleID="A" srcEnable="all"/>
        </mc-clip>
        <mc-clip name="B with A's sound" ref="rm" offset="2s" duration="2s" start="2s">
          <mc-source angleID="B" srcEnable="video"/>
          <mc-source angleID="A" srcEnable="audio"/>
        </mc-clip>
        <mc-clip name="B across its cut" ref="rm" offset="4s" duration="2s" start="4s">
          <mc-source angleID="B" srcEnable="all"/>
        </mc-clip>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def test_multicam_clips_become_their_angles_clips(tmp_path: Path) -> None:
    """A multicam clip shows its video angle's clip at the same multicam time (angle B's clip
    starts at multicam 1 s from its media's 2 s: multicam 2 s is its media 3 s) and plays its
    audio angle's sound; one whose angle cuts between two clips inside its span shows and plays
    each in turn (it was left out, named in a warning)."""
    for name in ("a", "b"):
        make_video(tmp_path / f"{name}.mp4", frames=250, fps=25, size=(160, 90), audio_hz=440)
    path = tmp_path / "cut.fcpxml"
    path.write_text(MULTICAM)
    timeline = load(str(path))
    picture = [
        (c.start, c.end, c.source_start, Path(str(c.source.path)).name)
        for t in timeline.tracks
        if t.kind is TrackKind.VIDEO
        for c in t.clips
    ]
    # B across its cut: its first clip's media 5 s to 6 s, then its second's from 0 s.
    across = [(100, 125, 5.0, "b.mp4"), (125, 150, 0.0, "b.mp4")]
    assert picture == [(0, 50, 1.0, "a.mp4"), (50, 100, 3.0, "b.mp4"), *across]
    sound = [
        (c.start, c.end, c.source_start, Path(str(c.source.path)).name)
        for t in timeline.tracks
        if t.kind is TrackKind.AUDIO
        for c in t.clips
    ]
    assert sorted(sound) == [(0, 50, 1.0, "a.mp4"), (50, 100, 2.0, "a.mp4"), *across]
    assert not any("multicam" in w for w in timeline.warnings)


TAGS = (
    "spine", "asset-clip", "mc-clip", "mc-source", "title", "clip", "gap", "audio", "video",
    "media", "multicam", "mc-angle", "text", "text-style", "param", "timeMap",
)  # fmt: skip
TIMES = st.sampled_from(["0s", "1s", "3600s", "1001/30000s", "5/0s", "-1s", "x", "1e9s", ""])
ATTRIBUTES = st.dictionaries(
    st.sampled_from(["offset", "start", "duration", "lane", "ref", "angleID", "srcEnable",
                     "enabled", "name", "value", "fontSize", "tcStart"]),
    st.one_of(TIMES, st.sampled_from(["r2", "rm", "A", "B", "video", "audio", "all", "0", "1"])),
    max_size=5,
)  # fmt: skip


def trees(depth: int = 3) -> st.SearchStrategy[ElementTree.Element]:
    """Random FCPXML-shaped element trees."""

    def build(tag: str, attributes: dict[str, str], children: list[Any]) -> ElementTree.Element:
        element = ElementTree.Element(tag, attributes)
        element.extend(children)
        return element

    leaf = st.builds(build, st.sampled_from(TAGS), ATTRIBUTES, st.just([]))
    return st.recursive(
        leaf,
        lambda inner: st.builds(
            build, st.sampled_from(TAGS), ATTRIBUTES, st.lists(inner, max_size=4)
        ),
        max_leaves=25,
    )


@settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(trees())
def test_any_fcpxml_shape_is_amended_or_left_alone_never_an_exception(
    tmp_path_factory: pytest.TempPathFactory, spine: ElementTree.Element
) -> None:
    """Whatever an FCPXML holds (times malformed, references dangling, multicam angles empty),
    the amendments and the extras read it without crashing: what the checks name is one
    ValidationError, anything else the adapter then reports."""
    root = ElementTree.fromstring(
        '<fcpxml version="1.10"><resources>'
        '<asset id="r2" hasVideo="1" hasAudio="1"><media-rep src="a.mp4"/></asset>'
        '<media id="rm"><multicam><mc-angle angleID="A"><asset-clip ref="r2" duration="9s"/>'
        "</mc-angle></multicam></media></resources>"
        '<library><event><project><sequence tcStart="3600s"/></project></event></library>'
        "</fcpxml>"
    )
    sequence = root.find(".//sequence")
    assert sequence is not None
    sequence.append(spine)
    path = tmp_path_factory.mktemp("fuzz") / "cut.fcpxml"
    path.write_text(ElementTree.tostring(root, encoding="unicode"))
    try:
        amended = fcpxml_amended(str(path))
    except ValidationError as refused:
        assert refused.problems and all(str(path) in p for p in refused.problems)
        return
    if amended is not None:
        ElementTree.fromstring(amended)  # still a document
    fcpxml_extras(str(path))


SYNC = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.11">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="rv" name="camera" start="3600s" duration="20s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="camera.mp4"/>
    </asset>
    <asset id="ra" name="recorder" start="3590s" duration="40s" hasAudio="1">
      <media-rep kind="original-media" src="recorder.wav"/>
    </asset>
    <effect id="rc" name="Clouds" uid=".../Generators.localized/Clouds.motn"/>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="8s" tcStart="3600s">
      <spine>
        <video name="Clouds" ref="rc" offset="3600s" duration="2s" start="0s"/>
        <sync-clip name="take 1" offset="3602s" duration="3s" start="3605s">
          <asset-clip name="camera" ref="rv" offset="3600s" duration="20s" start="3600s">
            <clip name="sound" lane="-1" offset="3601s" duration="10s" start="3591s">
              <audio ref="ra" offset="3591s" duration="10s"/>
            </clip>
          </asset-clip>
          <sync-source sourceID="storyline"/>
        </sync-clip>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def test_sync_clips_generators_and_the_sequence_length(tmp_path: Path) -> None:
    """A sync clip is its camera clip cut to the sync clip's span (its own time 3605 s is the
    camera's 5 s); the sound connected to the camera, two levels down, is cut to the span too
    and lands with the picture; a generator is a named gap; the program lasts the sequence's
    8 s, though nothing shows after 5 s."""
    make_video(tmp_path / "camera.mp4", frames=500, fps=25, size=(160, 90))
    with wave.open(str(tmp_path / "recorder.wav"), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\\0\\0" * 8000 * 40)
    path = tmp_path / "cut.fcpxml"
    path.write_text(SYNC)
    timeline = load(str(path))
    assert timeline.frames == 200  # 8 s at 25 fps
    picture = [(c.start, c.end, c.source_start) for t in timeline.tracks
               if t.kind is TrackKind.VIDEO for c in t.clips]  # fmt: skip
    assert picture == [(50, 125, 5.0)]
    (sound,) = sound_of(timeline, "sound")
    # cut to the take: from the camera's 3605 s (its own 3595 s: the file's 5 s) for 3 s
    assert (sound.start, sound.end, sound.source_start) == (50, 125, pytest.approx(5.0))
    assert any("'Clouds' at 0s" in w and "generator" in w for w in timeline.warnings)


def test_a_sync_clip_conformed_to_the_project_plays_frame_for_frame(tmp_path: Path) -> None:
    """A sync clip of 25 fps footage in a 24 fps project, which Final Cut conforms (96 %),
    played at full speed once flattened: its rate conform now comes with its camera clip, so
    each of the camera's frames from 5 s fills one program frame, its sound alongside; what
    the project connected to the sync clip is not its content, and keeps its speed."""
    make_video(tmp_path / "camera.mp4", frames=500, fps=25, size=(160, 90))
    with wave.open(str(tmp_path / "recorder.wav"), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\\0\\0" * 8000 * 40)
    text = SYNC.replace(
        '<format id="r1" frameDuration="100/2500s" width="160" height="90"/>',
        '<format id="r0" frameDuration="100/2400s" width="160" height="90"/>'
        '<format id="r1" frameDuration="100/2500s" width="160" height="90"/>',
    ).replace('<sequence format="r1"', '<sequence format="r0"')
    text = text.replace(
        '<sync-source sourceID="storyline"/>',
        '<sync-source sourceID="storyline"/><conform-rate srcFrameRate="25"/>'
        '<asset-clip name="broll" ref="rv" lane="1" offset="3606s" duration="1s" start="3610s"/>',
    )
    path = tmp_path / "cut.fcpxml"
    path.write_text(text)
    timeline = load(str(path))
    pictures = sorted((c.start, c.end, c.source_start, c.speed) for t in timeline.tracks
                      if t.kind is TrackKind.VIDEO for c in t.clips)  # fmt: skip
    # The B-roll the project connected to the sync clip keeps its own speed, at its place: 1 s
    # of the sync clip's (25 fps) time after its start is 25 program frames.
    assert pictures == [(48, 120, 5.0, 0.96), (73, 97, 10.0, 1.0)]
    (sound,) = sound_of(timeline, "sound")
    assert (sound.start, sound.end, sound.speed) == (48, 120, 0.96)


def test_an_item_connected_to_a_conformed_clip_lands_at_its_frame(tmp_path: Path) -> None:
    """A connected item's offset is in the conformed clip's own time, which is its 25 fps
    media's: 3 s of it (75 frames) from the clip's start is 75 program frames at 24 fps, not
    72 (the inset came a frame early per second, drifting from the shot it was cut to)."""
    make_video(tmp_path / "camera.mp4", frames=500, fps=25, size=(160, 90))
    path = tmp_path / "cut.fcpxml"
    path.write_text(
        SYNC.replace(
            '<format id="r1" frameDuration="100/2500s" width="160" height="90"/>',
            '<format id="r0" frameDuration="100/2400s" width="160" height="90"/>'
            '<format id="r1" frameDuration="100/2500s" width="160" height="90"/>',
        )
        .replace('<sequence format="r1" duration="8s"', '<sequence format="r0" duration="4s"')
        .split("<spine>")[0]
        + '<spine><asset-clip name="shot" ref="rv" offset="3600s" duration="4s" start="3602s">'
        '<conform-rate srcFrameRate="25"/>'
        '<asset-clip name="inset" ref="rv" lane="1" offset="3605s" duration="1s" start="3610s">'
        '<conform-rate srcFrameRate="25"/></asset-clip></asset-clip>'
        "</spine></sequence></project></event></library></fcpxml>"
    )
    timeline = load(str(path))
    placed = sorted((c.start, c.end, c.source_start, c.speed) for t in timeline.tracks
                    if t.kind is TrackKind.VIDEO for c in t.clips)  # fmt: skip
    assert placed == [(0, 96, 2.0, 0.96), (75, 99, 10.0, 0.96)]


def test_an_fcpxml_renders_with_its_clips_sound(tmp_path: Path) -> None:
    """End to end: the asset-clips of a Final Cut export render with their sound (a 440 Hz
    tone in the camera file), not the silence the adapter left."""
    import av

    from workers.render import render_to_file

    make_video(tmp_path / "av.mp4", frames=250, fps=25, size=(160, 90), audio_hz=440)
    path = tmp_path / "cut.fcpxml"
    music = '<asset-clip name="music" ref="r3" lane="-1" offset="0s" duration="3s" start="1s"/>'
    assert music in SOUND
    path.write_text(SOUND.replace(music, ""))  # the camera's own sound only
    out = tmp_path / "out.mp4"
    render_to_file(load(str(path)), str(out))
    with av.open(str(out)) as container:
        assert container.streams.audio, "the render has no sound at all"
        samples = [f.to_ndarray() for f in container.decode(audio=0)]
    level = max(float(abs(s).max()) for s in samples)
    assert level > 0.05  # the tone, well above silence


def test_video_and_audio_items_of_a_storyline(tmp_path: Path) -> None:
    """A ``<video>`` of an asset in the spine is its picture alone, an ``<audio>`` its sound
    alone, at their places (the adapter failed on the whole file for either)."""
    make_video(tmp_path / "av.mp4", frames=250, fps=25, size=(160, 90), audio_hz=440)
    text, found = re.subn(
        r'<asset-clip name="av" ref="r2" offset="4s".*?</asset-clip>',
        '<video name="picture" ref="r2" offset="4s" duration="1s" start="5s"/>'
        '<audio name="voice" ref="r2" offset="5s" duration="1s" start="7s"/>',
        SOUND,
        flags=re.S,
    )
    assert found == 1
    path = tmp_path / "cut.fcpxml"
    path.write_text(text.replace('src="music.wav"', 'src="av.mp4"'))
    timeline = load(str(path))
    kinds = {
        c.id: (t.kind, c.start, c.end, c.source_start) for t in timeline.tracks for c in t.clips
    }
    assert kinds["picture"] == (TrackKind.VIDEO, 100, 125, 5.0)
    assert kinds["voice"] == (TrackKind.AUDIO, 125, 150, 7.0)
    assert not [w for w in timeline.warnings if "generator" in w]


THIRD_RATE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r24" frameDuration="100/2400s" width="160" height="90"/>
    <format id="r25" frameDuration="100/2500s" width="160" height="90"/>
    <format id="r2398" frameDuration="1001/24000s" width="160" height="90"/>
    <asset id="ra" name="cam a" start="0s" duration="10s" hasVideo="1" format="r2398">
      <media-rep kind="original-media" src="a.mp4"/>
    </asset>
    <media id="rm" name="Interview">
      <multicam format="r25" tcStart="0s">
        <mc-angle name="A" angleID="A">
          <asset-clip ref="ra" offset="0s" duration="9s" format="r2398">
            <conform-rate srcFrameRate="23.98"/>
          </asset-clip>
        </mc-angle>
      </multicam>
    </media>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r24" duration="2s" tcStart="0s">
      <spine>
        <mc-clip name="A" ref="rm" offset="0s" duration="2s" start="2s">
          <conform-rate srcFrameRate="25"/>
          <mc-source angleID="A" srcEnable="video"/>
        </mc-clip>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def test_a_multicam_of_a_third_rate_shows_its_angles_frames_one_by_one(tmp_path: Path) -> None:
    """23.98 fps media conformed to a 25 fps multicam, conformed to a 24 fps project: each
    project frame shows the next media frame (1.001x from media frame 50, multicam 2 s); the
    angle's conform was left out (0.96x from 2 s: media frame 48)."""
    make_video(tmp_path / "a.mp4", frames=240, fps=Fraction(24000, 1001), size=(160, 90))
    path = tmp_path / "cut.fcpxml"
    path.write_text(THIRD_RATE)
    timeline = load(str(path))
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert (clip.start, clip.end) == (0, 48)
    media_rate = Fraction(24000, 1001)
    shown = [
        round((Fraction(str(clip.source_start)) + n * Fraction(str(clip.speed)) / 24) * media_rate)
        for n in range(48)
    ]
    assert shown == list(range(50, 98))
