"""Test media made with PyAV and Pillow, and a builder for Timeline Studio project documents."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image


def level(index: int) -> tuple[int, int, int]:
    """The flat colour that identifies source frame `index` (steps of 16 survive lossy codecs)."""
    return 24 + (index % 14) * 16, 128, 24 + (index // 14 % 14) * 16


def identify(img: np.ndarray) -> int:
    """Which frame of a make_video() source an image shows, from its lower half's colour."""
    lower = img[img.shape[0] // 2 :]
    red, blue = (int(np.median(lower[:, :, c])) for c in (0, 2))
    return round((red - 24) / 16) + 14 * round((blue - 24) / 16)


def make_video(
    path: Path,
    *,
    frames: int = 30,
    fps: Fraction | int = 30,
    size: tuple[int, int] = (160, 90),
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    gop: int = 10,
    audio_hz: float | None = None,
    sample_rate: int = 48000,
    rotate: int | None = None,
) -> Path:
    """A video whose frame i is the flat colour level(i) with a white marker bar at column i."""
    width, height = size
    fmt = {".mkv": "matroska", ".webm": "webm", ".mov": "mov"}.get(path.suffix, None)
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.codec_context.gop_size = gop
        if codec == "libx264":
            stream.codec_context.options = {"preset": "ultrafast", "crf": "10"}
        if rotate is not None:
            stream.set_display_rotation(rotate)
        astream = None
        if audio_hz is not None:
            astream = out.add_stream("aac", rate=sample_rate, layout="stereo")
        for i in range(frames):
            img = np.full((height, width, 3), level(i), dtype=np.uint8)
            img[: height // 4, (i * 3) % width] = 255
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = 1 / Fraction(fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if astream is not None:
            seconds = frames / float(fps)
            total = int(seconds * sample_rate)
            t = np.arange(total) / sample_rate
            tone = (0.5 * np.sin(2 * math.pi * audio_hz * t)).astype(np.float32)
            data = np.stack([tone, tone])
            step = 1024
            for pos in range(0, total, step):
                chunk = np.ascontiguousarray(data[:, pos : pos + step])
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                af.sample_rate = sample_rate
                af.pts = pos
                out.mux(astream.encode(af))
            out.mux(astream.encode(None))
    return path


def make_image(path: Path, size: tuple[int, int], rgba: tuple[int, int, int, int]) -> Path:
    """A flat-colour PNG/JPEG image."""
    mode = "RGBA" if path.suffix == ".png" else "RGB"
    Image.new(mode, size, rgba if mode == "RGBA" else rgba[:3]).save(path)
    return path


def decode_rgb(path: Path | str) -> list[np.ndarray]:
    """Every video frame of a file as uint8 RGB arrays."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def solid(color: str) -> dict[str, Any]:
    """A Generated solid-colour clip source plus its properties."""
    return {
        "source": "Generated",
        "properties": {"custom_metadata": {"generator": {"type": "color", "color": color}}},
    }


def project(
    tracks: list[dict[str, Any]],
    *,
    fps: Any = 30,
    size: tuple[int, int] = (320, 180),
    duration: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A minimal ProjectSchema document."""
    timeline: dict[str, Any] = {"fps": fps, "resolution": list(size), "sample_rate": 48000}
    if duration is not None:
        timeline["duration"] = duration
    doc: dict[str, Any] = {
        "version": "1",
        "metadata": {"name": "test"},
        "timeline": timeline,
        "tracks": tracks,
    }
    doc.update(extra)
    return doc


def video_track(track_id: str, clips: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A Video track document."""
    return {"id": track_id, "track_type": "Video", "name": track_id, "clips": clips, **extra}


def write_project(path: Path, doc: dict[str, Any]) -> Path:
    """Write a project document as JSON."""
    path.write_text(json.dumps(doc))
    return path
