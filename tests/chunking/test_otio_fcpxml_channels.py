"""Which channels of a file FCPXML sound plays (chunking.timeline.otio_fcpxml_channels): heard
in the mix of a dual-mono recording, left 500 Hz, right 3000 Hz."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream

from chunking.timeline.loader import load
from chunking.timeline.model import Timeline, TrackKind
from tests.media import make_video
from workers.audio import mix_timeline

RATE = 48_000
AMP = 0.5
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="r2" name="A" start="0s" duration="6s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="a.mp4"/></asset>
    <asset id="r4" name="S" start="0s" duration="6s" hasAudio="1" audioChannels="2">
      <media-rep kind="original-media" src="s.wav"/></asset>
    <asset id="r5" name="V" start="0s" duration="6s" hasVideo="1" hasAudio="1"
           audioChannels="2" format="r1"><media-rep kind="original-media" src="v.mkv"/></asset>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="3s" tcStart="0s"><spine>
"""
TAIL = "</spine></sequence></project></event></library></fcpxml>\n"


def _stereo(path: Path, video: bool = False) -> None:
    """6 s of sound: 500 Hz on the left, 3000 Hz on the right (and a black picture)."""
    t = np.arange(6 * RATE) / RATE
    left = AMP * np.sin(2 * np.pi * 500 * t)
    right = AMP * np.sin(2 * np.pi * 3000 * t)
    data = np.stack([left, right]).astype(np.float32)
    with av.open(str(path), "w", format="matroska" if video else "wav") as container:
        picture = container.add_stream("libx264", rate=25) if video else None
        stream = container.add_stream("pcm_f32le", rate=RATE, layout="stereo")
        assert isinstance(stream, AudioStream)
        if isinstance(picture, av.VideoStream):  # every stream is added before muxing
            picture.width, picture.height, picture.pix_fmt = 160, 90, "yuv420p"
            for i in range(150):
                frame = av.VideoFrame.from_ndarray(np.zeros((90, 160, 3), np.uint8), "rgb24")
                frame.pts, frame.time_base = i, Fraction(1, 25)
                container.mux(picture.encode(frame))
            container.mux(picture.encode(None))
        for pos in range(0, data.shape[1], 1024):
            chunk = np.ascontiguousarray(data[:, pos : pos + 1024])
            sound = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            sound.sample_rate, sound.pts = RATE, pos
            container.mux(stream.encode(sound))
        container.mux(stream.encode(None))


@pytest.fixture
def media(tmp_path: Path) -> Path:
    """a.mp4 (a picture), s.wav (dual-mono sound) and v.mkv (a picture with that sound)."""
    make_video(tmp_path / "a.mp4", frames=150, fps=25, size=(160, 90))
    _stereo(tmp_path / "s.wav")
    _stereo(tmp_path / "v.mkv", video=True)
    return tmp_path


def read(folder: Path, spine: str) -> Timeline:
    """The timeline of a project whose spine holds ``spine``."""
    path = folder / "cut.fcpxml"
    path.write_text(HEAD + spine + TAIL)
    return load(str(path))


