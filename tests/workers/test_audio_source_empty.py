"""A file whose audio stream holds no decodable frame (a Matroska track with no blocks, a
damaged MP4 sample table) is refused by the render as validate refuses it: validate said "no
decodable audio frame" and the render mixed silence for it without a word (found by damaging
files at random and comparing validate with render)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from chunking.timeline.model import Timeline
from chunking.timeline.project import read_project
from common.errors import DecodeError
from tests.media import project, video_track
from workers.audio_source import clip_audio
from workers.probe import media_report


def _video(path: Path, seconds: float, sound_seconds: float | None) -> Path:
    """A small H.264 video with an AAC track holding ``sound_seconds`` of tone (None: the
    track is declared and never given a packet)."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = 32, 18, "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = out.add_stream("aac", rate=48000, layout="stereo")
        picture = np.zeros((18, 32, 3), np.uint8)
        for n in range(round(seconds * 30)):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = n
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound_seconds is not None:
            for n in range(round(sound_seconds * 48000 / 1024)):
                block = av.AudioFrame.from_ndarray(
                    np.full((2, 1024), 0.25, np.float32), format="fltp", layout="stereo"
                )
                block.sample_rate, block.pts = 48000, n * 1024
                out.mux(sound.encode(block))
            out.mux(sound.encode(None))
    return path


def _timeline(folder: Path, name: str, source_start: float = 0) -> Timeline:
    clip = {
        "id": "take",
        "start_time": 0,
        "end_time": 1,
        "source_start": source_start,
        "source_end": source_start + 1,
        "source": {"File": name},
    }
    return read_project(project([video_track("v", [clip])]), base_dir=str(folder)).timeline


@pytest.mark.parametrize("source_start", [0, 2])
def test_a_track_without_a_decodable_frame_is_refused_in_the_words_of_validate(
    tmp_path: Path, source_start: float
) -> None:
    path = _video(tmp_path / "mute.mkv", 3, None)
    with av.open(str(path)) as container:  # the case at hand: a track, no packet
        assert len(container.streams.audio) == 1
        assert not any(p.size for p in container.demux(container.streams.audio[0]))
    timeline = _timeline(tmp_path, "mute.mkv", source_start)
    problems, _ = media_report(timeline, str(tmp_path))
    assert problems == [f"clip 'take': no decodable audio frame in {path}"]
    with pytest.raises(DecodeError) as raised:
        with clip_audio(timeline.tracks[0].clips[0], str(path), 48000, 48000) as window:
            assert window is not None
            window.read(0, 48000)
    assert str(raised.value).startswith(problems[0])


def test_a_clip_past_the_end_of_short_sound_is_silent_not_refused(tmp_path: Path) -> None:
    """Sound that stops before the clip starts (1 s of it in a 3 s video, the clip from 2 s)
    is silence there: the check for a track with no sound at all must not refuse it."""
    path = _video(tmp_path / "short.mkv", 3, 1)
    timeline = _timeline(tmp_path, "short.mkv", 2)
    assert media_report(timeline, str(tmp_path))[0] == []
    with clip_audio(timeline.tracks[0].clips[0], str(path), 48000, 48000) as window:
        assert window is not None
        assert not window.read(0, 48000).any()
