"""A clip trimmed into an ADPCM WAV (IMA or Microsoft ADPCM: voice recorders, game audio) plays
the sound at its source_start: FFmpeg's WAV demuxer seeks ADPCM by byte rate, lands about a
third of the way there and stamps the frame with the time asked for, so the clip played
another part of the file, with nothing said."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from chunking.timeline.project import read_project
from tests.media import project
from workers.audio_mix import mix_timeline

RATE = 48000


def _adpcm_wav(path: Path, codec: str, seconds: float = 4.0) -> Path:
    """A stereo chirp (its frequency rising with time, so every moment differs) in ``codec``."""
    t = np.arange(int(RATE * seconds)) / RATE
    tone = (0.4 * np.sin(2 * np.pi * (200 * t + 150 * t * t))).astype(np.float32)
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream(codec, rate=RATE, layout="stereo")
        resampler = av.AudioResampler(format=stream.format.name, layout="stereo", rate=RATE)
        for at in range(0, tone.size, 4096):
            block = np.ascontiguousarray(np.stack([tone[at : at + 4096]] * 2))
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = RATE, at, Fraction(1, RATE)
            for converted in resampler.resample(frame):
                out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return path


def _decoded(path: Path) -> np.ndarray:
    """The whole file decoded from its start, channel 0, as float."""
    with av.open(str(path)) as source:
        stream = source.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
        frames = [
            f.to_ndarray()[0] for raw in source.decode(stream) for f in resampler.resample(raw)
        ]
    return np.concatenate(frames)


@pytest.mark.parametrize("codec", ["adpcm_ms", "adpcm_ima_wav"])
def test_a_trimmed_adpcm_clip_plays_from_its_source_start(tmp_path: Path, codec: str) -> None:
    path = _adpcm_wav(tmp_path / "voice.wav", codec)
    clip = {
        "id": "vo", "start_time": 0, "end_time": 1, "source": {"File": "voice.wav"},
        "source_start": 2.0,
    }  # fmt: skip
    doc = project([{"id": "a", "track_type": "Audio", "clips": [clip]}])
    mix = mix_timeline(read_project(doc, base_dir=str(tmp_path)).timeline)
    expected = _decoded(path)[2 * RATE : 3 * RATE]
    assert mix.shape == (2, RATE)
    assert float(np.max(np.abs(mix[0] - expected))) < 1e-3
