"""Time each per-pixel compositing step on one frame: the C kernels, their NumPy reference, and
the swscale conversion the yuv420p kernel replaced.

CPU milliseconds per call on a random frame (1920x1080 by default), best of ``--repeat`` runs of
``--calls`` calls each, in this process (one BLAS thread, as a render process runs). The steps
are those of ``workers.kernels``: uint8 to float and back, the vignette's gain map, a colour
matrix, the throughput bench's base layer (uint8 to float with its saturation matrix and
vignette in one pass, ``to_float_steps``), blending with one opacity and with half-transparent
alpha, a bench frame's base layer, half-size layer and 8 bits plain and in bands
(``workers.banded``), and RGB to yuv420p; the encoder's yuv420p of that frame from its 8 bits
or straight from the bands (``banded.composite_yuv420p``).

Run: ``.venv/bin/python bench/kernel_steps.py [--size 1920x1080] [--calls 20] [--repeat 3]
[--json]``.
"""

from __future__ import annotations

import os

# One BLAS thread, as a worker's render process runs (workers.blas); before numpy loads.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av  # noqa: E402
import numpy as np  # noqa: E402

from bench.script import emit  # noqa: E402
from workers import banded, kernels  # noqa: E402
from workers.allocator import keep_frame_buffers  # noqa: E402
from workers.color import saturation_matrix  # noqa: E402
from workers.effect_steps import vignette_mask  # noqa: E402
from workers.layer import Layer, blend  # noqa: E402


def best_ms(step: Callable[[], Any], calls: int, repeat: int) -> float:
    """The fastest of `repeat` runs of `calls` calls, in CPU milliseconds per call."""
    runs = []
    for _ in range(repeat):
        began = time.process_time()
        for _ in range(calls):
            step()
        runs.append((time.process_time() - began) / calls * 1000)
    return round(min(runs), 3)


def steps(width: int, height: int) -> dict[str, Callable[[], Any]]:
    """Each step on a fixed random frame of this size."""
    rng = np.random.default_rng(20261204)
    rgb8 = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    image = kernels.numpy_to_float(rgb8)
    gain = rng.random((height, width), dtype=np.float32)
    matrix = np.array([[1.1, 0.1, 0], [0, 1.2, 0.1], [0.05, 0, 0.9]], np.float32)
    alpha = (rng.random((height, width), dtype=np.float32) > 0.5).astype(np.float32) * 0.7
    canvas = image.copy()
    # The bench's base layer: Saturation 1.3, then a Vignette (0.5, radius 0.6), in one pass.
    base = [
        kernels.Affine(saturation_matrix(1.3)),
        kernels.Gain(vignette_mask(height, width, 0.5, 0.6)),
    ]
    kept = np.empty(image.shape, np.float32)  # a layer's array kept from frame to frame
    chroma = ((height + 1) // 2, (width + 1) // 2)
    planes = (np.empty((height, width), np.uint8), np.empty(chroma, np.uint8))
    planes += (np.empty(chroma, np.uint8),)

    def swscale() -> Any:
        frame = av.VideoFrame.from_ndarray(rgb8, format="rgb24")
        return frame.reformat(format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")

    # A frame of the bench, plain and in bands (workers.banded): the base layer, a half-size
    # layer at opacity 0.8 over it, then to 8 bits.
    pending = banded.Pending(rgb8, tuple(base))
    half = np.ascontiguousarray(image[: height // 2, : width // 2])
    over = [Layer(half, None, width // 2 - width // 10, height // 16, 0.8)]

    def frame_plain() -> Any:
        canvas = pending.image(kept)
        for layer in over:
            blend(canvas, layer)
        return kernels.to_uint8(canvas)

    def frame_banded() -> Any:
        done = banded.composite(pending, over)
        return frame_plain() if done is None else done

    def yuv420p() -> Any:
        if not kernels.rgb_to_yuv420p(rgb8, planes):
            return kernels.numpy_rgb_to_yuv420p(rgb8)
        return planes

    # The encoder's input of that frame: its 8-bit RGB then yuv420p, or in bands straight to
    # the planes (the render's path for the C kernel's yuv420p encoders).
    def frame_banded_then_yuv() -> Any:
        done = frame_banded()
        if not kernels.rgb_to_yuv420p(done, planes):
            return kernels.numpy_rgb_to_yuv420p(done)
        return planes

    def frame_banded_yuv() -> Any:
        if not banded.composite_yuv420p(pending, over, planes):
            return frame_banded_then_yuv()
        return planes

    return {
        "to_float": lambda: kernels.to_float(rgb8),
        "to_uint8": lambda: kernels.to_uint8(image),
        "gain_clip": lambda: kernels.gain_clip(image, gain),
        "affine_clip": lambda: kernels.affine_clip(image, matrix, 0.01),
        "to_float_steps_base": lambda: kernels.to_float_steps(rgb8, base, kept),
        "blend_opacity": lambda: kernels.blend(canvas, image, None, 0.8),
        "blend_alpha": lambda: kernels.blend(canvas, image, alpha, 0.8),
        "frame_plain": frame_plain,
        "frame_banded": frame_banded,
        "frame_banded_then_yuv": frame_banded_then_yuv,
        "frame_banded_yuv": frame_banded_yuv,
        "rgb_to_yuv420p": yuv420p,
        "swscale_rgb_to_yuv420p": swscale,
    }


def measure(width: int, height: int, calls: int, repeat: int) -> dict[str, Any]:
    """Every step with the C kernels and with the NumPy reference."""
    keep_frame_buffers()  # as a render process does: frame buffers reused, not faulted in
    table = steps(width, height)
    result: dict[str, Any] = {"size": f"{width}x{height}", "backend": kernels.BACKEND, "ms": {}}
    for name, step in table.items():
        c_ms = best_ms(step, calls, repeat)
        with kernels.numpy_only():
            numpy_ms = best_ms(step, max(1, calls // 4), repeat)
        result["ms"][name] = {"kernels": c_ms, "numpy": numpy_ms}
    return result


def print_table(result: dict[str, Any]) -> None:
    """The steps as a table."""
    print(f"{result['size']}, kernels {result['backend']}; CPU ms per call (best run)")
    print(f"  {'step':<24} {'C kernels':>10} {'NumPy':>10}")
    for name, ms in result["ms"].items():
        print(f"  {name:<24} {ms['kernels']:10.2f} {ms['numpy']:10.2f}")


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1920x1080", help="WxH (default 1920x1080)")
    parser.add_argument("--calls", type=int, default=20, help="calls per run (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best counts (3)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size must be WxH, got {args.size!r}")
    if width < 1 or height < 1 or args.calls < 1 or args.repeat < 1:
        parser.error("--size, --calls and --repeat must be positive")
    emit(measure(width, height, args.calls, args.repeat), args.json, print_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
