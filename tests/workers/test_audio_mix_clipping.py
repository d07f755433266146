"""Tracks that sum past full scale (three loud music beds, a clip at volume 10) were clipped
hard with no word: the render sounded distorted and said nothing. It is still clipped (as an
NLE's export is), but the render's warnings now say by how much, where it starts and what to
do, in --direct and chunked renders alike."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from chunking.timeline.model import Clip, FileSource, Timeline, Track, TrackKind
from tests.media import write_wav
from workers.audio import mix_timeline
from workers.render import render_to_file

RATE = 48_000
FPS = Fraction(24)


def _tone(path: Path, amp: float) -> Path:
    """Two seconds of a 440 Hz sine at ``amp``, stereo 16-bit WAV."""
    t = np.arange(2 * RATE) / RATE
    data = np.tile(amp * np.sin(2 * np.pi * 440 * t), (2, 1)).astype(np.float32)
    return write_wav(path, data, RATE)


def _beds(path: Path, count: int, start: int = 24) -> Timeline:
    """``count`` tracks each playing the tone from frame ``start`` to the end (2 s)."""
    tracks = tuple(
        Track(f"t{i}", TrackKind.AUDIO, clips=(Clip(f"bed{i}", f"t{i}", FileSource(str(path)),
                                                     start=start, end=48),))
        for i in range(count)
    )  # fmt: skip
    return Timeline(fps=FPS, width=64, height=48, frames=48, tracks=tracks)


def test_a_mix_past_full_scale_is_clipped_and_says_how_much_and_from_when(
    tmp_path: Path,
) -> None:
    notes: list[str] = []
    mix = mix_timeline(_beds(_tone(tmp_path / "bed.wav", 0.5), 3), notes)
    assert np.abs(mix).max() <= 1.0
    [note] = notes
    assert "3.5 dB over full scale" in note  # 3 x 0.5 = 1.5
    assert "first at 1.00 s" in note  # where the beds come in (frame 24)
    assert "lower the volume" in note


def test_a_mix_within_full_scale_says_nothing(tmp_path: Path) -> None:
    notes: list[str] = []
    mix_timeline(_beds(_tone(tmp_path / "bed.wav", 0.3), 3), notes)  # 0.9 at the most
    assert notes == []


def test_a_direct_render_warns_of_its_clipped_mix(tmp_path: Path) -> None:
    timeline = _beds(_tone(tmp_path / "bed.wav", 0.5), 3)
    summary = render_to_file(timeline, str(tmp_path / "out.mp4"))
    assert any("dB over full scale" in w for w in summary.warnings)
    quiet = _beds(_tone(tmp_path / "quiet.wav", 0.3), 3)
    summary = render_to_file(quiet, str(tmp_path / "quiet.mp4"))
    assert not any("full scale" in w for w in summary.warnings)
