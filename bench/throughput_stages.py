"""Measurements of the renderer: the whole render as a subprocess, then each stage alone.

    run_cloudrender     ``cloudrender render --direct --json``, plus the whole process's time
    time_decode         PyAV decode of the source alone, and with the RGB24 conversion
    time_encode         RGB24 -> yuv420p (BT.709) and libx264 on uncomposited frames, each alone
    time_composite      the compositor alone (decode, layers, effects; no encoder)
    profile_composite   a cProfile of the compositor pass: top functions per frame, in CPU
                        time of the compositing thread (cpu_profile)

Serial costs per frame; the renderer overlaps compositing with encoding (workers.pipeline).
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import shlex
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from bench.measure import run_timed
from bench.script import render_command
from bench.throughput_project import CRF, FPS, GOP, Rgb8
from workers.encoder import EncoderChoice, to_video_frame

#: Decoded frames kept for the encode-only measurement (1080p RGB: 6 MB each).
ENCODE_BANK = 30


def run_cloudrender(project: Path, output: Path) -> dict[str, Any]:
    """Render a project with `cloudrender render --direct --json`; its summary plus process time."""
    cmd = render_command(project, output, ["--direct"])
    timed = run_timed(cmd)
    done, wall = timed.done, timed.wall
    if done.returncode != 0:
        sys.exit(f"cloudrender failed ({done.returncode}): {done.stderr.strip()}")
    summary: dict[str, Any] = json.loads(done.stdout)
    summary["process_seconds"] = round(wall, 3)
    summary["command"] = shlex.join(cmd)
    return summary


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
    # RGB24 -> yuv420p with BT.709 limited range: the renderer's own conversion (its C kernel
    # where built, else swscale).
    choice = EncoderChoice("libx264", "yuv420p", {})
    converted: list[Any] = []
    began = time.perf_counter()
    for i in range(frames):
        frame = to_video_frame(order[i % len(order)], choice)
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
    from chunking.timeline.loader import load
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
    return cpu_profile(lambda profiler: composite_pass(project, frames, profiler), frames, top)


def cpu_profile(
    run: Callable[[cProfile.Profile], float], frames: int, top: int = 15
) -> dict[str, Any]:
    """Profile ``run`` (given the profiler to enable around its work; it returns wall seconds)
    in CPU time of the calling thread: on a shared machine wall time charges a function with
    every other process's turn, and with the decoder's threads (which count in
    ``process_cpu_ms_per_frame``, not in the rows). Top functions by own and by total time."""
    profiler = cProfile.Profile(time.thread_time)
    thread0, process0 = time.thread_time(), time.process_time()
    seconds = run(profiler)
    thread = time.thread_time() - thread0
    process = time.process_time() - process0
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
        "thread_cpu_ms_per_frame": round(1000 * thread / frames, 2),
        "process_cpu_ms_per_frame": round(1000 * process / frames, 2),
        "own": own,
        "cumulative": cumulative,
    }


def _short(filename: str) -> str:
    root = str(Path(__file__).resolve().parent.parent) + os.sep
    if filename.startswith(root):
        return filename[len(root) :]
    marker = "site-packages" + os.sep
    return filename.split(marker, 1)[1] if marker in filename else filename
