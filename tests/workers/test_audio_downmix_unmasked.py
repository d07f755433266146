"""Six and eight channels of a WAV without a channel mask (WAVE_FORMAT_PCM, no
WAVEFORMATEXTENSIBLE): taken as FFmpeg's default 5.1 and 7.1 and folded BS.775 style, LFE
dropped, with a warning; they were averaged into both sides, LFE included."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import av
import numpy as np
import pytest

from chunking.timeline.project import read_project
from tests.media import project
from workers.audio_source import clip_audio
from workers.probe import header_warnings

R = math.sqrt(0.5)
RATE = 48000
#: One tone per channel, in the default layouts' order (FL FR FC LFE BL BR [SL SR]).
TONES = [300, 500, 700, 60, 1100, 1300, 1700, 1900]


def _plain_wav(path: Path, channels: int) -> Path:
    """A second of 16-bit PCM in ``channels`` channels, with a plain WAVE_FORMAT_PCM header
    (what many recorders and older tools write): no channel mask names its channels."""
    t = np.arange(RATE) / RATE
    tones = np.stack([0.5 * np.sin(2 * np.pi * f * t) for f in TONES[:channels]])
    pcm = (tones.T * 32767).astype("<i2").tobytes()  # interleaved
    block = 2 * channels
    fmt = struct.pack("<HHIIHH", 1, channels, RATE, RATE * block, block, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(pcm)) + pcm
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def _played(tmp_path: Path, channels: int) -> tuple[np.ndarray, list[str]]:
    path = _plain_wav(tmp_path / f"plain{channels}.wav", channels)
    clip = {"id": "c", "start_time": 0, "end_time": 1, "source": {"File": path.name}}
    timeline = read_project(project([{"id": "a", "track_type": "Audio", "clips": [clip]}]),
                            base_dir=str(tmp_path)).timeline  # fmt: skip
    with clip_audio(timeline.tracks[0].clips[0], str(path), RATE, RATE) as window:
        assert window is not None
        sound = window.read(0, RATE)
    return sound, header_warnings(timeline)


@pytest.mark.parametrize("channels", [6, 8])
def test_unmasked_surround_is_folded_as_the_default_layout(tmp_path: Path, channels: int) -> None:
    with av.open(str(_plain_wav(tmp_path / "probe.wav", channels))) as probe:
        assert probe.streams.audio[0].layout.name == f"{channels} channels"  # FFmpeg names none
    sound, warnings = _played(tmp_path, channels)
    level = {f: np.abs(np.fft.rfft(sound, axis=1)[:, f]) / (RATE / 2) for f in TONES[:channels]}
    fl, fr, fc, lfe, bl, br = TONES[:6]
    # Left: FL whole, FC and BL (and SL) at -3 dB, normalised so the row sums to 1.
    row = 1 + R * (2 if channels == 6 else 3)
    assert level[fl][0] == pytest.approx(0.5 / row, rel=0.02) and level[fl][1] < 1e-3
    assert level[fr][1] == pytest.approx(0.5 / row, rel=0.02) and level[fr][0] < 1e-3
    assert level[fc] == pytest.approx([0.5 * R / row] * 2, rel=0.02)
    assert level[bl][0] == pytest.approx(0.5 * R / row, rel=0.02) and level[bl][1] < 1e-3
    assert level[br][1] == pytest.approx(0.5 * R / row, rel=0.02) and level[br][0] < 1e-3
    assert level[lfe].max() < 1e-3  # averaged, the LFE was in both sides at 1/6
    layout = "5.1" if channels == 6 else "7.1"
    assert any(f"taken as {layout}" in w and w.startswith("clip 'c'") for w in warnings)
