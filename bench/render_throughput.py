"""Render throughput: cloudrender against an equivalent ffmpeg filter graph, with a breakdown.

Generates its own inputs in a temporary directory (a moving 1080p30 h264 test video and a
full-frame PNG logo with alpha), writes a three-layer Timeline Studio project, renders it with
``cloudrender render --direct --json`` and renders the same composition with the system
``ffmpeg``. It then measures each stage of the renderer on its own (serial cost per frame):

    decode     PyAV decode of the source alone (no RGB conversion), times the two video
               layers that decode it
    composite  a compositor pass with no encoder (workers.compositor), minus that decode:
               YUV -> RGB and scaling, float conversion, colour, effects, blending, to uint8
    encode     RGB24 -> yuv420p (BT.709) plus libx264 on uncomposited frames, alone

The renderer overlaps compositing with encoding (workers.pipeline): with spare cores its wall
time is below the sum of the stages, on a busy machine above it (contention); the difference is
reported. ``--profile N`` adds a cProfile of N frames of the compositor pass (the render's
compositing runs in a background thread, which cProfile does not follow). Inputs and outputs
live in a temporary directory that is deleted at exit (``--keep DIR`` copies them first).

Run: ``.venv/bin/python bench/render_throughput.py [--seconds N] [--size WxH] [--preset P]
[--json] [--blur SIGMA] [--profile FRAMES] [--keep DIR] [--install]``. Results are recorded in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import platform
import pstats
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

FPS = 30
CRF = 23
GOP = 60
INSTALL = "apt-get update && apt-get install -y ffmpeg"
#: Effect parameters shared by the project and the ffmpeg graph.
SATURATION = 1.3  # bottom layer, Saturation effect
VIGNETTE = {"strength": 0.5, "radius": 0.6}  # bottom layer, Vignette effect
#: ffmpeg's vignette scales by cos(angle * d)^4 (d = 1 at the corners); this angle gives our
#: corner gain, 1 - strength; its mask is computed once (eval=init), like ours.
VIGNETTE_ANGLE = round(math.acos((1 - VIGNETTE["strength"]) ** 0.25), 4)
PIP = {"scale": 0.5, "opacity": 0.8, "brightness": 0.05, "contrast": 1.1, "saturation": 1.2}
#: Decoded frames kept for the encode-only measurement (1080p RGB: 6 MB each).
ENCODE_BANK = 30
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

Rgb8 = npt.NDArray[np.uint8]


def log(message: str) -> None:
    """Progress to stderr, so --json keeps stdout clean."""
    print(message, file=sys.stderr, flush=True)


# -- inputs ------------------------------------------------------------------------------------


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


# -- ffmpeg ------------------------------------------------------------------------------------


def ffmpeg_command(
    directory: Path,
    output: Path | None,
    width: int,
    height: int,
    frames: int,
    preset: str,
    blur: float,
) -> list[str]:
    """ffmpeg doing the project's work: 2 decodes, 3 layers, effects, x264 (None: no encode)."""
    pip_w, pip_h, pip_x, pip_y = pip_geometry(width, height)
    pip_chain = (
        f"scale={pip_w}:{pip_h}:flags=bilinear,"
        f"eq=brightness={PIP['brightness']}:contrast={PIP['contrast']}"
        f":saturation={PIP['saturation']}"
    )
    if blur > 0:
        pip_chain += f",gblur=sigma={blur}"
    graph = ";".join(
        [
            f"[0:v]vignette=angle={VIGNETTE_ANGLE},eq=saturation={SATURATION}[bg]",
            f"[1:v]{pip_chain},format=rgba,colorchannelmixer=aa={PIP['opacity']}[pip]",
            f"[bg][pip]overlay=x={pip_x}:y={pip_y}[mid]",
            "[mid][2:v]overlay=x=0:y=0,format=yuv420p[out]",
        ]
    )
    source = str(directory / "source.mp4")
    return [
        "ffmpeg",
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-i",
        source,
        "-i",
        source,
        "-i",
        str(directory / "logo.png"),
        "-filter_complex",
        graph,
        "-map",
        "[out]",
        "-frames:v",
        str(frames),
        "-an",
        *(
            ["-f", "null", "-"]
            if output is None
            else [
                "-c:v",
                "libx264",
                "-preset",
                preset,
                "-crf",
                str(CRF),
                "-g",
                str(GOP),
                "-x264-params",
                f"keyint={GOP}:min-keyint={GOP}:scenecut=0",
                "-pix_fmt",
                "yuv420p",
                str(output),
            ]
        ),
    ]


