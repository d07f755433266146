"""A surround source folded into the stereo mix: BS.775 weights, LFE dropped, never past full
scale (swresample's float fold summed L + 0.707 C + 0.707 Ls unnormalised and clipped)."""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np
import pytest

from chunking.timeline.project import read_project
from tests.media import project
from workers.audio_downmix import downmix_matrix
from workers.audio_source import clip_audio

R = math.sqrt(0.5)
FIVE_ONE = 1 + 2 * R  # the row sum of a 5.1 fold's left (FL, FC, BL) before normalising


@pytest.mark.parametrize(
    ("channels", "left", "right"),
    [
        (["FL", "FR"], [1, 0], [0, 1]),
        (["FL", "FR", "LFE"], [1, 0, 0], [0, 1, 0]),
        (
            ["FL", "FR", "FC", "LFE", "BL", "BR"],
            [1 / FIVE_ONE, 0, R / FIVE_ONE, 0, R / FIVE_ONE, 0],
            [0, 1 / FIVE_ONE, R / FIVE_ONE, 0, 0, R / FIVE_ONE],
        ),
        (
            ["FL", "FR", "FC", "LFE", "SL", "SR"],
            [1 / FIVE_ONE, 0, R / FIVE_ONE, 0, R / FIVE_ONE, 0],
            [0, 1 / FIVE_ONE, R / FIVE_ONE, 0, 0, R / FIVE_ONE],
        ),
    ],
)
def test_downmix_weights(channels: list[str], left: list[float], right: list[float]) -> None:
    matrix = downmix_matrix(channels)
    assert matrix[0] == pytest.approx(left, abs=1e-6)
    assert matrix[1] == pytest.approx(right, abs=1e-6)


@pytest.mark.parametrize("layout", ["5.1", "5.1(side)", "7.1", "7.1(wide)", "6.1", "hexagonal"])
def test_no_fold_sums_past_full_scale(layout: str) -> None:
    matrix = downmix_matrix([c.name for c in av.AudioLayout(layout).channels])
    assert np.abs(matrix).sum(axis=1).max() == pytest.approx(1.0, abs=1e-6)
    assert (np.abs(matrix).sum(axis=0) > 0).sum() >= len(matrix[0]) - 1  # only LFE is dropped


#: One tone per channel of the 5.1 file (FL FR FC LFE BL BR), each at half scale.
TONES = [300, 500, 700, 900, 1100, 1300]


def _surround_flac(path: Path, rate: int = 48000) -> Path:
    t = np.arange(rate) / rate
    data = np.stack([0.5 * np.sin(2 * np.pi * f * t) for f in TONES])
    pcm = (data * 32767).astype(np.int16)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("flac", rate=rate, layout="5.1")
        for a in range(0, rate, 1024):
            block = np.ascontiguousarray(pcm[:, a : a + 1024])
            frame = av.AudioFrame.from_ndarray(block, format="s16p", layout="5.1")
            frame.sample_rate = rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_a_5_1_source_plays_folded_without_clipping(tmp_path: Path) -> None:
    path = _surround_flac(tmp_path / "surround.flac")
    clip = {"id": "c", "start_time": 0, "end_time": 1, "source": {"File": path.name}}
    timeline = read_project(project([{"id": "a", "track_type": "Audio", "clips": [clip]}]),
                            base_dir=str(tmp_path)).timeline  # fmt: skip
    with clip_audio(timeline.tracks[0].clips[0], str(path), 48000, 48000) as window:
        assert window is not None
        sound = window.read(0, 48000)
    assert np.abs(sound).max() <= 1.0  # the unnormalised fold peaked at 1.2 and clipped
    level = {f: np.abs(np.fft.rfft(sound, axis=1)[:, f]) / 24000 for f in TONES}
    fl, fr, fc, lfe, bl, br = TONES
    assert level[fl][0] == pytest.approx(0.5 / FIVE_ONE, rel=0.02) and level[fl][1] < 1e-3
    assert level[fr][1] == pytest.approx(0.5 / FIVE_ONE, rel=0.02) and level[fr][0] < 1e-3
    assert level[fc] == pytest.approx([0.5 * R / FIVE_ONE] * 2, rel=0.02)
    assert level[bl][0] == pytest.approx(0.5 * R / FIVE_ONE, rel=0.02) and level[bl][1] < 1e-3
    assert level[br][1] == pytest.approx(0.5 * R / FIVE_ONE, rel=0.02) and level[br][0] < 1e-3
    assert level[lfe].max() < 1e-3
