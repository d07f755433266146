"""The node benchmark's project slice (``workers.benchmark``), generated the same everywhere:
its source video from a fixed seed, and the Timeline Studio project that uses it."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from common.errors import RenderError

#: Frame rate of the slice.
FPS = 30
#: Seed of the generated source's noise: every node renders the same pixels.
SEED = 20260115


def make_source(path: Path, width: int, height: int, frames: int) -> None:
    """A textured, moving H.264 test video with a stereo tone (deterministic)."""
    rng = np.random.default_rng(SEED)
    # Bars over a ramp, scrolled each frame, with sensor-like noise: x264 sees real detail
    # and motion, as in footage, not flat colour it encodes for free.
    x = np.arange(2 * width)
    base = np.empty((height, 2 * width, 3), dtype=np.uint8)
    split = height * 2 // 3
    bars = np.array(
        [[191, 191, 191], [191, 191, 0], [0, 191, 191], [0, 191, 0], [191, 0, 191], [191, 0, 0]],
        dtype=np.uint8,
    )
    base[:split] = bars[(x * 6 // width) % 6][None, :, :]
    phase = 2 * math.pi * x / width
    ramp = np.stack([127 + 120 * np.sin(phase + k * 2.1) for k in range(3)], axis=-1)
    base[split:] = ramp.astype(np.uint8)[None, :, :]
    noise = rng.integers(0, 24, size=(3, height, width, 3), dtype=np.uint8)
    rate = 48000
    try:
        with av.open(str(path), "w") as out:
            video = out.add_stream("libx264", rate=FPS)
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.codec_context.gop_size = FPS
            video.codec_context.options = {"preset": "ultrafast", "crf": "20"}
            audio = out.add_stream("aac", rate=rate, layout="stereo")
            frame_rgb = np.empty((height, width, 3), dtype=np.uint8)
            for i in range(frames):
                off = (i * 8) % width
                np.bitwise_xor(base[:, off : off + width], noise[i % len(noise)], out=frame_rgb)
                picture = av.VideoFrame.from_ndarray(frame_rgb, format="rgb24")
                picture.pts = i
                picture.time_base = Fraction(1, FPS)
                out.mux(video.encode(picture))
            out.mux(video.encode(None))
            total = frames * rate // FPS
            t = np.arange(total) / rate
            tone = (0.3 * np.sin(2 * math.pi * 440 * t)).astype(np.float32)
            samples = np.stack([tone, tone])
            for pos in range(0, total, 1024):
                chunk = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(samples[:, pos : pos + 1024]),
                    format="fltp",
                    layout="stereo",
                )
                chunk.sample_rate = rate
                chunk.pts = pos
                out.mux(audio.encode(chunk))
            out.mux(audio.encode(None))
    except (av.error.FFmpegError, OSError) as exc:
        raise RenderError(f"benchmark: cannot generate its source video: {exc}") from None


def slice_project(width: int, height: int, frames: int) -> dict[str, Any]:
    """The slice's Timeline Studio project (media: ``source.mp4`` beside it)."""
    seconds = frames / FPS
    cut = frames // 2 / FPS
    grade = {"brightness": 0.04, "contrast": 1.1, "saturation": 1.2, "hue": 0.0, "gamma": 1.0}

    def clip(cid: str, start: float, end: float, **extra: Any) -> dict[str, Any]:
        """A clip of the source from `start` to `end` seconds of the timeline."""
        return {
            "id": cid,
            "source": {"File": "source.mp4"},
            "start_time": start,
            "end_time": end,
            "source_start": 0.0,
            "speed": 1.0,
            "opacity": 1.0,
            "effects": [],
            "filters": [],
            **extra,
        }

    base = [
        clip("a", 0.0, cut, color_correction=grade, effects=["vignette"]),
        # From a little into the source: the dissolve shows b's frames before the cut (handles).
        clip(
            "b",
            cut,
            seconds,
            color_correction=grade,
            effects=["vignette"],
            source_start=(frames // 3 + 1) // 2 / FPS,
        ),  # fmt: skip
    ]
    pip = clip(
        "pip",
        0.0,
        seconds,
        opacity=0.8,
        volume=0.5,
        transform={
            "scale_x": 0.5,
            "scale_y": 0.5,
            "position_x": round(width * 0.45) // 2 * 2,
            "position_y": round(height * 0.06) // 2 * 2,
            "rotation": 0,
            "anchor_x": 0.0,
            "anchor_y": 0.0,
        },
        effects=["blur"],
    )
    return {
        "version": "1.0.0",
        "metadata": {"name": "cloudrender node benchmark"},
        "timeline": {
            "duration": seconds,
            "fps": FPS,
            "resolution": [width, height],
            "sample_rate": 48000,
        },
        "tracks": [
            {"id": "base", "track_type": "Video", "name": "base", "clips": base},
            {"id": "pip", "track_type": "Video", "name": "pip", "clips": [pip]},
        ],
        "effects": [
            {
                "id": "vignette",
                "effect_type": "Vignette",
                "name": "Vignette",
                "params": {"strength": 0.5, "radius": 0.6},
            },
            {"id": "blur", "effect_type": "Blur", "name": "Blur", "params": {"radius": 3.0}},
        ],
        "transitions": [
            {
                "id": "mix",
                "transition_type": "dissolve",
                "name": "Dissolve",
                "duration": {"value": frames // 3 / FPS},
                "enabled": True,
                "parameters": {},
                "from_clip_id": "a",
                "to_clip_id": "b",
            }
        ],
        "subtitles": [
            {
                "id": "title",
                "text": "Cloud Rendering benchmark",
                "start_time": 0.0,
                "end_time": seconds,
                "position": {"type": "Relative", "align_x": "Center", "align_y": "Bottom"},
                "style": {"font_size": 48.0, "color": "#ffffff"},
                "enabled": True,
                "animations": [],
            }
        ],
        "settings": {
            "export": {
                "format": "Mp4",
                "codec": "H264",
                "crf": 23,
                "preset": "veryfast",
                "keyframe_interval": 2 * FPS,
                # What the node does best: NVENC where it opens (a GPU class is priced by it).
                "hardware_acceleration": True,
            }
        },
    }
