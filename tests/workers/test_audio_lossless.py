"""A lossless export (FFV1 in mkv, RGB H.264 in mp4/mov) carried lossy sound: AAC or Opus at
the audio bitrate, so an archival master's audio was not its mix. Its sound is FLAC (mkv) or
ALAC (mp4, mov) now, sample for sample the mix, in --direct renders and stitched ones; the
stitch also lost the last (short) packet of such a codec, which Matroska stores without sizes."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from av.audio.stream import AudioStream

from chunking.timeline.model import (
    Clip,
    ExportSettings,
    FileSource,
    Timeline,
    Track,
    TrackKind,
)
from tests.workers.test_stitch import make_segments
from workers.audio import audio_codec_for, mix_timeline, write_audio_file
from workers.render import render_to_file
from workers.stitch import stitch

RATE = 48_000
FPS = Fraction(24)
FRAMES = 23  # not a whole number of ALAC's 4096-sample packets: the last one is short
#: The video codec each container's lossless export uses.
LOSSLESS_VIDEO = {"mkv": "ffv1", "mp4": "h264", "mov": "h264"}


def _noise(path: Path) -> Path:
    """Two seconds of 16-bit stereo noise: every bit of it is signal."""
    rng = np.random.default_rng(7)
    data = rng.integers(-12_000, 12_000, size=(1, 2 * 2 * RATE), dtype=np.int16)
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=RATE)
        assert isinstance(stream, AudioStream)
        stream.layout = "stereo"
        frame = av.AudioFrame.from_ndarray(data, format="s16", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = RATE, 0, Fraction(1, RATE)
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _timeline(path: Path, container: str) -> Timeline:
    clip = Clip("noise", "a", FileSource(str(path)), start=0, end=FRAMES, source_start=0.25)
    export = ExportSettings(container=container, codec=LOSSLESS_VIDEO[container], lossless=True)
    return Timeline(
        fps=FPS,
        width=64,
        height=48,
        frames=FRAMES,
        tracks=(Track("a", TrackKind.AUDIO, clips=(clip,)),),
        export=export,
    )


def _sound(path: Path) -> tuple[str, npt.NDArray[np.float64]]:
    """The file's audio codec and its samples as floats."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        blocks = []
        for frame in container.decode(stream):
            data = frame.to_ndarray().astype(np.float64)
            if not frame.format.is_planar:
                data = data.reshape(-1, len(frame.layout.channels)).T
            scale = {"s16": 2.0**15, "s32": 2.0**31}.get(frame.format.name.rstrip("p"), 1.0)
            blocks.append(data / scale)
        return str(stream.codec_context.name), np.concatenate(blocks, axis=1)


@pytest.mark.parametrize("container", ["mkv", "mp4", "mov"])
def test_a_lossless_export_keeps_its_mix_sample_for_sample(tmp_path: Path, container: str) -> None:
    timeline = _timeline(_noise(tmp_path / "noise.wav"), container)
    mix = mix_timeline(timeline)
    out = tmp_path / f"out.{container}"
    render_to_file(timeline, str(out))
    codec, heard = _sound(out)
    assert codec == audio_codec_for(container, lossless=True)
    assert heard.shape == mix.shape
    assert np.abs(heard - mix).max() < 1e-6


@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_a_stitched_lossless_export_keeps_all_of_its_sound(tmp_path: Path, container: str) -> None:
    timeline = _timeline(_noise(tmp_path / "noise.wav"), container)
    mix = mix_timeline(timeline)
    audio = tmp_path / "audio.mka"
    codec = audio_codec_for(container, lossless=True)
    write_audio_file(audio, mix, RATE, "mkv", timeline.export.audio_bitrate, codec)
    video = "ffv1" if container == "mkv" else "libx264rgb"
    segments = make_segments(tmp_path / "segs", [0, 10, FRAMES], FPS, codec=video)
    out = tmp_path / f"out.{container}"
    stitch(segments, FPS, str(out), container, str(audio))
    heard = _sound(out)[1]
    assert heard.shape == mix.shape  # the last, short packet too
    assert np.abs(heard - mix).max() < 1e-6