def ensure_ffmpeg(install: bool) -> str:
    """The ffmpeg binary on PATH; installs the Debian package first when asked."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    if not install:
        sys.exit(
            "ffmpeg is not on PATH; install the Debian package with\n"
            f"    {INSTALL}\n"
            "(or rerun this benchmark with --install to run that command as root)"
        )
    log(f"installing ffmpeg: {INSTALL}")
    for step in (["apt-get", "update"], ["apt-get", "install", "-y", "ffmpeg"]):
        if subprocess.run(step, check=False).returncode != 0:
            sys.exit(f"'{shlex.join(step)}' failed; install ffmpeg yourself: {INSTALL}")
    found = shutil.which("ffmpeg")
    if not found:
        sys.exit("ffmpeg is still not on PATH after installing it")
    return found


def ffmpeg_version(binary: str) -> str:
    """The first line of `ffmpeg -version`."""
    out = subprocess.run([binary, "-version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else "unknown"


# -- measurements ------------------------------------------------------------------------------


def cloudrender_binary() -> list[str]:
    """The cloudrender entry point of this interpreter's environment."""
    beside = Path(sys.executable).parent / "cloudrender"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("cloudrender")
    if found:
        return [found]
    sys.exit("cloudrender is not installed in this environment (pip install -e .)")


def run_cloudrender(project: Path, output: Path) -> dict[str, Any]:
    """Render a project with `cloudrender render --direct --json`; its summary plus process time."""
    cmd = [*cloudrender_binary(), "render", str(project), "-o", str(output), "--direct", "--json"]
    began = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"cloudrender failed ({done.returncode}): {done.stderr.strip()}")
    summary: dict[str, Any] = json.loads(done.stdout)
    summary["process_seconds"] = round(wall, 3)
    summary["command"] = shlex.join(cmd)
    return summary


def run_ffmpeg(cmd: list[str], output: Path | None, frames: int) -> dict[str, Any]:
    """Run an ffmpeg command once, timed with perf_counter around the process."""
    began = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"ffmpeg failed ({done.returncode}): {done.stderr.strip()}")
    result: dict[str, Any] = {
        "seconds": round(wall, 3),
        "fps": round(frames / wall, 2),
        "command": shlex.join(cmd),
    }
    if output is not None:
        result["frames_written"] = count_frames(output)
        result["bytes"] = output.stat().st_size
        result["x264"] = x264_build(output)
    return result


def x264_build(path: Path) -> str:
    """The x264 version and threading an encoded file records in its SEI message."""
    data = path.read_bytes()[:1_000_000]
    found = re.search(rb"x264 - core (\d+)", data)
    threads = re.search(rb"threads=(\d+) lookahead_threads=\d+ sliced_threads=(\d)", data)
    if not found:
        return "unknown"
    text = f"x264 core {found.group(1).decode()}"
    if threads:
        kind = "slice" if threads.group(2) == b"1" else "frame"
        text += f", {threads.group(1).decode()} {kind} threads"
    return text


def count_frames(path: Path) -> int:
    """Video packets in a file (one per frame for h264)."""
    with av.open(str(path)) as container:
        return sum(1 for p in container.demux(video=0) if p.size)


def time_decode(path: Path) -> dict[str, float]:
    """PyAV decode of the source alone, and with the RGB24 conversion the renderer does."""
    result: dict[str, float] = {}
    for label, rgb in (("decode", False), ("decode_rgb", True)):
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"  # as workers.sources.VideoSource
            count = 0
            began = time.perf_counter()
            for frame in container.decode(stream):
                if rgb:
                    frame.to_ndarray(format="rgb24")
                count += 1
            seconds = time.perf_counter() - began
        result[f"{label}_fps"] = round(count / seconds, 2)
        result[f"{label}_ms"] = round(1000 * seconds / count, 2)
    return result


def time_encode(path: Path, frames: int, preset: str, output: Path) -> dict[str, float]:
    """Uncomposited frames through the renderer's encode steps, each timed alone."""
    bank: list[Rgb8] = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            bank.append(frame.to_ndarray(format="rgb24"))
            if len(bank) == ENCODE_BANK:
                break
    # Ping-pong through the bank: continuous motion, no cut every len(bank) frames.
    order = bank + bank[-2:0:-1] if len(bank) > 2 else bank
    # RGB24 -> yuv420p with BT.709 limited range, as workers.encoder.to_video_frame does.
    converted: list[Any] = []
    began = time.perf_counter()
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(order[i % len(order)], format="rgb24")
        frame = frame.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
        if i < len(order):
            converted.append(frame)
    convert = time.perf_counter() - began
    x264 = time_x264(converted, frames, preset, output, None)
    x264_frame = time_x264(converted, frames, preset, output, "FRAME")
    return {
        "rgb_to_yuv_ms": round(1000 * convert / frames, 2),
        "x264_ms": round(1000 * x264 / frames, 2),
        "x264_frame_threads_ms": round(1000 * x264_frame / frames, 2),
        "encode_fps": round(frames / (convert + x264), 2),
    }


