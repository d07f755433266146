"""FCPXML sound components and switches (chunking.timeline.otio_fcpxml_components): which
file's sound plays when, and which pictures are drawn."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import Timeline, TrackKind
from tests.media import make_video

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="r2" name="A" start="0s" duration="6s" hasVideo="1" hasAudio="1"
           audioChannels="2" format="r1"><media-rep kind="original-media" src="a.mp4"/></asset>
    <asset id="r3" name="D" start="0s" duration="6s" hasVideo="1" hasAudio="1"
           audioChannels="2" format="r1"><media-rep kind="original-media" src="d.mp4"/></asset>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="6s" tcStart="0s"><spine>
"""
TAIL = "</spine></sequence></project></event></library></fcpxml>\n"


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """Two camera files with sound: a.mp4 and d.mp4."""
    make_video(tmp_path / "a.mp4", frames=150, fps=25, size=(160, 90), audio_hz=440)
    make_video(tmp_path / "d.mp4", frames=150, fps=25, size=(160, 90), audio_hz=1000)
    return tmp_path


def read(folder: Path, spine: str) -> Timeline:
    """The timeline of a project whose spine holds ``spine``."""
    path = folder / "cut.fcpxml"
    path.write_text(HEAD + spine + TAIL)
    return load(str(path))


def placed(timeline: Timeline, kind: TrackKind) -> list[tuple[str, int, int, float]]:
    """Each clip of the tracks of ``kind``: its file, where it plays, its source start."""
    found = [
        (str(getattr(c.source, "path", "")).rsplit("/", 1)[-1], c.start, c.end, c.source_start)
        for t in timeline.tracks
        if t.kind is kind
        for c in t.clips
    ]
    return sorted(found, key=lambda clip: (clip[1], clip[0]))


def test_a_sound_only_use_of_a_video_is_not_drawn(media: Path) -> None:
    """A connected asset-clip with ``srcEnable="audio"`` plays its sound; its picture is not
    drawn where the storyline above it ends (it was, from 2 s to 3 s)."""
    timeline = read(
        media,
        '<asset-clip ref="r2" name="A" offset="0s" duration="2s">'
        '<asset-clip ref="r3" name="D" lane="-1" offset="0s" duration="3s" srcEnable="audio"/>'
        "</asset-clip>",
    )
    assert placed(timeline, TrackKind.VIDEO) == [("a.mp4", 0, 50, 0.0)]
    assert placed(timeline, TrackKind.AUDIO) == [("a.mp4", 0, 50, 0.0), ("d.mp4", 0, 75, 0.0)]


@pytest.mark.parametrize("has_video", [' hasVideo="0"', ""])
def test_a_sound_file_in_the_storyline_is_heard_not_drawn(media: Path, has_video: str) -> None:
    """Music or a voice-over in the primary storyline (an asset-clip of a file with sound and
    no picture) was drawn: validate failed on the picture its file does not have. It plays
    on a sound track where it sits; the connected one beside it too."""
    with wave.open(str(media / "song.wav"), "wb") as sound:  # 6 s of silence, no picture
        sound.setnchannels(2)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\0\0\0\0" * 8000 * 6)
    song = (
        f'<asset id="r9" name="song" start="0s" duration="6s" hasAudio="1"{has_video} '
        'audioChannels="2"><media-rep kind="original-media" src="song.wav"/></asset>'
    )
    path = media / "cut.fcpxml"
    path.write_text(
        HEAD.replace("</resources>", song + "</resources>")
        + '<asset-clip ref="r2" name="A" offset="0s" duration="2s">'
        '<asset-clip ref="r9" name="bed" lane="-1" offset="0s" start="3s" duration="2s"/>'
        "</asset-clip>"
        '<asset-clip ref="r9" name="song" offset="2s" start="1s" duration="2s"/>'
        '<asset-clip ref="r3" name="D" offset="4s" duration="2s"/>' + TAIL
    )
    timeline = load(str(path))
    assert placed(timeline, TrackKind.VIDEO) == [("a.mp4", 0, 50, 0.0), ("d.mp4", 100, 150, 0.0)]
    assert placed(timeline, TrackKind.AUDIO) == [
        ("a.mp4", 0, 50, 0.0),
        ("song.wav", 0, 50, 3.0),
        ("song.wav", 50, 100, 1.0),
        ("d.mp4", 100, 150, 0.0),
    ]


