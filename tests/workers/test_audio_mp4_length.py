"""MP4 and MOV outputs hold all of their audio: the sound ends with the picture, to the sample."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream

from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from tests.media import project, solid, video_track
from tests.workers.test_stitch import make_segments
from workers.audio import mix_length, sample_offset, write_audio_file
from workers.render import render_to_file
from workers.stitch import stitch

FRAMES = 100
RATES = [Fraction(30000, 1001), Fraction(24000, 1001), Fraction(25)]
#: A whole render and parts of it, as --start/--end ask (frames [start, end)).
RANGES = [(0, FRAMES), (13, 63), (31, FRAMES)]


def tone(path: Path, rate: int, seconds: float = 4.0) -> Path:
    """A 440 Hz stereo WAV, longer than the timeline."""
    t = np.arange(round(seconds * rate)) / rate
    data = np.tile((0.4 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), (2, 1))
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_f32le", rate=rate)
        assert isinstance(stream, AudioStream)
        stream.layout = "stereo"
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def audio_length(path: Path) -> int:
    """The audio stream's duration in samples, as players take it (edit list included)."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        assert stream.time_base == Fraction(1, stream.codec_context.sample_rate)
        assert stream.duration is not None
        return int(stream.duration)


@pytest.mark.parametrize("fps", RATES, ids=str)
@pytest.mark.parametrize("rate", [44_100, 48_000])
@pytest.mark.parametrize("container", ["mp4", "mov"])
def test_direct_render_keeps_every_sample(
    tmp_path: Path, fps: Fraction, rate: int, container: str
) -> None:
    seconds = float(FRAMES / fps)
    wav = tone(tmp_path / "tone.wav", rate)
    doc = project(
        [
            video_track("v", [
                {"id": "bg", "start_time": 0, "end_time": seconds, **solid("#204060")}]),
            {"id": "a", "track_type": "Audio", "clips": [
                {"id": "c", "source": {"File": str(wav)}, "start_time": 0, "end_time": seconds}]},
        ],
        fps=f"{fps.numerator}/{fps.denominator}",
        size=(64, 48),
        duration=seconds,
        settings={"export": {"format": container, "preset": "ultrafast"}},
    )  # fmt: skip
    doc["timeline"]["sample_rate"] = rate
    timeline = load_project(doc, str(tmp_path))
    assert timeline.frames == FRAMES
    for start, end in RANGES:
        out = tmp_path / f"out{start}.{container}"
        render_to_file(timeline, str(out), start=start, end=end)
        last = mix_length(timeline) if end == FRAMES else sample_offset(end, timeline)
        expected = last - sample_offset(start, timeline)
        # Was up to a millisecond short (147118 of 147147 at 29.97 fps and 44.1 kHz).
        assert audio_length(out) == expected, (start, end)


@pytest.mark.parametrize("fps", RATES, ids=str)
@pytest.mark.parametrize("rate", [44_100, 48_000])
def test_stitched_mp4_keeps_every_sample(tmp_path: Path, fps: Fraction, rate: int) -> None:
    segments = make_segments(tmp_path / "segs", [0, 30, 60, FRAMES], fps)
    audio = tmp_path / "audio.mka"
    # The timeline's sound as the audio task writes it.
    count = mix_length(Timeline(fps=fps, width=64, height=48, frames=FRAMES, sample_rate=rate))
    sound = np.tile((0.4 * np.sin(np.arange(count) / 20)).astype(np.float32), (2, 1))
    write_audio_file(audio, sound, rate, "mkv", codec="aac")
    out = tmp_path / "out.mp4"
    stitch(segments, fps, str(out), "mp4", audio=str(audio))
    assert audio_length(out) == count
