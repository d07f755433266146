"""Time the conversion of one HDR frame (PQ, HLG) to the render's SDR BT.709 RGB: workers.hdr's
C kernel, its NumPy reference, and the SDR frame's swscale conversion they are compared with.

CPU milliseconds per call on a 10-bit 4:2:0 frame of random samples (1920x1080 by default),
the median of ``--calls`` calls (the steps taken in turn, so that a busy machine slows them
alike), in this process. ``colour`` is hdr.to_sdr alone (16-bit planes to RGB24);
``frame`` is all that frame_picture.frame_picture does with a decoded frame: swscale to
yuv444p16le, then the colour conversion. ``sdr_frame`` is frame_picture of an 8-bit BT.709 frame
of the same size (swscale to RGB24), which the ratios are to.

Run: ``.venv/bin/python bench/hdr_steps.py [--size 1920x1080] [--calls 15] [--json]``.
"""

from __future__ import annotations

import os

# One BLAS thread, as a worker's render process runs (workers.blas); before numpy loads.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402
import numpy as np  # noqa: E402

from bench.script import emit  # noqa: E402
from workers import frame_picture, hdr, kernels  # noqa: E402
from workers.allocator import keep_frame_buffers  # noqa: E402


def frame(width: int, height: int, pixels: str, trc: int) -> Any:
    """A frame of random samples in every plane, tagged BT.2020 (BT.709 for SDR), limited range."""
    rng = np.random.default_rng(20261206)
    out = av.VideoFrame(width, height, pixels)
    for plane in out.planes:
        dtype = np.uint16 if pixels.endswith("10le") else np.uint8
        rows = np.frombuffer(plane, dtype).reshape(plane.height, -1)
        rows[:] = rng.integers(
            64 if dtype is np.uint16 else 16,
            941 if dtype is np.uint16 else 236,
            rows.shape,
            dtype=dtype,
        )
    space = 9 if trc in (hdr.TRC_PQ, hdr.TRC_HLG) else 1
    out.color_trc, out.color_primaries, out.colorspace, out.color_range = trc, space, space, 1
    return out


def steps(width: int, height: int) -> dict[str, Callable[[], Any]]:
    """Each step on a fixed frame of this size ('numpy' ones with the C kernels turned off)."""
    table: dict[str, Callable[[], Any]] = {}
    sdr = frame(width, height, "yuv420p", 1)
    table["sdr_frame"] = lambda: frame_picture.frame_picture(sdr, None)
    for name, trc in (("pq", hdr.TRC_PQ), ("hlg", hdr.TRC_HLG)):
        source = frame(width, height, "yuv420p10le", trc)
        conversion = frame_picture._conversion(source)
        assert conversion is not None
        yuv = source.reformat(format="yuv444p16le", interpolation="BILINEAR")
        planes = [np.frombuffer(p, np.uint16).reshape(height, -1)[:, :width] for p in yuv.planes]

        def colour(planes: list[Any] = planes, conversion: Any = conversion) -> Any:
            return hdr.to_sdr(planes[0], planes[1], planes[2], conversion, 10)

        def whole(source: Any = source) -> Any:
            return frame_picture.frame_picture(source, None)

        table[f"{name}_colour"] = colour
        table[f"{name}_frame"] = whole
    return table


def cpu_ms(step: Callable[[], Any]) -> float:
    """One call's CPU milliseconds."""
    began = time.process_time()
    step()
    return (time.process_time() - began) * 1000


def measure(width: int, height: int, calls: int) -> dict[str, Any]:
    """The median CPU ms of each step, with the C kernel and with NumPy, calls interleaved."""
    keep_frame_buffers()  # as a render process does: frame buffers reused, not faulted in
    table = steps(width, height)
    runs: dict[str, list[float]] = {}
    for _ in range(calls):
        for name, step in table.items():
            runs.setdefault(f"{name} kernel", []).append(cpu_ms(step))
            if name != "sdr_frame":
                with kernels.numpy_only():
                    runs.setdefault(f"{name} numpy", []).append(cpu_ms(step))
    ms = {name: round(statistics.median(values), 2) for name, values in runs.items()}
    ms["sdr_frame"] = ms.pop("sdr_frame kernel")
    sdr = ms["sdr_frame"]
    ratios = {name: round(value / sdr, 2) for name, value in ms.items() if name != "sdr_frame"}
    return {
        "size": f"{width}x{height}",
        "backend": kernels.BACKEND,
        "calls": calls,
        "ms": ms,
        "times_sdr_frame": ratios,
    }


def print_table(result: dict[str, Any]) -> None:
    """The steps as a table."""
    median = f"median of {result['calls']}"
    print(f"{result['size']}, kernels {result['backend']}; CPU ms per call ({median})")
    print(f"  {'step':<20} {'ms':>8} {'x sdr_frame':>12}")
    print(f"  {'sdr_frame':<20} {result['ms']['sdr_frame']:8.2f} {1:12.2f}")
    for name, ratio in result["times_sdr_frame"].items():
        print(f"  {name:<20} {result['ms'][name]:8.2f} {ratio:12.2f}")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1920x1080", help="WxH, even sides (default 1920x1080)")
    parser.add_argument("--calls", type=int, default=15, help="calls per step (default 15)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size must be WxH, got {args.size!r}")
    if width < 2 or height < 2 or width % 2 or height % 2 or args.calls < 1:
        parser.error("--size must have even sides and --calls must be positive")
    emit(measure(width, height, args.calls), args.json, print_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
