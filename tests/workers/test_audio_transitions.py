"""Two clips joined by a transition (a dissolve in a ProjectSchema project, on a video track
with their sound or on an audio track) overlap over its window, and their sounds played there
both at full level: the outgoing sound ran on past its cut over the incoming one and stopped
dead at the window's end, the incoming one started dead at its start. They crossfade over the
window now (linearly, as acrossfade), unless the clips fade there of themselves."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from chunking.timeline.model import Clip, FileSource, Timeline, Track, TrackKind, Transition
from tests.media import write_wav
from workers.audio import mix_timeline

RATE = 48_000
FPS = Fraction(24)
#: The transition's window, in frames and in samples.
LO, HI = 18, 30
S_LO, S_HI = LO * RATE // 24, HI * RATE // 24


def _tone(path: Path, hz: float) -> Path:
    t = np.arange(3 * RATE) / RATE
    data = np.tile(0.4 * np.sin(2 * np.pi * hz * t), (2, 1)).astype(np.float32)
    return write_wav(path, data, RATE)


def _level(x: npt.NDArray[np.floating], hz: float) -> float:
    """Amplitude of the ``hz`` component of a stretch of the mix's left channel."""
    t = np.arange(x.shape[-1]) / RATE
    return float(2 * abs(np.mean(x[0] * np.exp(-2j * np.pi * hz * t))))


def _mix(tmp_path: Path, kind: TrackKind, fades: float = 0.0) -> npt.NDArray[np.float32]:
    a = Clip("A", "t", FileSource(str(_tone(tmp_path / "a.wav", 440))), 0, HI, fade_out=fades)
    b = Clip("B", "t", FileSource(str(_tone(tmp_path / "b.wav", 1000))), LO, 48, fade_in=fades)
    return mix_timeline(
        Timeline(
            fps=FPS,
            width=64,
            height=48,
            frames=48,
            tracks=(Track("t", kind, clips=(a, b)),),
            transitions=(Transition("x", "dissolve", "A", "B", LO, HI),),
        )
    )


@pytest.mark.parametrize("kind", [TrackKind.VIDEO, TrackKind.AUDIO])
def test_clips_a_transition_joins_crossfade_over_its_window(
    tmp_path: Path, kind: TrackKind
) -> None:
    mix = _mix(tmp_path, kind)
    span = 1200  # 25 ms
    assert _level(mix[:, S_LO - span : S_LO], 440) == pytest.approx(0.4, abs=0.01)
    # The incoming sound rises from silence, the outgoing one falls to it: no dead start/stop.
    assert _level(mix[:, S_LO : S_LO + span], 1000) < 0.03
    assert _level(mix[:, S_HI - span : S_HI], 440) < 0.03
    middle = (S_LO + S_HI) // 2
    for hz in (440, 1000):
        assert _level(mix[:, middle - span // 2 : middle + span // 2], hz) == pytest.approx(
            0.2, abs=0.02
        )
    assert _level(mix[:, S_HI : S_HI + span], 1000) == pytest.approx(0.4, abs=0.01)


def test_clips_that_fade_over_the_transition_are_not_faded_twice(tmp_path: Path) -> None:
    # An OTIO import's audio transition: the loader made it the clips' own fades.
    mix = _mix(tmp_path, TrackKind.AUDIO, fades=float(Fraction(HI - LO) / FPS))
    middle = (S_LO + S_HI) // 2
    for hz in (440, 1000):
        assert _level(mix[:, middle - 600 : middle + 600], hz) == pytest.approx(0.2, abs=0.02)