def heard(timeline: Timeline) -> dict[str, tuple[float, float]]:
    """Per ear, the amplitude of the left (500 Hz) and right (3000 Hz) tones over 0.5-2.5 s."""
    mix = mix_timeline(timeline)[:, RATE // 2 : RATE * 5 // 2].astype(np.float64)
    found = {}
    for ear, signal in zip(("left", "right"), mix, strict=True):
        spectrum = np.abs(np.fft.rfft(signal)) * 2 / len(signal)
        bins = [round(hz * len(signal) / RATE) for hz in (500, 3000)]
        found[ear] = (round(spectrum[bins[0]], 2), round(spectrum[bins[1]], 2))
    return found


def channels(timeline: Timeline) -> list[int | None]:
    """The channel each audio clip plays alone (None: all of its file's)."""
    return sorted(
        (c.audio_channel for t in timeline.tracks if t.kind is TrackKind.AUDIO for c in t.clips),
        key=str,
    )


DUAL_MONO = """<clip name="A" offset="0s" duration="3s">
  <video ref="r2" offset="0s" duration="3s"/>
  <clip lane="-1" offset="0s" name="A" duration="3s">
    <audio ref="r4" offset="0s" duration="3s" role="dialogue.MixL" srcCh="1"{first}>
      <audio ref="r4" lane="-1" offset="0s" duration="3s" role="dialogue.MixR" srcCh="2"{second}/>
    </audio>
  </clip>
</clip>"""


def test_dual_mono_components_play_each_channel_once_centred(media: Path) -> None:
    """``<audio srcCh="1">`` holding ``<audio lane="-1" srcCh="2">``: each channel plays alone,
    in both ears, at its level (the file played as it is: 500 Hz left only, 3000 Hz right)."""
    timeline = read(media, DUAL_MONO.format(first="", second=""))
    assert channels(timeline) == [1, 2]
    both = (AMP, AMP)
    assert heard(timeline) == {"left": both, "right": both}
    assert not [w for w in timeline.warnings if "channel" in w]


@pytest.mark.parametrize(("first", "second", "tones"), [
    (' enabled="0"', "", (0.0, AMP)),
    ("", ' enabled="0"', (AMP, 0.0)),
    ("", ' level="-6dB"', (AMP, 0.25)),
])  # fmt: skip
def test_one_dual_mono_channel_switched_off_or_lowered(
    media: Path, first: str, second: str, tones: tuple[float, float]
) -> None:
    """A switched-off channel component is not heard (the whole file played, with a warning
    that it still did); the other plays alone, centred; a component's level is its own."""
    spine = DUAL_MONO.format(first=first, second=second)
    if second.startswith(" level"):  # the second component's own level
        spine = spine.replace(' level="-6dB"/>', '><adjust-volume amount="-6dB"/></audio>')
    timeline = read(media, spine)
    level = heard(timeline)
    assert level["left"] == level["right"]
    assert level["left"] == pytest.approx(tones, abs=0.01)
    assert not [w for w in timeline.warnings if "channel" in w]


@pytest.mark.parametrize(("sources", "tones"), [
    ('<audio-channel-source srcCh="1" enabled="0"/><audio-channel-source srcCh="2"/>',
     ((0.0, AMP), (0.0, AMP))),
    ('<audio-channel-source srcCh="1"/><audio-channel-source srcCh="2" enabled="0"/>',
     ((AMP, 0.0), (AMP, 0.0))),
    ('<audio-channel-source srcCh="1"><adjust-volume amount="-6dB"/></audio-channel-source>'
     '<audio-channel-source srcCh="2"/>', ((0.25, AMP), (0.25, AMP))),
    ('<audio-channel-source srcCh="1, 2"><adjust-volume amount="-6dB"/>'
     "</audio-channel-source>", ((0.25, 0.0), (0.0, 0.25))),
])  # fmt: skip
def test_an_asset_clips_channel_sources_play_apart(
    media: Path, sources: str, tones: tuple[tuple[float, float], ...]
) -> None:
    """An asset-clip's enabled channel sources play their channels alone (centred), each at
    its level: a switched-off channel played, and the channels' levels were not rendered. A
    source of all channels keeps the file's stereo, at its level."""
    timeline = read(
        media, f'<asset-clip ref="r5" name="V" offset="0s" duration="3s">{sources}</asset-clip>'
    )
    level = heard(timeline)
    assert [*level["left"], *level["right"]] == pytest.approx([*tones[0], *tones[1]], abs=0.01)
    assert not [w for w in timeline.warnings if "channel" in w]
    drawn = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert len(drawn) == 1


def test_the_clips_level_applies_to_each_channel(media: Path) -> None:
    """The clip's own level (-6 dB) multiplies each channel's (-6 dB on channel 2)."""
    timeline = read(
        media,
        '<asset-clip ref="r5" name="V" offset="0s" duration="3s">'
        '<adjust-volume amount="-6dB"/><audio-channel-source srcCh="1"/>'
        '<audio-channel-source srcCh="2"><adjust-volume amount="-6dB"/>'
        "</audio-channel-source></asset-clip>",
    )
    assert heard(timeline)["left"] == pytest.approx((0.25, 0.125), abs=0.01)


def test_a_channel_component_is_cut_to_its_clip(media: Path) -> None:
    """A clip trimmed to 2 s of its 3 s dual-mono sound plays both channels for 2 s: the
    second channel's component ran on to 3 s (it was not heard at all before), also when the
    clip is connected to another inside a synchronized clip cut to 1 s."""
    timeline = read(media, DUAL_MONO.format(first="", second="").replace(
        'name="A" duration="3s">', 'name="A" duration="2s">'))  # fmt: skip
    mix = mix_timeline(timeline)
    loud = [float(np.abs(mix[0, s * RATE // 2 : (s + 1) * RATE // 2]).max()) for s in range(6)]
    # Both tones in each ear (peaks adding to 1) for 2 s, then nothing.
    assert [round(level, 1) for level in loud] == [1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    sync = DUAL_MONO.format(first="", second="")
    sync = f'<sync-clip name="S" offset="0s" start="1s" duration="1s">{sync}</sync-clip>'
    timeline = read(media, sync)
    found = sorted(
        (c.start, c.end, c.audio_channel)
        for t in timeline.tracks
        if t.kind is TrackKind.AUDIO
        for c in t.clips
    )
    assert found == [(0, 25, 1), (0, 25, 2)]
