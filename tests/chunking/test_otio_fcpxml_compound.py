"""A Final Cut compound clip (``<ref-clip>``) of a video with sound is heard where it shows."""

from __future__ import annotations

from pathlib import Path

from chunking.timeline.loader import load
from chunking.timeline.model import Timeline, TrackKind
from tests.media import make_video

PROJECT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="r2" name="a" start="0s" duration="3s" hasVideo="1" hasAudio="1" format="r1"
           audioSources="1" audioChannels="2">
      <media-rep kind="original-media" src="file://{media}"/>
    </asset>
    <media id="r3" name="Compound">
      <sequence format="r1" duration="1s" tcStart="0s">
        <spine><asset-clip ref="r2" offset="0s" name="a" start="1s" duration="1s"/></spine>
      </sequence>
    </media>
  </resources>
  <library><event name="E"><project name="P">
    <sequence format="r1" duration="3s" tcStart="0s">
      <spine>
        <ref-clip ref="r3" offset="0s" name="Compound" duration="1s"/>
        <gap offset="1s" duration="1s"/>
        <ref-clip ref="r3" offset="2s" name="Compound" duration="1s"/>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def placed(timeline: Timeline, kind: TrackKind) -> list[tuple[int, int, float, float]]:
    """Each clip of this kind that shows or sounds: its frames, source start and speed."""
    return sorted(
        (c.start, c.end, c.source_start, c.speed)
        for t in timeline.tracks
        if t.kind is kind and t.enabled
        for c in t.clips
        if kind is TrackKind.VIDEO or not c.muted  # a video clip is picture only
    )


def project(tmp_path: Path, text: str = PROJECT) -> Timeline:
    media = make_video(tmp_path / "a.mov", frames=75, fps=25, audio_hz=440)
    path = tmp_path / "p.fcpxml"
    path.write_text(text.format(media=media))
    return load(str(path))


def test_compound_clips_are_heard_where_they_show(tmp_path: Path) -> None:
    timeline = project(tmp_path)
    shown = [(0, 25, 1.0, 1.0), (50, 75, 1.0, 1.0)]
    assert placed(timeline, TrackKind.VIDEO) == shown
    assert placed(timeline, TrackKind.AUDIO) == shown  # was silent: the adapter nests the sound


def test_a_compound_clip_whose_sound_is_off_is_silent(tmp_path: Path) -> None:
    first = '<ref-clip ref="r3" offset="0s" name="Compound" duration="1s"/>'
    timeline = project(
        tmp_path, PROJECT.replace(first, first.replace("/>", ' srcEnable="video"/>'))
    )
    assert placed(timeline, TrackKind.VIDEO) == [(0, 25, 1.0, 1.0), (50, 75, 1.0, 1.0)]
    assert placed(timeline, TrackKind.AUDIO) == [(50, 75, 1.0, 1.0)]


def test_a_retimed_compound_clip_plays_at_its_speed(tmp_path: Path) -> None:
    """A two-point timeMap on the second use: half speed, its sound too."""
    second = '<ref-clip ref="r3" offset="2s" name="Compound" duration="1s"/>'
    retimed = (
        '<ref-clip ref="r3" offset="2s" name="Compound" duration="1s"><timeMap>'
        '<timept time="0s" value="0s" interp="linear"/>'
        '<timept time="2s" value="1s" interp="linear"/></timeMap></ref-clip>'
    )
    timeline = project(tmp_path, PROJECT.replace(second, retimed))
    shown = [(0, 25, 1.0, 1.0), (50, 75, 1.0, 0.5)]
    assert placed(timeline, TrackKind.VIDEO) == shown
    assert placed(timeline, TrackKind.AUDIO) == shown


def test_a_trimmed_compound_clip_keeps_its_volume_keys_in_place(tmp_path: Path) -> None:
    """A dip keyed inside a compound clip whose use starts 1 s in: each key moves with the
    clip's first frame, so the dip stays where it was drawn."""
    keyed = (
        '<asset-clip ref="r2" offset="0s" name="a" start="0s" duration="2s"><adjust-volume>'
        '<param name="amount"><keyframeAnimation><keyframe time="0s" value="0dB"/>'
        '<keyframe time="1s" value="0dB"/><keyframe time="3/2s" value="-20dB"/>'
        '<keyframe time="2s" value="0dB"/></keyframeAnimation></param></adjust-volume>'
        "</asset-clip>"
    )
    text = PROJECT.replace(
        '<asset-clip ref="r2" offset="0s" name="a" start="1s" duration="1s"/>', keyed
    ).replace('duration="1s" tcStart', 'duration="2s" tcStart')
    text = text.replace(
        '<ref-clip ref="r3" offset="0s" name="Compound" duration="1s"/>',
        '<ref-clip ref="r3" offset="0s" name="Compound" start="1s" duration="1s"/>',
    )
    timeline = project(tmp_path, text)
    [first] = [
        c for t in timeline.tracks if t.kind is TrackKind.AUDIO for c in t.clips if c.start == 0
    ]
    assert first.source_start == 1.0
    assert [(k.time, k.interpolation) for k in first.volume_keys] == [
        (-1.0, "db"),
        (0.0, "db"),
        (0.5, "db"),
        (1.0, "db"),
    ]
