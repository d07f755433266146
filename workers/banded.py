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


class _Steps(ctypes.Structure):
    """kernels.c's cr_steps: a layer's steps as cr_to_float_steps reads them."""

    _fields_ = [
        ("count", ctypes.c_int),
        ("kinds", ctypes.c_void_p),
        ("gains", ctypes.c_void_p),
        ("params", ctypes.c_void_p),
    ]


@dataclass(frozen=True)
class Pending:
    """A layer without alpha not yet in float: its 8-bit picture, the per-pixel steps that make
    its float image (``kernels.to_float_steps``), where it sits and its opacity."""

    rgb8: Rgb8
    steps: tuple[kernels.Gain | kernels.Affine, ...]
    x: int = 0
    y: int = 0
    opacity: float = 1.0

    def image(self, out: Image | None = None) -> Image:
        """The float image the plain way would blend (written into ``out`` if given)."""
        return kernels.to_float_steps(self.rgb8, self.steps, out)

    def layer(self, out: Image | None = None) -> Layer:
        """The layer the plain way would blend."""
        return Layer(self.image(out), None, self.x, self.y, self.opacity)


def composite(base: Pending, layers: list[Layer | Pending]) -> Rgb8 | None:
    """``base`` (covering the canvas, opaque) with ``layers`` blended over it in order, in 8
    bits, band by band with the C kernel; None (nothing done) where it was not built or a layer
    is not one it takes."""
    return _composite(base, layers, None)


def composite_yuv420p(
    base: Pending, layers: list[Layer | Pending], planes: tuple[Rgb8, Rgb8, Rgb8]
) -> bool:
    """``composite`` written straight into yuv420p planes (Y, U, V views, rows may be padded):
    the bytes ``kernels.rgb_to_yuv420p`` makes of its frame, each band converted while it is in
    the cache; False (nothing written) where ``composite`` would give None."""
    return _composite(base, layers, planes) is not None


def _composite(
    base: Pending, layers: list[Layer | Pending], planes: tuple[Rgb8, Rgb8, Rgb8] | None
) -> Rgb8 | None:
    """``composite``; with ``planes``, into them, and the array returned is one band's bytes."""
    lib = kernels_lib.LIB
    if lib is None or not _takes(base.rgb8) or not base.rgb8.flags.c_contiguous:
        return None
    height, width = base.rgb8.shape[:2]
    held: list[object] = []  # what the C arrays point into, alive until the call returns
    base_steps = _steps(base, held)
    pieces = _pieces(layers, width, height)
    if base_steps is None or pieces is None:
        return None
    count = max(len(pieces), 1)
    rgbs, srcs, alphas = ((ctypes.c_void_p * count)() for _ in range(3))
    steps = (_Steps * count)()
    geometry = (ctypes.c_ssize_t * (6 * count))()
    opacities = (ctypes.c_float * count)()
    modes = (ctypes.c_int32 * count)()
    for i, (picture, alpha, x, y, opacity) in enumerate(pieces):
        if isinstance(picture, Pending):
            these = _steps(picture, held)
            if these is None:
                return None
            srcs[i], steps[i] = picture.rgb8.ctypes.data, these
            stride = picture.rgb8.strides[0]
            size = picture.rgb8.shape[1::-1]
        else:
            rgbs[i], stride, size = (
                picture.ctypes.data,
                picture.strides[0] // 4,
                picture.shape[1::-1],
            )
        alphas[i] = alpha.ctypes.data if alpha is not None else None
        a_rows = alpha.strides[0] // 4 if alpha is not None else 0
        geometry[6 * i : 6 * i + 6] = [stride, a_rows, x, y, *size]
        opacities[i] = float(np.float32(opacity))
        opaque = alpha is None and opacity >= 1
        modes[i] = 0 if opaque else (2 if opacity < 1 else 1)
    rows = max(1, min(height, BAND_FLOATS // (3 * max(width, 1))))
    band = np.empty((2, rows, width, 3), dtype=np.float32)
    yuv: list[object] = [None, 0, None, 0, None, 0, None, None]
    if planes is not None:
        yuv = kernels.yuv420p_args(planes, height, width)
    out = np.empty((rows if planes is not None else height, width, 3), dtype=np.uint8)
    lib.cr_composite(
        base.rgb8.ctypes.data_as(kernels_lib.U8),
        height,
        width,
        ctypes.byref(base_steps),
        len(pieces),
        rgbs,
        srcs,
        steps,
        alphas,
        geometry,
        opacities,
        modes,
        band[0].ctypes.data_as(kernels_lib.F32),
        band[1].ctypes.data_as(kernels_lib.F32),
        rows,
        out.ctypes.data_as(kernels_lib.U8),
        *yuv,
    )
    return out


def _takes(rgb8: Rgb8) -> bool:
    """Whether an 8-bit picture is one the kernel reads: RGB rows of packed pixels."""
    return (
        type(rgb8) is np.ndarray
        and rgb8.dtype == np.uint8
        and rgb8.ndim == 3
        and rgb8.shape[2] == 3
        and rgb8.strides[1:] == (3, 1)
        and rgb8.strides[0] >= 3 * rgb8.shape[1]
    )


def _steps(layer: Pending, held: list[object]) -> _Steps | None:
    """A pending layer's steps as cr_steps (None where the kernel cannot run them)."""
    height, width = layer.rgb8.shape[:2]
    if len(layer.steps) > MAX_STEPS:
        return None
    arrays = kernels.step_arrays(layer.steps, height, width)
    if arrays is None:
        return None
    held.append(arrays)
    kinds, maps, params = arrays.pointers
    addresses = (ctypes.addressof(kinds), ctypes.addressof(maps), ctypes.addressof(params))
    return _Steps(len(layer.steps), *addresses)


_Piece = tuple[Image | Pending, Image | None, int, int, float]


def _pieces(layers: list[Layer | Pending], width: int, height: int) -> list[_Piece] | None:
    """Every layer's pieces cut to the canvas, as workers.layer.blend draws them (picture,
    alpha, x, y, opacity); None where one is not float32 RGB with packed pixels the C blend
    takes, nor a pending layer whose picture the kernel reads."""
    pieces: list[_Piece] = []
    for layer in layers:
        if isinstance(layer, Pending):
            lh, lw = layer.rgb8.shape[:2]
            # Its gain maps are the whole picture's: it must lie on the canvas uncut (the
            # compositor cuts a picture to the canvas before it goes to float).
            inside = layer.x >= 0 and layer.y >= 0
            inside = inside and layer.x + lw <= width and layer.y + lh <= height
            if not _takes(layer.rgb8) or not inside:
                return None
            if layer.opacity > 0 and lh and lw:
                pieces.append((layer, None, layer.x, layer.y, layer.opacity))
            continue
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
