"""Premiere's audio filters in FCP 7 XML: Pan, and Audio Levels keyframes (drawn fades)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import Clip, Timeline, TrackKind
from tests.media import make_image, make_video
from workers.compositor import Compositor

RATE = "<rate><timebase>25</timebase><ntsc>FALSE</ntsc></rate>"


def _parameter(effect_id: str, name: str, value: float, keys: list[tuple[int, float]]) -> str:
    """A filter of one parameter (parameterid ``level``), keyframed with ``keys``."""
    frames = "".join(f"<keyframe><when>{w}</when><value>{v}</value></keyframe>" for w, v in keys)
    return (
        f"<filter><effect><name>{name}</name><effectid>{effect_id}</effectid>"
        "<mediatype>audio</mediatype><parameter><parameterid>level</parameterid>"
        f"<name>{name}</name><value>{value}</value>{frames}</parameter></effect></filter>"
    )


def _load(folder: Path, inner: str, source: int = 0) -> Timeline:
    """A sequence of one audio clipitem (tone.mov from frame ``source``, 75 frames) holding
    ``inner``, loaded."""
    make_video(folder / "tone.mov", frames=150, fps=25, size=(64, 36), audio_hz=440)
    path = folder / "edit.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n<xmeml version="4">'
        f'<sequence id="s"><name>S</name><duration>75</duration>{RATE}<media><audio>'
        '<track><clipitem id="a"><name>tone</name><enabled>TRUE</enabled>'
        f"<duration>150</duration>{RATE}<start>0</start><end>75</end><in>{source}</in>"
        f'<out>{source + 75}</out><file id="f"><name>tone.mov</name><pathurl>tone.mov</pathurl>'
        f"{RATE}<duration>150</duration></file><sourcetrack><mediatype>audio</mediatype>"
        f"<trackindex>1</trackindex></sourcetrack>{inner}</clipitem></track>"
        "</audio></media></sequence></xmeml>\n"
    )
    return load(str(path))


def _clip(timeline: Timeline) -> Clip:
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.AUDIO for c in t.clips]
    return clip


def test_a_hard_left_pan_pans_the_sound_left(tmp_path: Path) -> None:
    timeline = _load(tmp_path, _parameter("audiopan", "Pan", -1, []))
    pans = [e.params.get("pan") for e in _clip(timeline).effects if e.kind == "audiopan"]
    assert pans == [-1.0]


def test_a_keyframed_pan_keeps_its_first_value_with_a_warning(tmp_path: Path) -> None:
    timeline = _load(tmp_path, _parameter("audiopan", "Pan", 0, [(0, 0.5), (50, -0.5)]))
    pans = [e.params.get("pan") for e in _clip(timeline).effects if e.kind == "audiopan"]
    assert pans == [0.5]
    assert any("keyframed Pan" in w for w in timeline.warnings)


@pytest.mark.parametrize("source", [0, 40])
def test_level_keyframes_falling_to_silence_at_the_end_are_a_fade_out(
    tmp_path: Path, source: int
) -> None:
    """1 until 1.48 s, down to -40 dB at the last frame (keyframes in source frames)."""
    keys = [(source, 1.0), (source + 37, 1.0), (source + 74, 0.01)]
    timeline = _load(tmp_path, _parameter("audiolevels", "Audio Levels", 1, keys), source)
    clip = _clip(timeline)
    assert (clip.volume, clip.fade_in, clip.fade_out) == (1.0, 0.0, pytest.approx(1.52))
    assert not [w for w in timeline.warnings if "Audio Levels" in w]


def test_level_keyframes_rising_from_silence_are_a_fade_in_at_their_level(
    tmp_path: Path,
) -> None:
    keys = [(0, 0.0), (25, 0.5), (75, 0.5)]
    timeline = _load(tmp_path, _parameter("audiolevels", "Audio Levels", 0.5, keys))
    clip = _clip(timeline)
    assert (clip.volume, clip.fade_in, clip.fade_out) == (0.5, pytest.approx(1.0), 0.0)


def test_level_keyframes_ducking_mid_clip_play_at_their_average_with_a_warning(
    tmp_path: Path,
) -> None:
    keys = [(0, 1.0), (25, 1.0), (26, 0.25), (49, 0.25), (50, 1.0)]
    timeline = _load(tmp_path, _parameter("audiolevels", "Audio Levels", 1, keys))
    clip = _clip(timeline)
    assert 0.6 < clip.volume < 0.8 and clip.fade_in == clip.fade_out == 0.0
    warned = [w for w in timeline.warnings if "Audio Levels" in w]
    assert warned and "average level" in warned[0] and "not an effect" not in warned[0]


def test_a_fade_out_keyframed_before_the_clip_was_trimmed_keeps_its_place(
    tmp_path: Path,
) -> None:
    """Keyframes in source frames 0..114, the clip using 40..115: steady from its start,
    fading out over its last 2.2 s (source frame 60 on)."""
    keys = [(0, 1.0), (60, 1.0), (114, 0.0)]
    timeline = _load(tmp_path, _parameter("audiolevels", "Audio Levels", 1, keys), 40)
    clip = _clip(timeline)
    assert (clip.volume, clip.fade_in, clip.fade_out) == (1.0, 0.0, pytest.approx(2.2))


def _load_video(folder: Path, inner: str) -> Timeline:
    """A sequence of one video clipitem (white.png, 75 frames) holding ``inner``, loaded."""
    make_image(folder / "white.png", (64, 36), (255, 255, 255, 255))
    path = folder / "edit.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n<xmeml version="4">'
        f'<sequence id="s"><name>S</name><duration>75</duration>{RATE}<media><video><format>'
        "<samplecharacteristics><width>64</width><height>36</height></samplecharacteristics>"
        '</format><track><clipitem id="v"><name>white</name><enabled>TRUE</enabled>'
        f"<duration>75</duration>{RATE}<start>0</start><end>75</end><in>0</in><out>75</out>"
        f'<file id="f"><name>white.png</name><pathurl>white.png</pathurl>{RATE}'
        f"<duration>75</duration></file>{inner}</clipitem></track></video></media></sequence>"
        "</xmeml>\n"
    )
    return load(str(path))


def _opacity(keys: list[tuple[int, float]]) -> str:
    frames = "".join(f"<keyframe><when>{w}</when><value>{v}</value></keyframe>" for w, v in keys)
    return (
        "<filter><effect><name>Opacity</name><effectid>opacity</effectid>"
        "<mediatype>video</mediatype><parameter><parameterid>opacity</parameterid>"
        f"<name>opacity</name><value>100</value>{frames}</parameter></effect></filter>"
    )


def test_opacity_keyframes_are_the_clips_opacity_keyframes(tmp_path: Path) -> None:
    """0 % to 80 % over the first second, back to 0 % over the last: the picture fades in and
    out at 80 %. (The filter was an unknown effect: the picture showed opaque throughout.)"""
    keys = [(0, 0), (25, 80), (50, 80), (75, 0)]
    timeline = _load_video(tmp_path, _opacity(keys))
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert [(k.time, k.opacity) for k in clip.opacity_keys] == [
        (0, 0), (1.0, pytest.approx(0.8)), (2.0, pytest.approx(0.8)), (3.0, 0)
    ]  # fmt: skip
    assert clip.opacity == 1 and not clip.effects and timeline.warnings == ()
    comp = Compositor(timeline)
    try:
        first, middle = comp.frame(0), comp.frame(37)
    finally:
        comp.close()
    assert int(first.max()) < 8 and 195 < int(middle[18, 32].min()) < 215


def test_opacity_keyframes_of_any_shape_are_kept(tmp_path: Path) -> None:
    """A dip in the middle, from source frames: times from the clip's first frame."""
    timeline = _load_video(tmp_path, _opacity([(0, 100), (37, 20), (74, 100)]))
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert [(k.time, k.opacity) for k in clip.opacity_keys] == [
        (0, 1), (1.48, pytest.approx(0.2)), (2.96, 1)
    ]  # fmt: skip


def test_opacity_keyframes_that_fit_no_clip_play_at_their_mean(tmp_path: Path) -> None:
    timeline = _load_video(tmp_path, _opacity([(500, 100), (600, 20)]))
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips]
    assert clip.opacity == pytest.approx(0.6) and not clip.opacity_keys
    assert any("keyframed Opacity" in w and "mean level" in w for w in timeline.warnings)
