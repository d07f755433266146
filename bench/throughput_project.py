"""The generated benchmark timeline: test media and the three-layer Timeline Studio project.

``render_throughput.py`` and ``scaling.py`` render the same composition: a moving h264 test
video (scrolling bars and ramp, a bouncing box, per-frame noise), the same video at half size,
offset, 0.8 opacity and colour-corrected on top of it, and a full-frame RGBA PNG logo above
both. The effect parameters live here once, for the project and for the equivalent ffmpeg
filter graph (``bench.ffmpeg_compare``). Also the command-line options both scripts take for
the timeline (``--seconds``, ``--size``, ``--preset``).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from bench.script import log

#: Frame rate, x264 CRF and keyframe interval of every benchmark render.
FPS = 30
CRF = 23
GOP = 60
#: Effect parameters shared by the project and the ffmpeg graph.
SATURATION = 1.3  # bottom layer, Saturation effect
VIGNETTE = {"strength": 0.5, "radius": 0.6}  # bottom layer, Vignette effect
#: ffmpeg's vignette scales by cos(angle * d)^4 (d = 1 at the corners); this angle gives our
#: corner gain, 1 - strength; its mask is computed once (eval=init), like ours.
VIGNETTE_ANGLE = round(math.acos((1 - VIGNETTE["strength"]) ** 0.25), 4)
PIP = {"scale": 0.5, "opacity": 0.8, "brightness": 0.05, "contrast": 1.1, "saturation": 1.2}
#: Bars for the test pattern (75% SMPTE-like colours).
BARS = np.array(
    [
        [191, 191, 191],
        [191, 191, 0],
        [0, 191, 191],
        [0, 191, 0],
        [191, 0, 191],
        [191, 0, 0],
        [0, 0, 191],
    ],
    dtype=np.uint8,
)


#: An RGB24 picture.
Rgb8 = npt.NDArray[np.uint8]


def source_frames(width: int, height: int, count: int) -> Iterator[Rgb8]:
    """Moving test-pattern frames: scrolling bars and ramp, a bouncing box, per-frame noise."""
    rng = np.random.default_rng(20240601)
    x = np.arange(2 * width)
    split = height * 2 // 3
    base = np.empty((height, 2 * width, 3), dtype=np.uint8)
    base[:split] = BARS[(x * 7 // width) % 7][None, :, :]
    phase = 2 * math.pi * x / width
    ramp = np.stack(
        [127 + 127 * np.sin(phase + k * 2 * math.pi / 3) for k in range(3)], axis=-1
    ).astype(np.uint8)
    shade = np.linspace(1.0, 0.3, height - split, dtype=np.float32)[:, None, None]
    base[split:] = (ramp[None, :, :] * shade).astype(np.uint8)
    # XOR with 0..15 flips the low bits: sensor-like noise without overflow, cheap in uint8.
    noise = rng.integers(0, 16, size=(4, height, width, 3), dtype=np.uint8)
    box = max(8, height // 6)
    checker = ((np.arange(box)[:, None] // 8 + np.arange(box)[None, :] // 8) % 2 * 255).astype(
        np.uint8
    )
    frame = np.empty((height, width, 3), dtype=np.uint8)
    for i in range(count):
        off = (i * 6) % width
        np.bitwise_xor(base[:, off : off + width], noise[i % len(noise)], out=frame)
        bx = int((width - box) * (0.5 + 0.5 * math.sin(i / 17)))
        by = int((split - box) * (0.5 + 0.5 * math.cos(i / 11)))
        frame[by : by + box, bx : bx + box] = checker[:, :, None]
        yield frame


def make_source(path: Path, width: int, height: int, frames: int) -> None:
    """Encode the test pattern as an h264 yuv420p mp4 at FPS, keyframe every 2 s."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = 2 * FPS
        stream.codec_context.options = {"preset": "veryfast", "crf": "20"}
        for i, rgb in enumerate(source_frames(width, height, frames)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def make_logo(path: Path, width: int, height: int) -> None:
    """A full-frame RGBA PNG: an opaque badge top-right and a translucent lower-third bar."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    s = height / 1080
    x1, y1 = width - round(60 * s), round(60 * s)
    x0, y0 = x1 - round(360 * s), y1
    draw.rounded_rectangle(
        (x0, y0, x1, y1 + round(140 * s)), radius=round(30 * s), fill=(250, 250, 250, 235)
    )
    draw.ellipse(
        (x0 + round(20 * s), y0 + round(20 * s), x0 + round(120 * s), y0 + round(120 * s)),
        fill=(220, 40, 60, 255),
    )
    draw.text(
        (x0 + round(140 * s), y0 + round(45 * s)),
        "CLOUD",
        fill=(20, 20, 20, 255),
        font_size=round(48 * s),
    )
    draw.rectangle(
        (0, height - round(200 * s), round(width * 0.6), height - round(80 * s)),
        fill=(10, 30, 80, 160),
    )
    img.save(path)


def pip_geometry(width: int, height: int) -> tuple[int, int, int, int]:
    """The picture-in-picture layer's size and top-left corner (even, for 4:2:0 overlays)."""
    w, h = round(width * PIP["scale"]), round(height * PIP["scale"])
    x = round(width * 0.45) // 2 * 2
    y = round(height * 0.06) // 2 * 2
    return w, h, x, y


def write_project(
    path: Path, width: int, height: int, seconds: float, preset: str, blur: float
) -> None:
    """The three-layer Timeline Studio project: video + scaled colour-corrected video + PNG."""
    _, _, pip_x, pip_y = pip_geometry(width, height)

    def clip(cid: str, src: str, **extra: Any) -> dict[str, Any]:
        """A clip of `src` over the whole timeline, with `extra` fields."""
        return {
            "id": cid,
            "source": {"File": src},
            "start_time": 0.0,
            "end_time": seconds,
            "source_start": 0.0,
            "speed": 1.0,
            "opacity": 1.0,
            "effects": [],
            "filters": [],
            **extra,
        }

    def track(tid: str, clips: list[dict[str, Any]]) -> dict[str, Any]:
        """An enabled Video track."""
        return {"id": tid, "track_type": "Video", "name": tid, "enabled": True, "clips": clips}

    pip = clip(
        "pip",
        "source.mp4",
        opacity=PIP["opacity"],
        # anchor (0, 0): the scaled clip's top-left corner lands exactly at the position.
        transform={
            "scale_x": PIP["scale"],
            "scale_y": PIP["scale"],
            "position_x": pip_x,
            "position_y": pip_y,
            "rotation": 0,
            "anchor_x": 0.0,
            "anchor_y": 0.0,
        },
        color_correction={
            "brightness": PIP["brightness"],
            "contrast": PIP["contrast"],
            "saturation": PIP["saturation"],
            "hue": 0.0,
            "gamma": 1.0,
        },
        effects=["blur"] if blur > 0 else [],
    )
    effects: list[dict[str, Any]] = [
        {"id": "vignette", "effect_type": "Vignette", "name": "Vignette", "params": VIGNETTE},
        {
            "id": "saturation",
            "effect_type": "Saturation",
            "name": "Saturation",
            "params": {"amount": SATURATION},
        },
    ]
    if blur > 0:
        effects.append(
            {"id": "blur", "effect_type": "Blur", "name": "Blur", "params": {"radius": blur}}
        )
    doc = {
        "version": "1.0.0",
        "metadata": {"name": "render throughput benchmark"},
        "timeline": {
            "duration": seconds,
            "fps": FPS,
            "resolution": [width, height],
            "sample_rate": 48000,
        },
        "tracks": [
            track("bottom", [clip("base", "source.mp4", effects=["vignette", "saturation"])]),
            track("middle", [pip]),
            track("top", [clip("logo", "logo.png")]),
        ],
        "effects": effects,
        "settings": {"export": export_settings(preset)},
    }
    path.write_text(json.dumps(doc, indent=1))


def write_single_layer(path: Path, seconds: float, width: int, height: int, preset: str) -> None:
    """A one-layer project (the source video, no effects): decode + minimal compositing + encode."""
    doc = {
        "version": "1.0.0",
        "metadata": {"name": "single layer"},
        "timeline": {"duration": seconds, "fps": FPS, "resolution": [width, height]},
        "tracks": [
            {
                "id": "only",
                "track_type": "Video",
                "name": "only",
                "clips": [
                    {
                        "id": "base",
                        "source": {"File": "source.mp4"},
                        "start_time": 0.0,
                        "end_time": seconds,
                    }
                ],
            }
        ],
        "settings": {"export": export_settings(preset)},
    }
    path.write_text(json.dumps(doc))


def export_settings(preset: str) -> dict[str, Any]:
    """settings.export for every benchmark project: h264 crf 23, GOP 60, software only."""
    return {
        "format": "Mp4",
        "codec": "H264",
        "crf": CRF,
        "preset": preset,
        "keyframe_interval": GOP,
        "hardware_acceleration": False,
    }


def parse_size(text: str) -> tuple[int, int]:
    """WIDTHxHEIGHT with even sides (yuv420p)."""
    try:
        w, h = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not WIDTHxHEIGHT") from None
    if w < 64 or h < 64 or w % 2 or h % 2:
        raise argparse.ArgumentTypeError(f"size {text!r}: sides must be even and at least 64")
    return w, h


def add_timeline_args(parser: argparse.ArgumentParser, seconds: float) -> None:
    """The options for the generated timeline: --seconds (default `seconds`), --size, --preset."""
    parser.add_argument(
        "--seconds",
        type=float,
        default=seconds,
        help=f"timeline length (default {seconds:g})",
    )
    parser.add_argument("--size", type=parse_size, default=(1920, 1080), help="WxH, 1920x1080")
    parser.add_argument("--preset", default="veryfast", help="x264 preset (default veryfast)")


def check_seconds(parser: argparse.ArgumentParser, seconds: float) -> None:
    """Stop with a usage error unless --seconds gives 2 frames or more and is at most 600."""
    if not 0 < seconds <= 600 or round(seconds * FPS) < 2:
        parser.error(f"--seconds must give at least 2 frames at {FPS} fps and be at most 600")


def make_media(directory: Path, width: int, height: int, frames: int) -> None:
    """Write source.mp4 (the test pattern, `frames` long) and logo.png into `directory`."""
    log(f"generating {width}x{height} {frames}-frame source and logo in {directory}")
    make_source(directory / "source.mp4", width, height, frames)
    make_logo(directory / "logo.png", width, height)


def inputs_record(directory: Path, began: float) -> dict[str, Any]:
    """The source's size in bytes and the seconds since `began` (perf_counter) spent making it."""
    return {
        "source_bytes": (directory / "source.mp4").stat().st_size,
        "generate_seconds": round(time.perf_counter() - began, 2),
    }
