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
    """Draw a layer over the canvas in place, clipping it to the canvas bounds."""
    height, width = canvas.shape[:2]
    lh, lw = layer.rgb.shape[:2]
    x0, y0 = max(layer.x, 0), max(layer.y, 0)
    x1, y1 = min(layer.x + lw, width), min(layer.y + lh, height)
    if x0 >= x1 or y0 >= y1 or layer.opacity <= 0:
        return
    src = layer.rgb[y0 - layer.y : y1 - layer.y, x0 - layer.x : x1 - layer.x]
    dst = canvas[y0:y1, x0:x1]
    if layer.alpha is None and layer.opacity >= 1:
        dst[...] = src
        return
    if layer.alpha is None:
        kernels.blend(dst, src, None, layer.opacity)
        return
    a = layer.alpha[y0 - layer.y : y1 - layer.y, x0 - layer.x : x1 - layer.x]
    kernels.blend(dst, src, a, layer.opacity)
