"""Transitions whose editor export names a gl-transitions shader (``gl=transition=NAME``) and
whose preview draws nothing of its own, drawn as that shader (gl-transitions.com, MIT).

* ``burn`` (gl-transitions ``burn.glsl``, by gre):
  ``mix(from + progress*color, to + (1 - progress)*color, progress)`` with ``color`` (0.9, 0.4,
  0.2): a crossfade that brightens toward orange, ``2p(1 - p)*color`` at ``p``, clamped to 1
  like the shader's 8-bit framebuffer. On see-through clips the glow is added to the mixed
  picture's colour, so it lights only what shows.
* ``kaleidoscope`` (gl-transitions ``kaleidoscope.glsl``, by nwoeanhinnogaehr; speed 1, angle 1,
  power 1.5): each pixel's centred coordinates are turned and folded back into the unit square
  seven times (``t`` from ``p**1.5``, one radian more each time); the crossfade at the pixel and
  the crossfade at the folded point are mixed, the folded one weighted ``1 - 2|p - 0.5|`` (all of
  it half way). The shader's uv has y up; the folded point is sampled at its nearest pixel (the
  shader filters linearly). See-through clips mix premultiplied colour like the dissolve.
* ``cube`` (gl-transitions ``cube.glsl``, by gre; persp 0.7, unzoom 0.3, reflection 0.4,
  floating 3): the two pictures as faces of a turning cube, skewed in perspective, zoomed out
  by up to 0.3 half way, over an opaque black floor that reflects them (0.4, fading
  downwards). Faces keep their clip's alpha as the shader passes it; the floor is opaque.
  Nearest-pixel sampling.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workers.arrays import module_of
from workers.layer import Image, Layer, Mask
from workers.transitions_mix import F1, alpha_of, mix, rgb_of, scale, share

#: burn.glsl's default ``color``.
BURN_COLOR = (0.9, 0.4, 0.2)
GL_TRANSITIONS = frozenset({"burn", "kaleidoscope", "cube"})


def gl_transition(kind: str, p: float, a: Layer, b: Layer) -> Layer:
    """Mix ``a`` and ``b`` at progress ``p`` in [0, 1] as the gl-transitions shader ``kind``."""
    if kind == "kaleidoscope":
        return _kaleidoscope(p, a, b)
    if kind == "cube":
        return _cube(p, a, b)
    fp = np.float32(p)
    out = mix(rgb_of(a), alpha_of(a), rgb_of(b), alpha_of(b), fp)
    glow = np.float32(2) * fp * (F1 - fp)
    xp = module_of(out.rgb)
    for c, level in enumerate(BURN_COLOR):
        out.rgb[..., c] += glow * np.float32(level)
    xp.minimum(out.rgb, F1, out=out.rgb)
    return out


def _kaleidoscope(p: float, a: Layer, b: Layer) -> Layer:
    """kaleidoscope.glsl: the crossfade here and at the folded point, mixed."""
    height, width = a.rgb.shape[:2]
    xp = module_of(a.rgb)
    folded = 1.0 - 2.0 * abs(p - 0.5)  # the folded crossfade's weight
    if folded <= 0:
        return mix(rgb_of(a), alpha_of(a), rgb_of(b), alpha_of(b), np.float32(p))
    weights = (
        (1 - folded) * (1 - p),
        (1 - folded) * p,
        folded * (1 - p),
        folded * p,
    )
    sides = [(rgb_of(a), alpha_of(a)), (rgb_of(b), alpha_of(b))]
    see_through = any(alpha is not None for _, alpha in sides)
    out = xp.empty((height, width, 3), np.float32)
    out_alpha = xp.empty((height, width), np.float32) if see_through else None
    # A band of rows at a time: the seven folds' and the mix's temporaries stay in the CPU's
    # cache (~1.5x faster at 1080p).
    for top in range(0, height, _BAND):
        rows = slice(top, min(top + _BAND, height))
        flat = _folded(p, top, rows.stop - top, height, width, xp)
        sources = [(rgb[rows], None if alpha is None else alpha[rows]) for rgb, alpha in sides]
        for rgb, alpha in sides:
            moved = rgb.reshape(-1, 3).take(flat, axis=0).reshape(sources[0][0].shape)
            sources.append(
                (
                    moved,
                    None if alpha is None else alpha.ravel().take(flat).reshape(moved.shape[:2]),
                )
            )
        band = _weighted(sources, weights)
        out[rows] = band.rgb
        if out_alpha is not None:
            out_alpha[rows] = band.alpha
    return Layer(out, out_alpha)


#: Rows of the output whose folded coordinates are worked out at a time.
_BAND = 32


def _folded(p: float, top: int, rows_in: int, height: int, width: int, xp: Any) -> Any:
    """The flat index of the nearest pixel to each folded point of rows ``top`` onwards."""
    # The shader's uv of each pixel centre (y up), less 0.5.
    u = (xp.arange(width, dtype=np.float32) + np.float32(0.5)) / np.float32(width)
    v = (xp.arange(top, top + rows_in, dtype=np.float32) + np.float32(0.5)) / np.float32(height)
    px = xp.broadcast_to(u - np.float32(0.5), (rows_in, width))
    py = xp.broadcast_to((np.float32(0.5) - v)[:, None], (rows_in, width))
    t = p**1.5
    for _ in range(7):
        s, c = np.float32(math.sin(t)), np.float32(math.cos(t))
        nx = px * s
        nx += py * c
        py = py * s
        py -= px * c
        px = nx
        t += 1.0
        _fold(px)
        _fold(py)
    cols = xp.minimum(xp.floor(px * np.float32(width)), width - 1).astype(np.int32)
    rows = xp.minimum(xp.floor((F1 - py) * np.float32(height)), height - 1).astype(np.int32)
    # In the platform's index type: take converts any other on every call.
    flat = rows.astype(np.intp)
    flat *= width
    flat += cols
    return flat.ravel()


def _weighted(sources: list[tuple[Image, Mask | None]], weights: tuple[float, ...]) -> Layer:
    """The sum of the pictures at these weights (summing to 1), in premultiplied colour."""
    xp = module_of(sources[0][0])
    if all(alpha is None for _, alpha in sources):
        out = sources[0][0] * np.float32(weights[0])
        for (rgb, _), w in zip(sources[1:], weights[1:], strict=True):
            out += rgb * np.float32(w)
        return Layer(out)
    total = xp.zeros(sources[0][0].shape[:2], np.float32)
    out = xp.zeros_like(sources[0][0])
    for (rgb, alpha), w in zip(sources, weights, strict=True):
        seen = (
            xp.full(total.shape, np.float32(w), np.float32)
            if alpha is None
            else alpha * np.float32(w)
        )
        total += seen
        out += rgb * seen[..., None]
    scale(out, share(F1, total))
    return Layer(out, total)


def _fold(x: Mask) -> None:
    """GLSL's ``abs(mod(x, 2.0) - 1.0)`` in place (floor is ~3x faster than NumPy's mod)."""
    xp = module_of(x)
    x *= np.float32(0.5)
    x -= xp.floor(x)
    x *= np.float32(2)
    x -= F1
    xp.abs(x, out=x)


def _cube(p: float, a: Layer, b: Layer) -> Layer:
    """cube.glsl: a's face turns away to the left as b's turns in, over a reflecting floor."""
    if p <= 0 or p >= 1:
        src = b if p >= 1 else a
        out_alpha = alpha_of(src)
        return Layer(rgb_of(src).copy(), None if out_alpha is None else out_alpha.copy())
    height, width = a.rgb.shape[:2]
    xp = module_of(a.rgb)
    f = np.float32
    uz = 0.3 * 2.0 * (0.5 - abs(0.5 - p))
    # uv of each pixel centre (y up), unzoomed: p = -uz/2 + (1 + uz) * op
    ux = (xp.arange(width, dtype=f) + f(0.5)) / f(width) * f(1 + uz) - f(uz / 2)
    uy = (f(1) - (xp.arange(height, dtype=f) + f(0.5)) / f(height)) * f(1 + uz) - f(uz / 2)
    sides = [(rgb_of(a), alpha_of(a)), (rgb_of(b), alpha_of(b))]
    see_through = any(side_alpha is not None for _, side_alpha in sides)
    out = xp.empty((height, width, 3), f)
    alpha = xp.empty((height, width), f) if see_through else None
    # A band of rows at a time: the faces' and the floor's temporaries stay in the CPU's cache.
    for top in range(0, height, _BAND):
        rows = slice(top, min(top + _BAND, height))
        band_alpha = None if alpha is None else alpha[rows]
        _cube_rows(p, sides, ux, uy[rows, None], out[rows], band_alpha)
    return Layer(out, alpha)


def _cube_rows(
    p: float, sides: list[tuple[Image, Mask | None]], ux: Mask, uy: Mask, out: Image, alpha: Any
) -> None:
    """cube.glsl for the rows whose unzoomed uv y is ``uy`` (a column), into ``out``/``alpha``."""
    xp = module_of(out)
    f = np.float32
    # xskew with centre 0 (a) and 1 (b): x stays, y is skewed by the face's perspective
    a_persp, b_persp = 1.0 - 0.3 * p, 0.3 * p * p + 0.7
    ax = (ux - f(p)) / f(1 - p)
    ay = (uy - f(0.5 * (1 - a_persp)) * ax[None, :]) / (f(1) + f(a_persp - 1) * ax[None, :])
    bx = ux / f(p)
    skew = f(1) - bx  # xskew's x for centre 1
    by = (uy - f(0.5 * (1 - b_persp)) * skew[None, :]) / (f(1) + f(b_persp - 1) * skew[None, :])
    a_in = _inside(ax[None, :], ay)
    b_in = _inside(bx[None, :], by) & ~a_in
    floor = ~(a_in | b_in)
    out[...] = 0
    if alpha is not None:
        alpha[...] = 1
    for (rgb, layer_alpha), fx, fy, face in zip(
        sides, (ax, bx), (ay, by), (a_in, b_in), strict=True
    ):
        picked = _sample(rgb, layer_alpha, fx[None, :], fy)
        out += picked[0] * face[..., None]
        if layer_alpha is not None:
            alpha[...] = xp.where(face, picked[1], alpha)
        # The floor's reflection: project(p) = (x, -1.2 y - 0.03), weighted 0.4 (1 - y)
        ry = f(-1.2) * fy - f(0.03)
        seen = _inside(fx[None, :], ry) & floor
        light = _sample(rgb, layer_alpha, fx[None, :], ry)
        weight = f(0.4) * (f(1) - ry) * seen
        if layer_alpha is not None:
            weight = weight * light[1]
        out += light[0] * weight[..., None]
    xp.minimum(out, f(1), out=out)


def _inside(x: Mask, y: Mask) -> Any:
    """GLSL's inBounds: strictly inside the unit square."""
    return (x > 0) & (x < 1) & (y > 0) & (y < 1)


def _sample(rgb: Image, alpha: Mask | None, x: Mask, y: Mask) -> tuple[Image, Mask | None]:
    """The nearest pixels to uv (x, y; y up), clamped to the picture."""
    xp = module_of(rgb)
    height, width = rgb.shape[:2]
    cols = xp.clip(xp.floor(x * np.float32(width)), 0, width - 1).astype(np.int32)
    rows = xp.clip(xp.floor((F1 - y) * np.float32(height)), 0, height - 1).astype(np.int32)
    # In the platform's index type: take converts any other on every call.
    flat = rows.astype(np.intp) * width + cols
    shape = flat.shape
    flat = flat.ravel()
    picked = rgb.reshape(-1, 3).take(flat, axis=0).reshape(*shape, 3)
    return picked, None if alpha is None else alpha.ravel().take(flat).reshape(shape)
