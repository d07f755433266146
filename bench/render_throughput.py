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

``--whole N`` then compares whole processes as a user runs them, over N rounds in a rotating
order (``bench.whole_process``): the default ``cloudrender render`` (a private local cluster:
Redis, one worker slot per core, an orchestrator; an empty segment cache each run), ``cloudrender
render --direct`` and the ffmpeg command, each with wall time, CPU seconds of its whole process
tree and peak memory (sum of Pss); medians, ratios to ffmpeg, the targets and whether each is
met. ``--whole-only`` skips the stage measurements; ``--wait-quiet S`` waits up to S seconds
before each of those runs for other processes to settle.

The pieces: ``bench.throughput_project`` (media and project), ``bench.ffmpeg_compare`` (the
ffmpeg command), ``bench.throughput_stages`` (the measurements), ``bench.whole_process`` (the
whole-process comparison), ``bench.throughput_report`` (the table).

Run: ``.venv/bin/python bench/render_throughput.py [--seconds N] [--size WxH] [--preset P]
[--json] [--blur SIGMA] [--profile FRAMES] [--whole N [--whole-only] [--wait-quiet S]]
[--keep DIR] [--install]``. Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
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
from bench.leftovers import drop_foreign
from bench.measure import QUIET_CORES, media_machine
from bench.script import emit, exit_on_signals, log, render_command
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
from bench.whole_process import Contender, Invocation, compare
from common.errors import RenderError
from workers.arrays import planned


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Generate inputs, run every measurement, return the results."""
    binary = ensure_ffmpeg(args.install)
    compositor = compositor_backend()
    width, height = args.size
    frames = round(args.seconds * FPS)
    result: dict[str, Any] = {
        "machine": {**media_machine(), "ffmpeg": ffmpeg_version(binary), "compositor": compositor},
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
        if not args.whole_only:
            stages(args, directory, result)
        if args.whole:
            contenders = whole_contenders(directory, args)
            result["whole"] = compare(
                contenders,
                "ffmpeg",
                frames,
                args.whole,
                directory,
                quiet=args.wait_quiet,
                also_against="ffmpeg-split",
            )
        if args.keep:
            keep = Path(args.keep)
            keep.mkdir(parents=True, exist_ok=True)
            for name in ("source.mp4", "logo.png", "project.json", "cloudrender.mp4", "ffmpeg.mp4"):
                if (directory / name).exists():  # no renders kept with --whole-only
                    shutil.copy2(directory / name, keep / name)
    return result


def compositor_backend() -> str:
    """What the renders will composite on (CLOUDRENDER_COMPOSITOR, CuPy and a GPU or not), in
    words; stops with one line first where the setting cannot be met (gpu without CuPy)."""
    try:
        return planned().describe()  # probes CUDA in a fresh Python, not in this process
    except RenderError as exc:
        sys.exit(f"error: {exc}")


def stages(args: argparse.Namespace, directory: Path, result: dict[str, Any]) -> None:
    """The single renders of each side and each stage of the renderer alone, into `result`."""
    width, height = args.size
    frames = round(args.seconds * FPS)
    project = directory / "project.json"
    single = directory / "single.json"
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

    result["breakdown"] = {
        **decode,
        **encode,
        "one_layer_fps": one["fps"],
        "ffmpeg_filters_only_fps": filters_only["fps"],
        "composite_only_fps": composite["composite_only_fps"],
        "per_frame_ms": per_frame_ms(
            1000 * result["cloudrender"]["seconds"] / frames,
            decode["decode_ms"],
            composite["composite_only_ms"],
            encode["rgb_to_yuv_ms"] + encode["x264_ms"],
        ),
    }
    if args.profile:
        n = min(args.profile, frames)
        log(f"profiling the compositor over {n} frames")
        result["profile"] = profile_composite(project, n)
    ours, theirs = result["cloudrender"], result["ffmpeg"]
    result["ratio"] = round(ours["fps"] / theirs["fps"], 3)
    result["ratio_process"] = round(theirs["seconds"] / ours["process_seconds"], 3)


def per_frame_ms(
    render_ms: float, decode_ms: float, composite_only_ms: float, encode_ms: float
) -> dict[str, float]:
    """Serial cost of each stage measured alone, their sum, and what the pipelined render saves.

    The compositor pass includes decoding; the two video layers show the same frame of the
    source, which it decodes once for both (VideoSource.share), so one decode comes off it.
    """
    serial_ms = composite_only_ms + encode_ms
    return {
        "decode": round(decode_ms, 2),
        "composite": round(composite_only_ms - decode_ms, 2),
        "encode": round(encode_ms, 2),
        "serial_sum": round(serial_ms, 2),
        "render": round(render_ms, 2),
        "overlap_saved": round(serial_ms - render_ms, 2),
    }


def whole_contenders(directory: Path, args: argparse.Namespace) -> list[Contender]:
    """The default render (private local cluster), ``--direct`` and the ffmpeg command."""
    width, height = args.size
    frames = round(args.seconds * FPS)
    project = directory / "project.json"

    def cluster(extra: list[str]) -> Callable[[Path], Invocation]:
        def build(run: Path) -> Invocation:
            """``cloudrender render`` as a user runs it: its own Redis, workers, orchestrator."""
            env = dict(os.environ)
            drop_foreign(env)  # a broker in the calling shell would skip the private cluster
            # An empty segment cache per run: a warm one would skip the rendering altogether.
            env["CLOUDRENDER_EMBEDDED_DIR"] = str(run / "embedded")
            output = run / "out.mp4"
            return Invocation(render_command(project, output, extra), output, env)

        return build

    def direct(run: Path) -> Invocation:
        """``cloudrender render --direct``: the whole render in the CLI's process."""
        output = run / "out.mp4"
        return Invocation(render_command(project, output, ["--direct"]), output)

    def ffmpeg(run: Path) -> Invocation:
        """The equivalent ffmpeg command."""
        output = run / "out.mp4"
        cmd = ffmpeg_command(directory, output, width, height, frames, args.preset, args.blur)
        return Invocation(cmd, output)

    def ffmpeg_split(run: Path) -> Invocation:
        """The ffmpeg command decoding the source once for both layers, as the renderer does."""
        output = run / "out.mp4"
        cmd = ffmpeg_command(
            directory, output, width, height, frames, args.preset, args.blur, one_decode=True
        )
        return Invocation(cmd, output)

    # Other splits of the node into slots, each slot's encoder getting cores / N threads.
    slots = [
        Contender(
            f"workers-{n}", f"cloudrender render --workers {n}", cluster(["--workers", str(n)])
        )
        for n in args.slots
    ]
    return [
        Contender("default", "cloudrender render", cluster([])),
        *slots,
        Contender("direct", "cloudrender render --direct", direct),
        Contender("ffmpeg", "ffmpeg", ffmpeg),
        Contender("ffmpeg-split", "ffmpeg, one decode (split)", ffmpeg_split),
    ]


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
    parser.add_argument(
        "--whole",
        type=int,
        default=0,
        metavar="N",
        help="also compare whole processes (default render, --direct, ffmpeg) over N rounds",
    )
    parser.add_argument(
        "--whole-only", action="store_true", help="only the --whole comparison, no stages"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="S",
        help=f"before each --whole run wait up to S s for others to use < {QUIET_CORES} cores",
    )
    parser.add_argument(
        "--slots",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="also run the default render with --workers N in the --whole comparison (repeatable)",
    )
    parser.add_argument("--keep", metavar="DIR", help="copy inputs and outputs to DIR")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--install", action="store_true", help=f"run '{INSTALL}' if needed")
    args = parser.parse_args(argv)
    check_seconds(parser, args.seconds)
    if args.profile < 0:
        parser.error("--profile must be >= 0")
    if args.whole < 0 or args.wait_quiet < 0:
        parser.error("--whole and --wait-quiet must be >= 0")
    if any(n < 1 for n in args.slots) or (args.slots and not args.whole):
        parser.error("--slots N needs N >= 1 and --whole")
    if args.whole_only and not args.whole:
        parser.error("--whole-only needs --whole N (the number of rounds)")
    if args.whole_only and args.profile:
        parser.error("--profile profiles the stages, which --whole-only skips")
    emit(benchmark(args), args.json, print_table)
    return 0


if __name__ == "__main__":
    exit_on_signals()  # stopped by timeout or kill: children stopped, temp dir removed
    sys.exit(main())
