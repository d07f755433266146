"""An MP4 whose header declares zero durations (what some recorders and muxers leave there)
still plays its sound: the render took the 0 for the sound's length and mixed silence."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import numpy as np

from chunking.timeline.project import read_project
from tests.media import make_video, project, video_track
from workers.audio_source import clip_audio

#: Where each header box keeps its duration (version 0), past its 8-byte box header.
_DURATION_AT = {b"mvhd": 16, b"tkhd": 20, b"mdhd": 16}


def _zero_durations(path: Path) -> Path:
    """The file with every movie, track and media duration of its header set to 0."""
    data = bytearray(path.read_bytes())

    def walk(start: int, end: int) -> None:
        at = start
        while at < end:
            size, kind = struct.unpack(">I4s", data[at : at + 8])
            if kind in (b"moov", b"trak", b"mdia"):
                walk(at + 8, at + size)
            elif kind in _DURATION_AT:
                assert data[at + 8] == 0  # version 0: 32-bit times
                offset = at + 8 + _DURATION_AT[kind]
                data[offset : offset + 4] = bytes(4)
            at += size

    walk(0, len(data))
    path.write_bytes(bytes(data))
    return path


def test_the_sound_of_an_mp4_declaring_no_length_plays(tmp_path: Path) -> None:
    path = _zero_durations(make_video(tmp_path / "rec.mp4", frames=30, audio_hz=440.0))
    with av.open(str(path)) as container:  # the case at hand
        assert container.streams.audio[0].duration == 0
    clip = {"id": "c", "source": {"File": str(path)}, "start_time": 0, "end_time": 1.0}
    timeline = read_project(project([video_track("v", [clip])]), base_dir=str(tmp_path)).timeline
    with clip_audio(timeline.tracks[0].clips[0], str(path), 48000, 48000) as window:
        assert window is not None
        sound = window.read(0, 48000)
    assert np.abs(sound[:, 4800:43200]).max() > 0.3  # the 0.5 tone, not silence