def time_x264(
    pictures: list[Any], frames: int, preset: str, output: Path, thread_type: str | None
) -> float:
    """Seconds to encode frames (cycling yuv420p pictures) with the renderer's x264 settings."""
    with av.open(str(output), "w") as out:
        stream = out.add_stream(
            "libx264",
            rate=FPS,
            options={
                "crf": str(CRF),
                "preset": preset,
                "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0",
            },
        )
        stream.width, stream.height, stream.pix_fmt = (
            pictures[0].width,
            pictures[0].height,
            "yuv420p",
        )
        stream.codec_context.gop_size = GOP
        if thread_type is not None:  # None: PyAV's default, which the renderer uses
            stream.codec_context.thread_type = thread_type
        began = time.perf_counter()
        for i in range(frames):
            frame = pictures[i % len(pictures)]
            frame.pts = i  # libx264 copies the picture in encode(), so frames can be reused
            frame.time_base = Fraction(1, FPS)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        return time.perf_counter() - began


def composite_pass(project: Path, frames: int, profiler: cProfile.Profile | None = None) -> float:
    """Seconds for the compositor alone (decode, layers, effects; no encoder) over frames."""
    from chunking.loader import load
    from workers.compositor import Compositor

    timeline = load(str(project))
    end = min(frames, timeline.frames)
    compositor = Compositor(timeline)
    try:
        began = time.perf_counter()  # opening sources counts, as in render_to_file's timing
        if profiler is not None:
            profiler.enable()
        for _ in compositor.frames(0, end):
            pass
        if profiler is not None:
            profiler.disable()
        return time.perf_counter() - began
    finally:
        compositor.close()


def time_composite(project: Path, frames: int) -> dict[str, float]:
    """Throughput of the compositor alone over the first frames."""
    seconds = composite_pass(project, frames)
    return {
        "composite_only_fps": round(frames / seconds, 2),
        "composite_only_ms": 1000 * seconds / frames,
    }


def profile_composite(project: Path, frames: int, top: int = 15) -> dict[str, Any]:
    """cProfile the compositor over the first frames: top functions by own and by total time."""
    profiler = cProfile.Profile()
    seconds = composite_pass(project, frames, profiler)
    stats = pstats.Stats(profiler, stream=io.StringIO())
    raw: dict[Any, Any] = stats.stats  # pstats keeps its table in this attribute
    rows = []
    for (filename, line, name), (_, calls, tottime, cumtime, _) in raw.items():
        short = _short(filename)
        rows.append(
            {
                "function": f"{short}:{line}({name})" if line else name,
                "ours": short.startswith(("workers/", "chunking/")),
                "calls": calls,
                "tottime_ms_per_frame": round(1000 * tottime / frames, 2),
                "cumtime_ms_per_frame": round(1000 * cumtime / frames, 2),
            }
        )
    own = sorted(rows, key=lambda row: row["tottime_ms_per_frame"], reverse=True)[:top]
    ours = [row for row in rows if row["ours"]]
    cumulative = sorted(ours, key=lambda row: row["cumtime_ms_per_frame"], reverse=True)[:top]
    return {
        "frames": frames,
        "ms_per_frame": round(1000 * seconds / frames, 2),
        "own": own,
        "cumulative": cumulative,
    }


def _short(filename: str) -> str:
    root = str(Path(__file__).resolve().parent.parent) + os.sep
    if filename.startswith(root):
        return filename[len(root) :]
    marker = "site-packages" + os.sep
    return filename.split(marker, 1)[1] if marker in filename else filename


