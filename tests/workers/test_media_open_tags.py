"""A media file whose tags are not UTF-8 (a WAV's LIST/INFO title written by a Windows tool in
its code page) opens and plays: PyAV's strict tag decoding failed validate and render with a
UnicodeDecodeError traceback over a song title."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from chunking.timeline.project import read_project
from tests.media import project
from workers.audio_mix import mix_timeline
from workers.media_open import open_media
from workers.probe import media_report

RATE = 48000


def _wav_with_latin1_title(path: Path, seconds: float = 0.2) -> Path:
    """A stereo 440 Hz PCM WAV whose INFO title is "Café del Mar" in Latin-1."""
    t = np.arange(int(RATE * seconds)) / RATE
    pcm = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    data = np.repeat(pcm[:, None], 2, axis=1).tobytes()
    fmt = struct.pack("<HHIIHH", 1, 2, RATE, RATE * 4, 4, 16)
    title = b"Caf\xe9 del Mar\x00\x00"  # even length: RIFF chunks are word-aligned
    info = b"INFO" + b"INAM" + struct.pack("<I", len(title)) + title
    chunks = (
        b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"LIST" + struct.pack("<I", len(info)) + info
        + b"data" + struct.pack("<I", len(data)) + data
    )  # fmt: skip
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)
    return path


def test_a_title_in_a_legacy_code_page_opens(tmp_path: Path) -> None:
    path = _wav_with_latin1_title(tmp_path / "song.wav")
    with open_media(str(path)) as container:
        assert container.metadata["title"].startswith("Caf")
        assert container.streams.audio


def test_its_sound_validates_and_is_mixed(tmp_path: Path) -> None:
    _wav_with_latin1_title(tmp_path / "song.wav")
    clip = {"id": "song", "start_time": 0, "end_time": 0.2, "source": {"File": "song.wav"}}
    doc = project([{"id": "a", "track_type": "Audio", "clips": [clip]}])
    timeline = read_project(doc, base_dir=str(tmp_path)).timeline
    assert media_report(timeline, str(tmp_path)) == ([], [])
    mix = mix_timeline(timeline)
    assert mix.shape == (2, int(0.2 * RATE))
    assert 0.45 < float(np.max(np.abs(mix))) < 0.55
