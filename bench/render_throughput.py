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

The pieces: ``bench.throughput_project`` (media and project), ``bench.ffmpeg_compare`` (the
ffmpeg command), ``bench.throughput_stages`` (the measurements), ``bench.throughput_report``
(the table).

Run: ``.venv/bin/python bench/render_throughput.py [--seconds N] [--size WxH] [--preset P]
[--json] [--blur SIGMA] [--profile FRAMES] [--keep DIR] [--install]``. Results are recorded in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ffmpeg_compare import (
    INSTALL,
    count_frames,
    ensure_ffmpeg,
    ffmpeg_command,
    ffmpeg_version,
    run_ffmpeg,
    x264_build,
)
from bench.measure import media_machine
from bench.script import emit, log
from bench.throughput_project import (
    CRF,
    FPS,
    GOP,
    add_timeline_args,
    check_seconds,
    inputs_record,
    make_media,
    write_project,
    write_single_layer,
)
from bench.throughput_report import print_table
from bench.throughput_stages import (
    profile_composite,
    run_cloudrender,
    time_composite,
    time_decode,
    time_encode,
)


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Generate inputs, run every measurement, return the results."""
    binary = ensure_ffmpeg(args.install)
    width, height = args.size
    frames = round(args.seconds * FPS)
    result: dict[str, Any] = {
        "machine": {**media_machine(), "ffmpeg": ffmpeg_version(binary)},
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
        began = time.perf_counter()
        make_media(directory, width, height, frames)
        project = directory / "project.json"
        write_project(project, width, height, args.seconds, args.preset, args.blur)
        single = directory / "single.json"
        write_single_layer(single, args.seconds, width, height, args.preset)
        result["inputs"] = inputs_record(directory, began)

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


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_timeline_args(parser, seconds=10.0)
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
    check_seconds(parser, args.seconds)
    if args.profile < 0:
        parser.error("--profile must be >= 0")
    emit(benchmark(args), args.json, print_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
