"""Layers cut and reshaped for the compositor: the part of a placed picture inside bounds, a
layer as a whole-canvas image with alpha (what transitions take), a faded layer, an empty one.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

import numpy as np

from workers.arrays import module_of
from workers.layer import Layer, blank

Pixels = TypeVar("Pixels", bound="np.ndarray[Any, Any]")


def within(
    rgb: Pixels, alpha: Pixels | None, x: int, y: int, bounds: tuple[int, int, int, int]
) -> tuple[Pixels, Pixels | None, int, int]:
    """The part of an image placed at (x, y) that lies inside ``bounds`` (left, top, right,
    bottom). At least one pixel is kept, so shapes stay valid; when none lies inside, that pixel
    is made transparent (a cell's bounds may be anywhere on the canvas)."""
    h, w = rgb.shape[:2]
    left, top, right, bottom = bounds
    x0, y0 = min(max(left - x, 0), w - 1), min(max(top - y, 0), h - 1)
    x1, y1 = max(min(right - x, w), x0 + 1), max(min(bottom - y, h), y0 + 1)
    if (x0, y0, x1, y1) == (0, 0, w, h):
        return rgb, alpha, x, y
    part = cast(Pixels, rgb[y0:y1, x0:x1])
    part_alpha = cast(Pixels, alpha[y0:y1, x0:x1]) if alpha is not None else None
    if not (max(left, x) < min(right, x + w) and max(top, y) < min(bottom, y + h)):
        part_alpha = cast(Pixels, module_of(part).zeros(part.shape[:2], part.dtype))
    return part, part_alpha, x + x0, y + y0


def full_layer(layer: Layer, width: int, height: int, xp: Any) -> Layer:
    """The layer as a width x height image with alpha (in ``xp``'s memory), as transitions
    expect."""
    h, w = layer.rgb.shape[:2]
    full_size = (layer.x, layer.y, w, h) == (0, 0, width, height)
    if full_size and layer.alpha is None and layer.opacity >= 1 and not layer.more:
        return layer
    rgb = blank(width, height, xp)
    alpha = xp.zeros((height, width), dtype=np.float32)
    for piece in (layer, *layer.more):
        ph, pw = piece.rgb.shape[:2]
        x0, y0 = max(piece.x, 0), max(piece.y, 0)
        x1, y1 = min(piece.x + pw, width), min(piece.y + ph, height)
        if x0 < x1 and y0 < y1:
            rows = slice(y0 - piece.y, y1 - piece.y)
            cols = slice(x0 - piece.x, x1 - piece.x)
            rgb[y0:y1, x0:x1] = piece.rgb[rows, cols]
            alpha[y0:y1, x0:x1] = piece.alpha[rows, cols] if piece.alpha is not None else 1.0
    if layer.opacity < 1:
        alpha *= np.float32(layer.opacity)
    return Layer(rgb, alpha)


def faded(layer: Layer, factor: float) -> Layer:
    """The layer dimmed by a picture fade's factor (itself when no fade dims it)."""
    if factor >= 1:
        return layer
    return Layer(layer.rgb, layer.alpha, layer.x, layer.y, layer.opacity * factor, layer.more)


def nothing(xp: Any) -> Layer:
    """A layer with no pixels: a clip scaled to nothing."""
    return Layer(xp.zeros((0, 0, 3), dtype=np.float32), xp.zeros((0, 0), dtype=np.float32))


def overlap(
    a: tuple[int, int, int, int], b: tuple[int, int, int, int]
) -> tuple[int, int, int, int]:
    """The intersection of two rectangles (empty ones have right <= left or bottom <= top)."""
    return max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
