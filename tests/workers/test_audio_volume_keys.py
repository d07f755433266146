"""A clip's volume envelope (``volume_keys``) is played per sample: a dip under a voice-over
dips, exactly where the keys say, the same in a render of a range as in the whole. It used to be
approximated by the importers (one level plus fades, any other shape its average level)."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from chunking.timeline.model import (
    Clip,
    ExportSettings,
    FileSource,
    Timeline,
    Track,
    TrackKind,
    VolumeKey,
)  # fmt: skip
from chunking.timeline.volume_keys import key_volume
from tests.media import write_wav
from workers.audio_mix import mix_timeline, sample_offset
from workers.audio_output import render_audio_only
from workers.audio_volume_keys import key_gains

RATE = 48_000
DIP = (VolumeKey(1.0, 1.0), VolumeKey(1.5, 0.25), VolumeKey(2.5, 0.25), VolumeKey(3.0, 1.0))


@pytest.mark.parametrize(
    ("keys", "seconds", "gains"),
    [
        (DIP, [0.0, 1.0, 1.125, 1.25, 1.5, 2.0, 2.5, 2.75, 3.0, 4.0],
         [1.0, 1.0, 0.8125, 0.625, 0.25, 0.25, 0.25, 0.625, 1.0, 1.0]),
        ((VolumeKey(0.5, 2.0),), [0.0, 0.5, 9.0], [2.0, 2.0, 2.0]),
        ((VolumeKey(0.0, 1.0, "db"), VolumeKey(2.0, 0.01)), [-1.0, 0.0, 0.5, 1.0, 2.0, 3.0],
         [1.0, 1.0, 10 ** (-10 / 20), 0.1, 0.01, 0.01]),
        ((VolumeKey(0.0, 0.0, "db"), VolumeKey(1.0, 1.0, "db")), [0.0, 0.25, 1.0],
         [0.0, 0.25, 1.0]),  # a silent end has no dB level: a linear fade
        ((VolumeKey(0.0, 1.0, "db"), VolumeKey(1.0, 0.5), VolumeKey(2.0, 1.0)),
         [0.5, 1.5], [2 ** -0.5, 0.75]),  # each stretch by its first key's interpolation
        ((VolumeKey(0.0, 1.0), VolumeKey(1.0, 1.0), VolumeKey(1.0, 0.5)), [0.5, 1.0, 2.0],
         [1.0, 0.5, 0.5]),  # a step: two keys at one time, the later from there
    ],
)  # fmt: skip
def test_the_envelope_gives_these_gains_per_sample(
    keys: tuple[VolumeKey, ...], seconds: list[float], gains: list[float]
) -> None:
    got = key_gains(keys, np.array(seconds, dtype=np.float64))
    np.testing.assert_allclose(got, gains, rtol=1e-12, atol=1e-15)
    assert [key_volume(keys, s) for s in seconds] == pytest.approx(gains, rel=1e-12)
    assert np.isfinite(got).all()


def _stereo(mono: np.ndarray) -> np.ndarray:
    return np.tile(mono, (2, 1)).astype(np.float32)


def _timeline(path: Path, fps: Fraction, frames: int, start: int, keys: tuple[VolumeKey, ...]):
    clip = Clip("c", "a", FileSource(str(path)), start, frames, volume_keys=keys)
    track = Track("a", TrackKind.AUDIO, clips=(clip,))
    return Timeline(fps, 64, 36, frames, sample_rate=RATE, tracks=(track,))


def test_a_tone_dips_where_the_keys_say(tmp_path: Path) -> None:
    t = np.arange(4 * RATE) / RATE
    tone = write_wav(tmp_path / "tone.wav", _stereo(0.5 * np.sin(2 * np.pi * 440 * t)), RATE)
    mix = mix_timeline(_timeline(tone, Fraction(25), 100, 0, DIP))

    def rms(a: float, b: float) -> float:
        return float(np.sqrt(np.mean(mix[0, round(a * RATE) : round(b * RATE)] ** 2)))

    full = 0.5 / np.sqrt(2)
    assert rms(0.0, 1.0) == pytest.approx(full, rel=1e-3)
    assert rms(1.75, 2.25) == pytest.approx(0.25 * full, rel=1e-3)  # -12 dB under the voice
    assert rms(3.0, 4.0) == pytest.approx(full, rel=1e-3)
    # Halfway down the ramp (1.2 s to 1.3 s): about the level at 1.25 s.
    assert rms(1.2, 1.3) == pytest.approx(0.625 * full, rel=2e-2)


def test_each_sample_gets_the_keys_gain_at_its_exact_time(tmp_path: Path) -> None:
    """At 30000/1001 fps a frame seldom starts on a sample: sample i of a clip sounds at
    (first + i) / rate - start / fps after the clip's first frame, not i / rate."""
    dc = write_wav(tmp_path / "dc.wav", np.full((2, 3 * RATE), 0.5, np.float32), RATE)
    fps, start = Fraction(30000, 1001), 7
    keys = (VolumeKey(0.0, 0.0), VolumeKey(0.5, 1.0), VolumeKey(1.0, 0.0))
    timeline = _timeline(dc, fps, 60, start, keys)
    mix = mix_timeline(timeline)
    first, last = sample_offset(start, timeline), sample_offset(60, timeline)
    assert Fraction(first, RATE) != Fraction(start) / fps  # the case this is about
    want = [
        0.5 * key_volume(keys, float(Fraction(first + i, RATE) - Fraction(start) / fps))
        for i in range(last - first)
    ]
    np.testing.assert_allclose(mix[0, first:last], want, atol=1e-6)
    assert not mix[:, :first].any()


