"""Layers: an image placed on the canvas, and alpha blending onto the canvas.

The canvas and every layer hold float32 RGB in [0, 1]; alpha is float32 in [0, 1] or None for
fully opaque. Blending is plain "over" with straight (non-premultiplied) colour. On a GPU node the
arrays are CuPy's (workers.arrays), typed as NumPy's here: CuPy mirrors NumPy's interface.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from workers import kernels
from workers.arrays import module_of

#: Fully transparent rows that part a kept still into separate pieces (fewer would cut a
#: title's lines apart for little memory, each piece one more blend call a frame).
TRIM_GAP = 32

Image = npt.NDArray[np.float32]  # H x W x 3, RGB in [0, 1]
Mask = npt.NDArray[np.float32]  # H x W, alpha in [0, 1]


@dataclass
class Layer:
    """An RGB image with optional alpha whose top-left corner sits at (x, y) on the canvas."""

    rgb: Image
    alpha: Mask | None = None
    x: int = 0
    y: int = 0
    opacity: float = 1.0
    #: further pieces of the same picture, disjoint from this one and drawn with it at its
    #: opacity: a still cut down to its visible parts (a logo in one corner and a bar along
    #: the bottom keep two small rectangles, not the frame-sized box around both)
    more: tuple[Layer, ...] = ()


def blank(width: int, height: int, xp: Any = np) -> Image:
    """A black canvas (in the array module ``xp``'s memory: workers.arrays)."""
    return xp.zeros((height, width, 3), dtype=np.float32)  # type: ignore[no-any-return]


def to_float(rgb8: npt.NDArray[np.uint8]) -> Image:
    """uint8 RGB to float32 in [0, 1]."""
    return kernels.to_float(rgb8)


def to_uint8(rgb: Image) -> npt.NDArray[np.uint8]:
    """float32 RGB in [0, 1] to uint8, rounding to nearest."""
    return kernels.to_uint8(rgb)


def blend(canvas: Image, layer: Layer) -> None:
    """Draw a layer (and its further pieces) over the canvas in place, clipped to its bounds."""
    for piece in (layer, *layer.more):
        _blend_piece(canvas, piece, layer.opacity)


def _blend_piece(canvas: Image, layer: Layer, opacity: float) -> None:
    height, width = canvas.shape[:2]
    lh, lw = layer.rgb.shape[:2]
    x0, y0 = max(layer.x, 0), max(layer.y, 0)
    x1, y1 = min(layer.x + lw, width), min(layer.y + lh, height)
    if x0 >= x1 or y0 >= y1 or opacity <= 0:
        return
    src = layer.rgb[y0 - layer.y : y1 - layer.y, x0 - layer.x : x1 - layer.x]
    dst = canvas[y0:y1, x0:x1]
    if layer.alpha is None and opacity >= 1:
        dst[...] = src
        return
    if layer.alpha is None:
        kernels.blend(dst, src, None, opacity)
        return
    a = layer.alpha[y0 - layer.y : y1 - layer.y, x0 - layer.x : x1 - layer.x]
    kernels.blend(dst, src, a, opacity)


def trimmed(layer: Layer) -> Layer:
    """The layer cut down to its visible (alpha > 0) pixels: the bounding box of each band of
    rows that TRIM_GAP or more fully transparent rows keep apart, as one layer of pieces.

    A kept still lives as long as its clip, and a logo with a badge in one corner and a bar
    along the bottom has a frame-sized bounding box (16 bytes a pixel: 28 MB at 1080p) that is
    nearly all transparent. Blending is exact over transparent pixels (d + (s - d) * 0 == d),
    so the pieces draw the same frame as the box."""
    if layer.alpha is None:
        return layer
    xp = module_of(layer.alpha)
    rows = xp.flatnonzero(layer.alpha.any(axis=1))
    if rows.size == 0:
        return Layer(layer.rgb[:0, :0], layer.alpha[:0, :0], layer.x, layer.y, layer.opacity)
    rows = [int(r) for r in rows.tolist()]
    bands = [[rows[0], rows[0] + 1]]
    for r in rows[1:]:
        if r - bands[-1][1] >= TRIM_GAP:
            bands.append([r, r + 1])
        else:
            bands[-1][1] = r + 1
    pieces = []
    for r0, r1 in bands:
        cols = xp.flatnonzero(layer.alpha[r0:r1].any(axis=0))
        c0, c1 = int(cols[0]), int(cols[-1]) + 1
        pieces.append(
            Layer(
                xp.ascontiguousarray(layer.rgb[r0:r1, c0:c1]),
                xp.ascontiguousarray(layer.alpha[r0:r1, c0:c1]),
                layer.x + c0,
                layer.y + r0,
            )
        )
    first = pieces[0]
    return Layer(first.rgb, first.alpha, first.x, first.y, layer.opacity, tuple(pieces[1:]))
