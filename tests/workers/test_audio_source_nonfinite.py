"""A float WAV holding a NaN or an infinite sample (a damaged file, a plug-in's bug, a hostile
upload) failed an MP4 render with "audio encoder aac failed: Invalid argument", naming neither
clip nor file, and a filter on the clip smeared the NaN over the rest of it. Such samples are
silence now: the render finishes and the sound around them plays as it is."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from chunking.timeline.model import Clip, Effect, FileSource, Timeline, Track, TrackKind
from tests.media import write_wav
from workers.audio import mix_timeline
from workers.render import render_to_file

RATE = 48_000
FPS = Fraction(24)
#: Where the bad samples are, in samples from the start of the file (and the timeline).
NAN_AT, INF_AT = 24_000, 48_000


def _damaged_wav(path: Path) -> Path:
    """Two seconds of a 1 kHz sine at 0.3 in float32, one NaN and one +inf sample in it."""
    t = np.arange(2 * RATE) / RATE
    data = np.tile(0.3 * np.sin(2 * np.pi * 1000 * t), (2, 1)).astype(np.float32)
    data[:, NAN_AT] = np.nan
    data[:, INF_AT] = np.inf
    return write_wav(path, data, RATE, "pcm_f32le")


def _timeline(path: Path, effects: tuple[Effect, ...] = ()) -> Timeline:
    clip = Clip("tone", "a", FileSource(str(path)), start=0, end=48, effects=effects)
    track = Track("a", TrackKind.AUDIO, clips=(clip,))
    return Timeline(fps=FPS, width=64, height=48, frames=48, tracks=(track,))


def _rms(x: npt.NDArray[np.floating]) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


LOWPASS = Effect(id="lp", kind="audiolowpass", params={"frequency": 5000.0})


@pytest.mark.parametrize("effects", [(), (LOWPASS,)], ids=["plain", "lowpass"])
def test_nan_and_inf_samples_are_silence_and_the_rest_plays(
    tmp_path: Path, effects: tuple[Effect, ...]
) -> None:
    mix = mix_timeline(_timeline(_damaged_wav(tmp_path / "damaged.wav"), effects))
    assert np.isfinite(mix).all()
    assert np.abs(mix[:, INF_AT - 5 : INF_AT + 5]).max() < 0.31  # no full-scale click
    # Away from the bad samples the tone is whole, after them too (no smeared NaN).
    for lo in (1_000, NAN_AT + 1_000, INF_AT + 1_000, 80_000):
        assert _rms(mix[:, lo : lo + 4_800]) == pytest.approx(0.3 / np.sqrt(2), rel=0.02)


def test_an_mp4_render_of_a_damaged_float_wav_finishes_with_its_sound(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    render_to_file(_timeline(_damaged_wav(tmp_path / "damaged.wav")), str(out))
    with av.open(str(out)) as container:
        decoded = np.concatenate(
            [f.to_ndarray() for f in container.decode(container.streams.audio[0])], axis=1
        )
    assert np.isfinite(decoded).all()
    assert _rms(decoded[:, 60_000:90_000]) == pytest.approx(0.3 / np.sqrt(2), rel=0.05)
