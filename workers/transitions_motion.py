"""Transitions the editor previews with a CSS transform (src/features/transitions/components/
transition-preview.tsx): the outgoing clip ``a`` moves, turns or scales about the canvas centre
while it fades out, and the incoming clip ``b``, stacked above it, fades in where it stands.

At progress ``p`` a's opacity is ``1 - p``, b's is ``p`` (both CSS transitions run together), and
a's transform runs linearly from none to the preview's end state (the editor's export has no
xfade counterpart for these). As in the preview, where both clips are opaque the middle frames
are partly see-through (0.75 opaque half way): lower tracks, or the black canvas, show a little.

=========  ==============================  =========  =====================
kind       end state (CSS)                 scale      turn (clockwise)
=========  ==============================  =========  =====================
zoom       ``scale(2)``                    1 -> 2
scale      ``scale(0.1)``                  1 -> 0.1
rotate     ``rotate(180deg) scale(0.5)``   1 -> 0.5   0 -> 180 degrees
spiral     ``rotate(720deg) scale(0)``     1 -> 0     0 -> 720 degrees
swirl      ``rotate(1080deg) scale(0)``    1 -> 0     0 -> 1080 degrees
squeeze    ``scaleX(0)``                   x 1 -> 0
wave       ``scale(1.5)``                  1 -> 1.5
diagonal   ``translate(-100%, -100%)``     moves up-left by the canvas size
flip       ``rotateY(180deg)``             x ``cos(180p degrees)`` (mirrored past half way)
=========  ==============================  =========  =====================

Each output pixel shows the pixel of a its centre maps back to (nearest neighbour); outside a's
moved rectangle only b (fading in) shows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workers.arrays import module_of
from workers.layer import Layer, Mask
from workers.transitions_mix import F1, alpha_of, over, owned, rgb_of

#: kind -> (x scale, y scale, degrees, x shift, y shift in canvas sizes) at the end (p = 1)
MOTIONS: dict[str, tuple[float, float, float, float, float]] = {
    "zoom": (2.0, 2.0, 0.0, 0.0, 0.0),
    "scale": (0.1, 0.1, 0.0, 0.0, 0.0),
    "rotate": (0.5, 0.5, 180.0, 0.0, 0.0),
    "spiral": (0.0, 0.0, 720.0, 0.0, 0.0),
    "swirl": (0.0, 0.0, 1080.0, 0.0, 0.0),
    "squeeze": (0.0, 1.0, 0.0, 0.0, 0.0),
    "wave": (1.5, 1.5, 0.0, 0.0, 0.0),
    "diagonal": (1.0, 1.0, 0.0, -1.0, -1.0),
    "flip": (-1.0, 1.0, 0.0, 0.0, 0.0),  # x scale is cos(pi * p), not linear
}


def motion(kind: str, p: float, a: Layer, b: Layer) -> Layer:
    """b at opacity ``p`` over a, transformed for progress ``p`` and at opacity ``1 - p``."""
    height, width = a.rgb.shape[:2]
    end_x, end_y, turn, shift_x, shift_y = MOTIONS[kind]
    sx = math.cos(math.pi * p) if kind == "flip" else 1 + (end_x - 1) * p
    sy = 1 + (end_y - 1) * p
    b_rgb, b_alpha = rgb_of(b), alpha_of(b)
    if p >= 1:
        return Layer(b_rgb.copy(), owned(b_alpha, b))
    xp = module_of(a.rgb)
    fade_in = (
        xp.full((height, width), np.float32(p), np.float32)
        if b_alpha is None
        else b_alpha * np.float32(p)
    )
    if abs(sx) < 1e-6 or abs(sy) < 1e-6:  # a has no area: b fading in alone
        return Layer(b_rgb.copy(), fade_in)
    # Output pixel centre -> a's coordinates: undo the shift, the turn, then the scale.
    angle = math.radians(turn * p)
    cos, sin = math.cos(angle), math.sin(angle)
    dx = xp.arange(width, dtype=np.float32) + np.float32(0.5 - width / 2 - shift_x * width * p)
    dy = xp.arange(height, dtype=np.float32) + np.float32(0.5 - height / 2 - shift_y * height * p)
    a_rgb, a_alpha = rgb_of(a), alpha_of(a)
    if abs(sin) < 1e-9:  # no turn (or a half turn): rows and columns map independently
        cols = _source(dx * np.float32(cos / sx), width, xp)
        rows = _source(dy * np.float32(cos / sy), height, xp)
        inside = (rows >= 0)[:, None] & (cols >= 0)[None, :]
        rows, cols = xp.maximum(rows, 0), xp.maximum(cols, 0)
        # Two takes along one axis each are ~5x faster than one broadcast fancy index.
        moved = a_rgb.take(rows, axis=0).take(cols, axis=1)
        moved_alpha: Mask = inside.astype(np.float32)
        if a_alpha is not None:
            moved_alpha *= a_alpha.take(rows, axis=0).take(cols, axis=1)
    else:
        u = dx[None, :] * np.float32(cos / sx) + dy[:, None] * np.float32(sin / sx)
        v = dy[:, None] * np.float32(cos / sy) - dx[None, :] * np.float32(sin / sy)
        cols, rows = _source(u, width, xp), _source(v, height, xp)
        inside = (cols >= 0) & (rows >= 0)
        flat = xp.maximum(rows, 0)
        flat *= width
        flat += xp.maximum(cols, 0)
        flat = flat.ravel()
        moved = a_rgb.reshape(-1, 3).take(flat, axis=0).reshape(a_rgb.shape)
        moved_alpha = inside.astype(np.float32)
        if a_alpha is not None:
            moved_alpha *= a_alpha.ravel().take(flat).reshape(inside.shape)
    moved_alpha *= F1 - np.float32(p)
    return over(b_rgb, fade_in, moved, moved_alpha)


def _source(offset: Any, size: int, xp: Any) -> Any:
    """The index along an axis of ``size`` that a centre-relative offset falls in; -1 outside."""
    pos = xp.floor(offset + np.float32(size / 2)).astype(np.int32)
    return xp.where((pos >= 0) & (pos < size), pos, -1)
