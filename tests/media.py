"""Test media and project documents.

The generators and builders that the benchmarks use too (``make_video``, ``level``,
``decode_rgb``, ``project``, ``video_track``, ``solid``) live in ``bench.support``; they are
re-exported here for the test modules that import them from ``tests.media``. The helpers only
tests use are defined here.
"""

from __future__ import annotations

import json
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.audio.stream import AudioStream
from PIL import Image

from bench.support import decode_rgb, level, make_video, project, solid, video_track

__all__ = [
    "decode_rgb",
    "identify",
    "level",
    "make_hidden_frames",
    "make_image",
    "make_interlaced",
    "make_video",
    "project",
    "solid",
    "video_track",
    "write_project",
]


def identify(img: np.ndarray) -> int:
    """Which frame of a make_video() source an image shows, from its lower half's colour."""
    lower = img[img.shape[0] // 2 :]
    red, blue = (int(np.median(lower[:, :, c])) for c in (0, 2))
    return round((red - 24) / 16) + 14 * round((blue - 24) / 16)


def make_image(path: Path, size: tuple[int, int], rgba: tuple[int, int, int, int]) -> Path:
    """A flat-colour PNG/JPEG image."""
    mode = "RGBA" if path.suffix == ".png" else "RGB"
    Image.new(mode, size, rgba if mode == "RGBA" else rgba[:3]).save(path)
    return path


def make_interlaced(
    path: Path,
    *,
    frames: int = 20,
    codec: str = "libx264",
    gop: int = 6,
    fps: int = 25,
    size: tuple[int, int] = (320, 180),
) -> Path:
    """An interlaced video (H.264 top field first; MPEG-2 and DV as their encoders write it)
    whose fields each show a white bar where it stood at that field's moment: field 2i+f at
    column 6(2i+f) of 320, so a frame shows it combed."""
    width, height = size
    step, bar = width // 50, width // 20
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = gop
        options = {"flags": "+ilme+ildct"}
        if codec == "libx264":
            options |= {"preset": "ultrafast", "crf": "10", "x264-params": "interlaced=1:tff=1"}
        elif codec == "mpeg2video":
            options |= {"qscale": "2", "top": "1"}
        stream.codec_context.options = options
        for i in range(frames):
            img = np.full((height, width, 3), 40, np.uint8)
            for field in (0, 1):
                x = step * (2 * i + field) % (width - bar)
                img[field::2, x : x + bar] = 230
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def moving_clip(
    path: Path,
    seed: int,
    *,
    size: tuple[int, int],
    fps: int,
    frames: int,
    options: dict[str, str],
    steps: tuple[int, int, int],
) -> None:
    """An H.264 clip whose every frame differs: its red level moves by ``steps[0]`` a frame
    (from ``seed``), a green ramp of slope ``steps[1]`` across it, a white column moving by
    ``steps[2]`` pixels a frame."""
    width, height = size
    hue, ramp, bar = steps
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = options
        for i in range(frames):
            rgb = np.zeros((height, width, 3), np.uint8)
            rgb[..., 0] = (i * hue + seed) % 256
            rgb[..., 1] = (np.arange(width)[None, :] * ramp) % 256
            rgb[:, (i * bar) % width] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, "rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def write_project(path: Path, doc: dict[str, Any]) -> Path:
    """Write a project document as JSON."""
    path.write_text(json.dumps(doc))
    return path


def zero_frame_times(path: Path) -> None:
    """Set every sample delta of the MP4's time-to-sample table to 0 (a broken muxer)."""
    data = bytearray(path.read_bytes())
    at = data.index(b"stts")
    (entries,) = struct.unpack(">I", data[at + 8 : at + 12])
    for n in range(entries):
        delta = at + 12 + 8 * n + 4
        data[delta : delta + 4] = b"\x00\x00\x00\x00"
    path.write_bytes(bytes(data))


def write_wav(path: Path, data: np.ndarray, rate: int, codec: str = "pcm_s16le") -> Path:
    """Write planar float stereo samples (shape (2, n)) as a WAV file in ``codec``."""
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream(codec, rate=rate)
        assert isinstance(stream, AudioStream)
        stream.layout = "stereo"
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_hidden_frames(path: Path, packets: int) -> Path:
    """A VP9 stream in AVI whose every packet is a keyframe marked not to be shown: each
    decodes (CPU) and none comes out of the decoder."""
    encoded = path.with_suffix(".webm")
    with av.open(str(encoded), "w") as out:
        stream = out.add_stream("libvpx-vp9", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.codec_context.options = {"deadline": "realtime", "cpu-used": "8"}
        picture = av.VideoFrame.from_ndarray(np.full((180, 320, 3), 90, np.uint8), "rgb24")
        for packet in [*stream.encode(picture), *stream.encode(None)]:
            out.mux(packet)
    with av.open(str(encoded)) as source:
        template = source.streams.video[0]
        data = bytearray(next(bytes(p) for p in source.demux(template) if p.size))
        data[0] &= ~0x02  # the uncompressed header's show_frame bit
        with av.open(str(path), "w", format="avi") as out:
            stream = out.add_stream_from_template(template)
            for n in range(packets):
                packet = av.Packet(bytes(data))
                packet.stream, packet.pts, packet.dts = stream, n, n
                packet.time_base = stream.time_base
                out.mux(packet)
    return path