def test_sound_only_clips_are_not_drawn(media: Path) -> None:
    """A ``<clip srcEnable="audio">`` plays its sound, connected or in the storyline, and
    draws none of its picture (the connected one's covered 2 s to 3 s)."""
    timeline = read(
        media,
        '<asset-clip ref="r2" name="A" offset="0s" duration="2s">'
        '<clip name="C" lane="-1" offset="0s" duration="3s" srcEnable="audio">'
        '<video ref="r3" offset="0s" duration="3s"/>'
        '<audio ref="r3" lane="-1" offset="0s" duration="3s"/></clip></asset-clip>'
        '<clip name="S" offset="2s" duration="1s" srcEnable="audio">'
        '<video ref="r3" offset="0s" start="1s" duration="1s"/>'
        '<audio ref="r3" offset="0s" start="1s" duration="1s"/></clip>',
    )
    assert placed(timeline, TrackKind.VIDEO) == [("a.mp4", 0, 50, 0.0)]
    assert placed(timeline, TrackKind.AUDIO) == [
        ("a.mp4", 0, 50, 0.0),
        ("d.mp4", 0, 75, 0.0),
        ("d.mp4", 50, 75, 1.0),
    ]


def voices(timeline: Timeline) -> list[tuple[str, int, int, int | None]]:
    """Each audio clip: its file, where it plays and the one channel it plays (None: all)."""
    found = [
        (str(getattr(c.source, "path", "")).rsplit("/", 1)[-1], c.start, c.end, c.audio_channel)
        for t in timeline.tracks
        if t.kind is TrackKind.AUDIO
        for c in t.clips
    ]
    return sorted(found, key=str)


DUAL_MONO = """<clip name="{name}" offset="{offset}" duration="3s">
  <video ref="{ref}" offset="0s" duration="3s"/>
  <clip lane="-1" offset="0s" name="{name}" duration="3s">
    <audio ref="{ref}" offset="0s" duration="3s" role="dialogue.MixL" srcCh="1"{first}>
      <audio ref="{ref}" lane="-1" offset="0s" duration="3s" role="dialogue.MixR" srcCh="2"/>
    </audio>
  </clip>
</clip>"""


def test_dual_mono_components_play_once_where_their_clip_is(media: Path) -> None:
    """Final Cut's dual-mono sound (``<audio srcCh="1">`` holding ``<audio lane="-1"
    srcCh="2">``) plays each channel once, with its clip: the second channel played after the
    first, over the next clip, and pushed the next clip's sound past the end."""
    timeline = read(
        media,
        DUAL_MONO.format(name="A", offset="0s", ref="r2", first="")
        + DUAL_MONO.format(name="D", offset="3s", ref="r3", first=""),
    )
    assert placed(timeline, TrackKind.VIDEO) == [("a.mp4", 0, 75, 0.0), ("d.mp4", 75, 150, 0.0)]
    assert voices(timeline) == [
        ("a.mp4", 0, 75, 1),
        ("a.mp4", 0, 75, 2),
        ("d.mp4", 75, 150, 1),
        ("d.mp4", 75, 150, 2),
    ]
    assert not [w for w in timeline.warnings if "channel" in w]


def test_a_switched_off_component_leaves_its_sibling_playing(media: Path) -> None:
    """With the first channel's component disabled, the second plays alone (the whole file
    played, with a warning), at its clip's place."""
    timeline = read(
        media,
        DUAL_MONO.format(name="A", offset="0s", ref="r2", first="")
        + DUAL_MONO.format(name="D", offset="3s", ref="r3", first=' enabled="0"'),
    )
    assert voices(timeline) == [("a.mp4", 0, 75, 1), ("a.mp4", 0, 75, 2), ("d.mp4", 75, 150, 2)]
    assert not [w for w in timeline.warnings if "channel" in w]


def test_components_anchored_to_a_picture_or_an_asset_clip_are_sound(media: Path) -> None:
    """``<audio lane=...>`` anchored to a clip's ``<video>`` or to an asset-clip is that clip's
    sound at its place: it was drawn as pictures laid end to end (A's picture again where D's
    belongs) and the render had no sound."""
    timeline = read(
        media,
        '<clip name="A" offset="0s" duration="3s"><video ref="r2" offset="0s" duration="3s">'
        '<audio lane="-1" ref="r2" offset="0s" duration="3s" srcCh="1"/>'
        '<audio lane="-2" ref="r2" offset="0s" duration="3s" srcCh="2"/>'
        "</video></clip>"
        '<asset-clip ref="r3" name="D" offset="3s" duration="3s" srcEnable="video">'
        '<audio ref="r2" lane="-1" offset="1s" start="1s" duration="2s"/></asset-clip>',
    )
    assert placed(timeline, TrackKind.VIDEO) == [("a.mp4", 0, 75, 0.0), ("d.mp4", 75, 150, 0.0)]
    assert placed(timeline, TrackKind.AUDIO) == [
        ("a.mp4", 0, 75, 0.0),
        ("a.mp4", 0, 75, 0.0),
        ("a.mp4", 100, 150, 1.0),
    ]
    assert voices(timeline) == [("a.mp4", 0, 75, 1), ("a.mp4", 0, 75, 2), ("a.mp4", 100, 150, None)]


