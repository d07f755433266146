"""A file whose sound cannot be decoded is refused in one line, worded as validate words it:
"clip 'x': corrupt audio at about T s in FILE: <reason>" (the render printed PyAV's errno and C
call, then named no time where the video side did)."""

from __future__ import annotations

import random
import re
import struct
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from chunking.timeline.project import read_project
from common.errors import AssetNotFound, DecodeError, EncodeError
from tests.media import project
from workers.audio import write_audio_file
from workers.audio_source import clip_audio
from workers.probe import media_report


def _no_channels_wav(path: Path) -> Path:
    """A PCM WAV whose fmt chunk says it has 0 channels: it opens, and no decoder takes it."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48000)
        out.writeframes(b"\x00\x01" * 4800)
    data = bytearray(path.read_bytes())
    data[22:24] = struct.pack("<H", 0)  # NumChannels of the fmt chunk
    path.write_bytes(bytes(data))
    return path


def test_undecodable_sound_is_worded_alike_in_validate_and_render(tmp_path: Path) -> None:
    path = _no_channels_wav(tmp_path / "voice.wav")
    clip = {"id": "vo", "start_time": 0, "end_time": 0.1, "source": {"File": "voice.wav"}}
    doc = project([{"id": "a", "track_type": "Audio", "clips": [clip]}])
    timeline = read_project(doc, base_dir=str(tmp_path)).timeline
    problems, _ = media_report(timeline, str(tmp_path))
    expected = f"clip 'vo': corrupt audio at about 0.000s in {path}: "
    assert len(problems) == 1 and problems[0].startswith(expected)
    with pytest.raises(DecodeError) as raised:
        with clip_audio(timeline.tracks[0].clips[0], str(path), 48000, 4800) as window:
            assert window is not None
            window.read(0, 4800)
    assert str(raised.value) == problems[0]
    assert "Errno" not in str(raised.value) and "avcodec" not in str(raised.value)


def test_a_missing_sound_file_names_the_clip_as_video_does(tmp_path: Path) -> None:
    path = _no_channels_wav(tmp_path / "gone.wav")
    clip = {"id": "vo", "start_time": 0, "end_time": 0.1, "source": {"File": "gone.wav"}}
    doc = project([{"id": "a", "track_type": "Audio", "clips": [clip]}])
    timeline = read_project(doc, base_dir=str(tmp_path)).timeline
    path.unlink()  # deleted after the submit
    with pytest.raises(AssetNotFound, match=r"^clip 'vo': media file not found: .*gone\.wav$"):
        with clip_audio(timeline.tracks[0].clips[0], str(tmp_path / "gone.wav"), 48000, 10):
            pass


def test_an_encoder_refusing_its_settings_names_the_setting_not_a_file(tmp_path: Path) -> None:
    mix = np.zeros((2, 4800), dtype=np.float32)
    path = tmp_path / "worker-scratch" / "audio.mka"
    path.parent.mkdir()
    with pytest.raises(EncodeError) as refused:
        write_audio_file(path, mix, 48_000, "mkv", 1_024_000, "libopus")
    message = str(refused.value)
    assert message == (
        "the libopus audio encoder does not take settings.export audio_bitrate 1024 kbit/s "
        "at 48000 Hz in stereo (Invalid argument)"
    )


def _damaged_m4a(path: Path) -> Path:
    """Four seconds of AAC tone with 45-55 % of the file overwritten (a bad card)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=48000, layout="stereo")
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(48000 * 4) / 48000)).astype(np.float32)
        for start in range(0, len(tone), 1024):
            block = np.stack([tone[start : start + 1024]] * 2)
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="stereo")
            frame.sample_rate = 48000
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    data = bytearray(path.read_bytes())
    rng = random.Random(100)
    for i in range(len(data) * 45 // 100, len(data) * 55 // 100):
        data[i] = rng.randrange(256)
    path.write_bytes(bytes(data))
    return path


def test_corrupt_sound_mid_file_names_where_in_validate_and_render(tmp_path: Path) -> None:
    """Damage two seconds in said only "corrupt audio in FILE": no way to find it in an hour."""
    path = _damaged_m4a(tmp_path / "voice.m4a")
    clip = {"id": "vo", "start_time": 0, "end_time": 4, "source": {"File": "voice.m4a"}}
    doc = project([{"id": "a", "track_type": "Audio", "clips": [clip]}])
    timeline = read_project(doc, base_dir=str(tmp_path)).timeline
    problems, _ = media_report(timeline, str(tmp_path))
    pattern = rf"^clip 'vo': corrupt audio at about (\d+\.\d+)s in {re.escape(str(path))}: "
    said = re.match(pattern, problems[0]) if len(problems) == 1 else None
    assert said is not None, problems
    with pytest.raises(DecodeError) as raised:
        with clip_audio(timeline.tracks[0].clips[0], str(path), 48000, 4 * 48000) as window:
            assert window is not None
            window.read(0, 4 * 48000)
    told = re.match(pattern, str(raised.value))
    assert told is not None, str(raised.value)
    assert 1.0 < float(said.group(1)) < 3.0  # the middle of the file, where the damage is
    assert float(told.group(1)) == pytest.approx(float(said.group(1)), abs=0.05)
