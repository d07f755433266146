"""A frame composited band by band: the bottom layer's float picture never goes out to memory.

The plain way (workers.compositor) makes the opaque bottom layer a whole float canvas (25 MB at
1080p, ``kernels.to_float_steps``), blends each layer above into it, then reads it all again to
8 bits: the render's largest stream of memory traffic. Where the bottom layer is still 8 bits
with per-pixel steps to run (``Pending``) and every layer above is one the C blend takes, the C
kernel ``cr_composite`` does all of it a band of rows at a time, in a buffer that stays in the
cache. Each sample sees the same float32 operations in the same order, so the frame has the
plain way's bits (tests/workers/test_banded.py).
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import numpy as np

from workers import kernels, kernels_lib
from workers.layer import Image, Layer
from workers.sources import Rgb8

#: Floats a band holds: 256 KB, within a core's L2 cache with the rows it reads and writes.
BAND_FLOATS = 64 * 1024
#: cr_composite's limit on the bottom layer's steps.
MAX_STEPS = 64


@dataclass(frozen=True)
class Pending:
    """An opaque bottom layer that covers the canvas, not yet in float: its 8-bit picture and
    the per-pixel steps that make its float image (``kernels.to_float_steps``)."""

    rgb8: Rgb8
    steps: tuple[kernels.Gain | kernels.Affine, ...]

    def image(self, out: Image | None = None) -> Image:
        """The float image the plain way would blend onto (written into ``out`` if given)."""
        return kernels.to_float_steps(self.rgb8, self.steps, out)


def composite(base: Pending, layers: list[Layer]) -> Rgb8 | None:
    """``base`` with ``layers`` blended over it in order, in 8 bits, band by band with the C
    kernel; None (nothing done) where it was not built or a layer is not one it takes."""
    lib = kernels_lib.LIB
    rgb8 = base.rgb8
    if lib is None or type(rgb8) is not np.ndarray or rgb8.ndim != 3 or rgb8.shape[2] != 3:
        return None
    if rgb8.dtype != np.uint8 or not rgb8.flags.c_contiguous or len(base.steps) > MAX_STEPS:
        return None
    height, width = rgb8.shape[:2]
    steps = kernels.step_arrays(base.steps, height, width)
    pieces = _pieces(layers, width, height)
    if steps is None or pieces is None:
        return None
    count = len(pieces)
    rgbs = (ctypes.c_void_p * max(count, 1))()
    alphas = (ctypes.c_void_p * max(count, 1))()
    geometry = (ctypes.c_ssize_t * max(6 * count, 1))()
    opacities = (ctypes.c_float * max(count, 1))()
    modes = (ctypes.c_int32 * max(count, 1))()
    for i, (rgb, alpha, x, y, opacity) in enumerate(pieces):
        rgbs[i] = rgb.ctypes.data
        alphas[i] = alpha.ctypes.data if alpha is not None else None
        a_rows = alpha.strides[0] // 4 if alpha is not None else 0
        geometry[6 * i : 6 * i + 6] = [rgb.strides[0] // 4, a_rows, x, y, *rgb.shape[1::-1]]
        opacities[i] = float(np.float32(opacity))
        opaque = alpha is None and opacity >= 1
        modes[i] = 0 if opaque else (2 if opacity < 1 else 1)
    rows = max(1, min(height, BAND_FLOATS // (3 * max(width, 1))))
    band = np.empty((rows, width, 3), dtype=np.float32)
    out = np.empty((height, width, 3), dtype=np.uint8)
    lib.cr_composite(
        rgb8.ctypes.data_as(kernels_lib.U8),
        height,
        width,
        len(base.steps),
        *steps.pointers,
        count,
        rgbs,
        alphas,
        geometry,
        opacities,
        modes,
        band.ctypes.data_as(kernels_lib.F32),
        rows,
        out.ctypes.data_as(kernels_lib.U8),
    )
    return out


_Piece = tuple[Image, Image | None, int, int, float]


def _pieces(layers: list[Layer], width: int, height: int) -> list[_Piece] | None:
    """Every layer's pieces cut to the canvas, as workers.layer.blend draws them (rgb, alpha,
    x, y, opacity); None where one is not float32 RGB with packed pixels the C blend takes."""
    pieces: list[_Piece] = []
    for layer in layers:
        for piece in (layer, *layer.more):
            rgb, alpha = piece.rgb, piece.alpha
            if type(rgb) is not np.ndarray or rgb.dtype != np.float32 or rgb.ndim != 3:
                return None
            if rgb.shape[2] != 3 or rgb.strides[1:] != (12, 4) or rgb.strides[0] % 4:
                return None
            if alpha is not None and not (
                type(alpha) is np.ndarray
                and alpha.dtype == np.float32
                and alpha.shape == rgb.shape[:2]
                and alpha.strides[1] == 4
                and alpha.strides[0] % 4 == 0
            ):
                return None
            lh, lw = rgb.shape[:2]
            x0, y0 = max(piece.x, 0), max(piece.y, 0)
            x1, y1 = min(piece.x + lw, width), min(piece.y + lh, height)
            if x0 >= x1 or y0 >= y1 or layer.opacity <= 0:
                continue  # as _blend_piece: nothing of it is drawn
            rows, cols = slice(y0 - piece.y, y1 - piece.y), slice(x0 - piece.x, x1 - piece.x)
            cut = alpha[rows, cols] if alpha is not None else None
            pieces.append((rgb[rows, cols], cut, x0, y0, layer.opacity))
    return pieces