def machine() -> dict[str, Any]:
    """nproc, CPU model and library versions."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "pyav": av.__version__,
        "pyav_libavcodec": ".".join(map(str, av.library_versions["libavcodec"])),
    }


# -- main --------------------------------------------------------------------------------------


def parse_size(text: str) -> tuple[int, int]:
    """WIDTHxHEIGHT with even sides (yuv420p)."""
    try:
        w, h = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not WIDTHxHEIGHT") from None
    if w < 64 or h < 64 or w % 2 or h % 2:
        raise argparse.ArgumentTypeError(f"size {text!r}: sides must be even and at least 64")
    return w, h


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Generate inputs, run every measurement, return the results."""
    binary = ensure_ffmpeg(args.install)
    width, height = args.size
    frames = round(args.seconds * FPS)
    result: dict[str, Any] = {
        "machine": {**machine(), "ffmpeg": ffmpeg_version(binary)},
        "params": {
            "seconds": args.seconds,
            "frames": frames,
            "size": [width, height],
            "fps": FPS,
            "preset": args.preset,
            "crf": CRF,
            "gop": GOP,
            "blur": args.blur,
        },
    }
    with tempfile.TemporaryDirectory(prefix="cloudrender-bench-") as tmp:
        directory = Path(tmp)
        log(f"generating {width}x{height} {frames}-frame source and logo in {directory}")
        began = time.perf_counter()
        make_source(directory / "source.mp4", width, height, frames)
        make_logo(directory / "logo.png", width, height)
        project = directory / "project.json"
        write_project(project, width, height, args.seconds, args.preset, args.blur)
        single = directory / "single.json"
        write_single_layer(single, args.seconds, width, height, args.preset)
        result["inputs"] = {
            "source_bytes": (directory / "source.mp4").stat().st_size,
            "generate_seconds": round(time.perf_counter() - began, 2),
        }

        cmd = ffmpeg_command(
            directory, directory / "ffmpeg.mp4", width, height, frames, args.preset, args.blur
        )
        log("ffmpeg: " + shlex.join(cmd))
        result["ffmpeg"] = run_ffmpeg(cmd, directory / "ffmpeg.mp4", frames)
        log("ffmpeg: decode + filters only (-f null)")
        null = ffmpeg_command(directory, None, width, height, frames, args.preset, args.blur)
        filters_only = run_ffmpeg(null, None, frames)
        log("cloudrender: three layers")
        result["cloudrender"] = run_cloudrender(project, directory / "cloudrender.mp4")
        result["cloudrender"]["frames_written"] = count_frames(directory / "cloudrender.mp4")
        result["cloudrender"]["x264"] = x264_build(directory / "cloudrender.mp4")
        log("cloudrender: one layer")
        one = run_cloudrender(single, directory / "single.mp4")
        log("PyAV decode alone")
        decode = time_decode(directory / "source.mp4")
        log("PyAV RGB -> yuv420p + libx264 alone")
        encode = time_encode(directory / "source.mp4", frames, args.preset, directory / "enc.mp4")
        log("compositor alone (no encoder)")
        composite = time_composite(project, frames)

        render_ms = 1000 * result["cloudrender"]["seconds"] / frames
        decode_ms = 2 * decode["decode_ms"]  # two video layers decode the source each frame
        encode_ms = encode["rgb_to_yuv_ms"] + encode["x264_ms"]
        serial_ms = composite["composite_only_ms"] + encode_ms
        result["breakdown"] = {
            **decode,
            **encode,
            "one_layer_fps": one["fps"],
            "ffmpeg_filters_only_fps": filters_only["fps"],
            "composite_only_fps": composite["composite_only_fps"],
            # Serial cost of each stage measured alone; the render overlaps them.
            "per_frame_ms": {
                "decode_2_sources": round(decode_ms, 2),
                "composite": round(composite["composite_only_ms"] - decode_ms, 2),
                "encode": round(encode_ms, 2),
                "serial_sum": round(serial_ms, 2),
                "render": round(render_ms, 2),
                "overlap_saved": round(serial_ms - render_ms, 2),
            },
        }
        if args.profile:
            n = min(args.profile, frames)
            log(f"profiling the compositor over {n} frames")
            result["profile"] = profile_composite(project, n)
        if args.keep:
            keep = Path(args.keep)
            keep.mkdir(parents=True, exist_ok=True)
            for name in ("source.mp4", "logo.png", "project.json", "cloudrender.mp4", "ffmpeg.mp4"):
                shutil.copy2(directory / name, keep / name)
    ours, theirs = result["cloudrender"], result["ffmpeg"]
    result["ratio"] = round(ours["fps"] / theirs["fps"], 3)
    result["ratio_process"] = round(theirs["seconds"] / ours["process_seconds"], 3)
    return result