def _decoded(path: Path) -> np.ndarray:
    with av.open(str(path)) as result:
        frames = [f.to_ndarray() for f in result.decode(result.streams.audio[0])]
    return np.concatenate([f.reshape(-1, 2).T if f.shape[0] == 1 else f for f in frames], axis=1)


def test_a_render_range_has_the_samples_of_the_whole(tmp_path: Path) -> None:
    t = np.arange(4 * RATE) / RATE
    tone = write_wav(tmp_path / "tone.wav", _stereo(0.5 * np.sin(2 * np.pi * 300 * t)), RATE)
    timeline = _timeline(tone, Fraction(30000, 1001), 100, 3, DIP)
    timeline = dataclasses.replace(timeline, export=ExportSettings(container="wav"))
    render_audio_only(timeline, str(tmp_path / "whole.wav"), 0, 100)
    render_audio_only(timeline, str(tmp_path / "part.wav"), 41, 77)
    whole, part = _decoded(tmp_path / "whole.wav"), _decoded(tmp_path / "part.wav")
    first, last = sample_offset(41, timeline), sample_offset(77, timeline)
    assert part.shape[1] == last - first
    np.testing.assert_array_equal(part, whole[:, first:last])
    assert np.abs(whole[:, first:last]).max() > 0


def test_a_crossfade_that_lengthens_a_clip_keeps_its_keys_in_place(tmp_path: Path) -> None:
    """A dissolve reads the incoming clip from before its start: its keys, counted from its
    first frame, must move with that frame so each still falls at the same timeline moment."""
    from chunking.timeline.model import Transition
    from workers.audio_effects_plan import plan_clips

    keys = (VolumeKey(0.5, 1.0), VolumeKey(1.0, 0.1))
    a = Clip("a", "t", FileSource("a.wav"), 0, 30)
    b = Clip("b", "t", FileSource("b.wav"), 30, 60, source_start=2.0, volume_keys=keys)
    timeline = Timeline(
        Fraction(30), 64, 36, 60, tracks=(Track("t", TrackKind.AUDIO, clips=(a, b)),),
        transitions=(Transition("x", "dissolve", "a", "b", 24, 36),),
    )  # fmt: skip
    [played] = [plan.clip for plan in plan_clips(timeline) if plan.clip.id == "b"]
    assert played.start < 30  # lengthened back into the crossfade
    lead = (30 - played.start) / 30
    assert played.volume_keys == (VolumeKey(0.5 + lead, 1.0), VolumeKey(1.0 + lead, 0.1))