def test_switched_off_audio_channel_sources(media: Path) -> None:
    """A clip whose only audio channel source is switched off plays no sound (it played at
    full level); one with only some of them off plays its enabled channel alone (it played
    them all, with a warning)."""
    timeline = read(
        media,
        '<asset-clip ref="r2" name="A" offset="0s" duration="3s">'
        '<audio-channel-source srcCh="1, 2" role="dialogue.dialogue-1" enabled="0"/>'
        "</asset-clip>"
        '<asset-clip ref="r3" name="D" offset="3s" duration="3s">'
        '<audio-channel-source srcCh="1" role="dialogue.dialogue-1" enabled="0"/>'
        '<audio-channel-source srcCh="2" role="dialogue.dialogue-2"/></asset-clip>',
    )
    assert voices(timeline) == [("d.mp4", 75, 150, 2)]
    assert not [w for w in timeline.warnings if "channel" in w]


def test_a_sync_clips_switched_off_role_is_silent(media: Path) -> None:
    """A synchronized clip whose camera sound's role is switched off (the recorder's sound
    kept) plays the recorder alone: the camera's scratch sound was mixed in."""
    timeline = read(
        media,
        '<sync-clip offset="0s" name="S" duration="3s">'
        '<asset-clip ref="r2" offset="0s" name="A" duration="3s" audioRole="dialogue">'
        '<asset-clip ref="r3" lane="-1" offset="0s" name="D" duration="3s" srcEnable="audio">'
        '<audio-channel-source srcCh="1, 2" role="effects.effects-1"/></asset-clip>'
        '<audio-channel-source srcCh="1, 2" role="music.music-1"/></asset-clip>'
        '<sync-source sourceID="storyline"><audio-role-source role="music" active="0"/>'
        "</sync-source></sync-clip>",
    )
    assert placed(timeline, TrackKind.VIDEO) == [("a.mp4", 0, 75, 0.0)]
    assert placed(timeline, TrackKind.AUDIO) == [("d.mp4", 0, 75, 0.0)]


def test_overlapping_anchored_sounds_are_stacked(media: Path) -> None:
    """A clip's anchored sound running on under the next clip's (an L cut written with
    components) plays beside it: the next one's was pushed after it."""
    timeline = read(
        media,
        '<asset-clip ref="r2" name="A" offset="0s" duration="3s" srcEnable="video">'
        '<audio ref="r2" lane="-1" offset="0s" duration="4s"/></asset-clip>'
        '<asset-clip ref="r3" name="D" offset="3s" duration="3s" srcEnable="video">'
        '<audio ref="r3" lane="-1" offset="0s" duration="3s"/></asset-clip>',
    )
    assert placed(timeline, TrackKind.AUDIO) == [("a.mp4", 0, 100, 0.0), ("d.mp4", 75, 150, 0.0)]


def test_a_multicam_clips_switched_off_sound_is_silent(media: Path, tmp_path: Path) -> None:
    """A multicam clip whose audio channel sources are all off draws its video angle and
    plays nothing: its audio angle's sound played."""
    multicam = (
        '<media id="r9" name="MC"><multicam format="r1">'
        '<mc-angle name="Cam A" angleID="a1"><asset-clip ref="r2" offset="0s" duration="6s"/>'
        '</mc-angle><mc-angle name="Cam D" angleID="a2">'
        '<asset-clip ref="r3" offset="0s" duration="6s"/></mc-angle></multicam></media>'
    )
    path = tmp_path / "cut.fcpxml"
    path.write_text(
        HEAD.replace("</resources>", multicam + "</resources>")
        + '<mc-clip ref="r9" offset="0s" name="MC" start="1s" duration="2s">'
        '<mc-source angleID="a1" srcEnable="video"/><mc-source angleID="a2" srcEnable="audio"/>'
        '<audio-channel-source srcCh="1, 2" enabled="0"/></mc-clip>' + TAIL
    )
    timeline = load(str(path))
    assert placed(timeline, TrackKind.VIDEO) == [("a.mp4", 0, 50, 1.0)]
    assert placed(timeline, TrackKind.AUDIO) == []


def test_sound_anchored_to_a_storylines_own_component(media: Path) -> None:
    """A sound anchored to a ``<video>`` or ``<audio>`` of the storyline itself plays at its
    place in that item's time: the whole file was refused as unreadable."""
    timeline = read(
        media,
        '<video ref="r2" name="A" offset="0s" start="1s" duration="2s">'
        '<audio ref="r3" lane="-1" offset="1s" start="0s" duration="2s"/></video>'
        '<audio ref="r2" name="S" offset="2s" start="2s" duration="1s">'
        '<audio ref="r3" lane="-1" offset="2s" start="2s" duration="1s"/></audio>',
    )
    assert placed(timeline, TrackKind.VIDEO) == [("a.mp4", 0, 50, 1.0)]
    assert placed(timeline, TrackKind.AUDIO) == [
        ("d.mp4", 0, 50, 0.0),
        ("a.mp4", 50, 75, 2.0),
        ("d.mp4", 50, 75, 2.0),
    ]