def print_table(result: dict[str, Any]) -> None:
    """The human-readable report."""
    m, p = result["machine"], result["params"]
    ours, theirs, b = result["cloudrender"], result["ffmpeg"], result["breakdown"]
    per = b["per_frame_ms"]
    print(f"machine: {m['nproc']} cores, {m['cpu']}; {m['ffmpeg']}; PyAV {m['pyav']}")
    print(
        f"input: {p['size'][0]}x{p['size'][1]} @ {p['fps']} fps, {p['frames']} frames, "
        f"libx264 preset {p['preset']} crf {p['crf']} gop {p['gop']}"
        + (f", blur sigma {p['blur']}" if p["blur"] else "")
    )
    print(f"ffmpeg command:\n  {theirs['command']}\n")
    rows = [
        ("cloudrender, 3 layers (JSON fps)", f"{ours['fps']:.2f} fps", f"{ours['seconds']:.2f} s"),
        (
            "cloudrender, whole process",
            f"{p['frames'] / ours['process_seconds']:.2f} fps",
            f"{ours['process_seconds']:.2f} s",
        ),
        ("ffmpeg, same graph", f"{theirs['fps']:.2f} fps", f"{theirs['seconds']:.2f} s"),
        ("ratio cloudrender/ffmpeg (fps)", f"{result['ratio']:.3f}", ""),
        ("ratio incl. process start", f"{result['ratio_process']:.3f}", ""),
        ("ffmpeg, decode + filters (-f null)", f"{b['ffmpeg_filters_only_fps']:.2f} fps", ""),
        ("cloudrender, 1 layer no effects", f"{b['one_layer_fps']:.2f} fps", ""),
        ("compositor alone (no encode)", f"{b['composite_only_fps']:.2f} fps", ""),
        ("PyAV decode", f"{b['decode_fps']:.2f} fps", f"{b['decode_ms']:.2f} ms/frame"),
        (
            "PyAV decode + to RGB24",
            f"{b['decode_rgb_fps']:.2f} fps",
            f"{b['decode_rgb_ms']:.2f} ms/frame",
        ),
        ("RGB -> yuv420p + x264", f"{b['encode_fps']:.2f} fps", ""),
        ("  RGB24 -> yuv420p (BT.709)", "", f"{b['rgb_to_yuv_ms']:.2f} ms/frame"),
        ("  x264, PyAV default threads", "", f"{b['x264_ms']:.2f} ms/frame"),
        ("  x264, frame threads", "", f"{b['x264_frame_threads_ms']:.2f} ms/frame"),
    ]
    for label, a, c in rows:
        print(f"{label:<36} {a:>12} {c:>16}")
    print(f"x264: cloudrender {ours['x264']}; ffmpeg {theirs['x264']}")
    print("\nper frame of the 3-layer render (each stage measured alone):")
    for key, label in (
        ("decode_2_sources", "decode (2 sources)"),
        ("composite", "composite"),
        ("encode", "encode"),
        ("serial_sum", "sum"),
    ):
        share = 100 * per[key] / per["serial_sum"] if per["serial_sum"] else 0.0
        print(f"  {label:<20} {per[key]:8.2f} ms  {share:5.1f}%")
    print(f"  {'render (pipelined)':<20} {per['render']:8.2f} ms")
    print(f"  {'sum - render':<20} {per['overlap_saved']:8.2f} ms  (overlap; negative: contention)")
    if "profile" in result:
        prof = result["profile"]
        print(
            f"\ncompositor profile, {prof['frames']} frames, {prof['ms_per_frame']:.1f} ms/frame "
            "under cProfile; ms per frame:"
        )
        print("  own time (top functions):")
        for row in prof["own"]:
            print(f"  {row['tottime_ms_per_frame']:8.2f}  {row['calls']:>7}  {row['function']}")
        print("  total time, project functions:")
        for row in prof["cumulative"]:
            print(f"  {row['cumtime_ms_per_frame']:8.2f}  {row['calls']:>7}  {row['function']}")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="timeline length (default 10)")
    parser.add_argument("--size", type=parse_size, default=(1920, 1080), help="WxH, 1920x1080")
    parser.add_argument("--preset", default="veryfast", help="x264 preset (default veryfast)")
    parser.add_argument("--blur", type=float, default=0.0, help="Gaussian blur sigma on layer 2")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="FRAMES",
        help="also cProfile the compositor over this many frames",
    )
    parser.add_argument("--keep", metavar="DIR", help="copy inputs and outputs to DIR")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--install", action="store_true", help=f"run '{INSTALL}' if needed")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 600 or round(args.seconds * FPS) < 2:
        parser.error(f"--seconds must give at least 2 frames at {FPS} fps and be at most 600")
    if args.profile < 0:
        parser.error("--profile must be >= 0")
    result = benchmark(args)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
