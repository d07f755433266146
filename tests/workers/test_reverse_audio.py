"""A reversed clip's sound: the forward clip's samples, reversed (workers.reverse_audio)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.model import Clip, Effect, FileSource, Timeline, Track, TrackKind
from tests.media import write_wav
from workers.audio_effects_plan import _extend
from workers.audio_mix import mix_timeline
from workers.probe_ranges import source_sample

RATE = 48_000
FPS = Fraction(24)


@pytest.fixture(scope="module")
def ramp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three seconds rising from -0.75 to 0.75 (right channel the negative): order is audible."""
    rising = np.linspace(-0.75, 0.75, 3 * RATE, dtype=np.float32)
    folder = tmp_path_factory.mktemp("reverse-audio")
    return write_wav(folder / "ramp.wav", np.stack([rising, -rising]), RATE, "pcm_f32le")


def mixed(path: Path, reverse: bool, speed: float = 1.0, effects: tuple[Effect, ...] = ()) -> Any:
    """The mix of the ramp's clip over frames [12, 36) from 0.5 s, forwards or backwards."""
    source = FileSource(str(path))
    clip = Clip("c", "t", source, 12, 36, source_start=0.5, speed=speed, reverse=reverse,
                effects=effects)  # fmt: skip
    track = Track("t", TrackKind.AUDIO, clips=(clip,))
    tl = Timeline(fps=FPS, width=64, height=36, frames=48, sample_rate=RATE, tracks=(track,))
    return mix_timeline(tl)


@pytest.mark.parametrize("speed", [1.0, 0.5, 2.0])
def test_a_reversed_clip_plays_its_forward_samples_backwards(ramp: Path, speed: float) -> None:
    ahead, back = mixed(ramp, False, speed=speed), mixed(ramp, True, speed=speed)
    part = slice(RATE // 2, RATE * 3 // 2)  # the clip: frames [12, 36) at 24 fps
    assert np.array_equal(back[:, part], ahead[:, part][:, ::-1])
    assert not back[:, : RATE // 2].any() and not back[:, RATE * 3 // 2 :].any()
    assert back[0, RATE // 2] > back[0, RATE * 3 // 2 - 1]  # falling: played backwards


def test_a_reversed_clip_with_sound_effects_is_reversed_before_them(ramp: Path) -> None:
    """A clip with effects is decoded whole first (audio_mix's buffered path)."""
    pan = (Effect("p", "audiopan", {"pan": 0.5}),)
    ahead, back = mixed(ramp, False, effects=pan), mixed(ramp, True, effects=pan)
    part = slice(RATE // 2, RATE * 3 // 2)
    assert np.array_equal(back[:, part], ahead[:, part][:, ::-1])
    assert not np.array_equal(back, mixed(ramp, True))  # the pan ran


@pytest.mark.parametrize("reverse", [False, True])
def test_a_crossfade_handle_keeps_every_frames_source_time(reverse: bool) -> None:
    clip = Clip(
        "c", "t", FileSource("/m.wav"), 24, 48, source_start=2.0, speed=1.5, reverse=reverse
    )
    longer = _extend(clip, 20, 52, FPS)
    assert (longer.start, longer.end) == (20, 52)
    for t in range(24, 48):
        assert source_sample(longer, t, FPS) == source_sample(clip, t, FPS)
