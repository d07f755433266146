"""The transitions the editor's export draws with ffmpeg's ``xfade`` filter, drawn as xfade draws
them (libavfilter/vf_xfade.c): the same per-pixel weights, computed in float32 like the C code.

xfade's ``progress`` runs from 1 (all outgoing ``a``) to 0 (all incoming ``b``); here ``p`` runs
0 to 1, so xfade's progress is ``1 - p``. Its ``mix(x, y, m)`` is ``x*m + y*(1 - m)``. Where xfade
stores 8 bits it truncates, where this keeps float32 (the renderer rounds): the two differ by
at most one level of 255 away from a hard edge (tests/workers/test_transitions_xfade.py).

* ``iris`` (xfade ``circleclose``): b's weight is ``smoothstep(0, 1, r/z + 3*(p - 0.5))``, ``r``
  the distance from the centre pixel ``(W//2, H//2)`` and ``z`` that of the corner: a soft circle
  of a closes on the centre.
* ``radial_wipe`` (``radial``): b's weight is
  ``smoothstep(0, 1, atan2(x - W//2, y - H//2) - (0.5 - p)*2.5*pi)``: a clock hand sweeps
  clockwise from straight up.
* ``wipe_tl``/``wipe_tr``/``wipe_bl``/``wipe_br`` (``wipetl``...): a keeps the rectangle at that
  corner, ``int(W*(1-p)) + 1`` columns by ``int(H*(1-p)) + 1`` rows (``wipetl``'s ``x <= zw``),
  and b shows elsewhere.
* ``hblur`` (what the editor's export draws for its ``blinds``): both clips blurred along each
  row, each pixel the mean of itself and the ``size - 1`` pixels to its right (fewer at the right
  edge), ``size = 1 + int(W//2 * 2*min(p, 1-p))``, and dissolved at ``p`` (a see-through clip's
  premultiplied colour and its alpha are blurred, so hidden colour never spreads).
* ``pixelize``: both clips are sampled at the centres of square blocks whose side grows to
  ``min(W, H)/20`` at the midpoint and shrinks back (steps of 1/50), and dissolved at ``p``.

At ``p = 0`` every kind is exactly a and at ``p = 1`` exactly b.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from workers.arrays import module_of
from workers.layer import Layer, Mask
from workers.transitions_mix import F1, alpha_of, mix, owned, rgb_of, scale, share

#: kind -> (whether a's rectangle hugs the right edge, whether it hugs the bottom edge)
_CORNERS = {
    "wipe_tl": (False, False),
    "wipe_tr": (True, False),
    "wipe_bl": (False, True),
    "wipe_br": (True, True),
}
XFADES = frozenset({"iris", "radial_wipe", "pixelize", "hblur", *_CORNERS})


def xfade(kind: str, p: float, a: Layer, b: Layer) -> Layer:
    """Mix ``a`` and ``b`` at progress ``p`` in [0, 1] the way xfade's counterpart draws it."""
    height, width = a.rgb.shape[:2]
    xp = module_of(a.rgb)
    if p <= 0 or p >= 1:
        # xfade never draws its end (progress 0: b passes through) and its first frame's corner
        # wipes leave b in one column or row of a; the ends here are exactly a and b.
        src = b if p >= 1 else a
        return Layer(rgb_of(src).copy(), owned(alpha_of(src), src))
    q = np.float32(1) - np.float32(p)  # xfade's progress
    if kind == "pixelize":
        return _pixelize(q, a, b)
    if kind in _CORNERS:
        return _corner(kind, q, a, b)
    if kind == "hblur":
        return _hblur(q, a, b)
    if kind == "iris":
        dist, z = _radius(height, width, xp)
        weight = _smoothstep(dist / z + (F1 - q - np.float32(0.5)) * np.float32(3))
    else:  # radial_wipe
        angle = _angle(height, width, xp)
        weight = _smoothstep(angle - np.float32((float(q) - 0.5) * (np.pi * 2.5)))
    return mix(rgb_of(a), alpha_of(a), rgb_of(b), alpha_of(b), weight)


def _smoothstep(x: Mask) -> Mask:
    """GLSL's smoothstep(0, 1, x), in place."""
    xp = module_of(x)
    t = xp.clip(x, 0, 1, out=x)
    out = t * t
    t *= np.float32(-2)
    t += np.float32(3)
    out *= t
    return out  # type: ignore[no-any-return]


def _grid(height: int, width: int, xp: Any) -> tuple[Mask, Mask]:
    """Columns and rows as float32 offsets from xfade's centre pixel (W//2, H//2)."""
    xs = xp.arange(width, dtype=np.float32) - np.float32(width // 2)
    ys = xp.arange(height, dtype=np.float32) - np.float32(height // 2)
    return xs[None, :], ys[:, None]


@functools.lru_cache(maxsize=4)
def _radius(height: int, width: int, xp: Any) -> tuple[Mask, np.float32]:
    """Each pixel's distance from the centre pixel, and the corner's (cached: read-only)."""
    xs, ys = _grid(height, width, xp)
    dist = xp.hypot(xs, ys).astype(np.float32)
    return dist, np.float32(np.hypot(np.float32(width // 2), np.float32(height // 2)))


@functools.lru_cache(maxsize=4)
def _angle(height: int, width: int, xp: Any) -> Mask:
    """Each pixel's ``atan2(x - W//2, y - H//2)`` (cached: read-only)."""
    xs, ys = _grid(height, width, xp)
    return xp.arctan2(xs, ys).astype(np.float32)  # type: ignore[no-any-return]


def _corner(kind: str, q: np.float32, a: Layer, b: Layer) -> Layer:
    """The corner wipes: b with a's corner rectangle pasted over it."""
    height, width = a.rgb.shape[:2]
    right, bottom = _CORNERS[kind]
    # xfade: zw = (int)(W * progress) (or W * (1 - progress) for a right-hand rectangle), and a
    # shows where x <= zw (x > zw), likewise rows
    zw = int(np.float32(width) * (F1 - q if right else q))
    zh = int(np.float32(height) * (F1 - q if bottom else q))
    cols = slice(zw + 1, width) if right else slice(0, zw + 1)
    rows = slice(zh + 1, height) if bottom else slice(0, zh + 1)
    xp = module_of(a.rgb)
    out = rgb_of(b).copy()
    out[rows, cols] = rgb_of(a)[rows, cols]
    a_alpha, b_alpha = alpha_of(a), alpha_of(b)
    if a_alpha is None and b_alpha is None:
        return Layer(out)
    alpha = xp.ones((height, width), np.float32) if b_alpha is None else b_alpha.copy()
    alpha[rows, cols] = F1 if a_alpha is None else a_alpha[rows, cols]
    return Layer(out, alpha)


def _pixelize(q: np.float32, a: Layer, b: Layer) -> Layer:
    """xfade's pixelize: block-centre samples of both clips, dissolved."""
    height, width = a.rgb.shape[:2]
    xp = module_of(a.rgb)
    d = min(q, F1 - q)
    dist = np.float32(np.ceil(d * np.float32(50)) / np.float32(50))
    # Each pixel shows the dissolve at its block's centre: dissolving first, then picking the
    # centres, is the same picture with one pick instead of two.
    mixed = mix(rgb_of(a), alpha_of(a), rgb_of(b), alpha_of(b), F1 - q)
    if dist <= 0:
        return mixed
    side = np.float32(2) * dist * np.float32(min(width, height)) / np.float32(20)
    sx = _centres(width, side, xp)
    sy = _centres(height, side, xp)
    # Two takes along one axis each are ~5x faster than one broadcast fancy index.
    rgb = mixed.rgb.take(sy, axis=0).take(sx, axis=1)
    alpha = None if mixed.alpha is None else mixed.alpha.take(sy, axis=0).take(sx, axis=1)
    return Layer(rgb, alpha)


def _centres(size: int, side: np.float32, xp: Any) -> Any:
    """The index each position samples: its block's centre, ``(floor(i/side) + .5)*side``."""
    i = xp.arange(size, dtype=np.float32)
    centre = (xp.floor(i / side) + np.float32(0.5)) * side
    return xp.minimum(centre, np.float32(size - 1)).astype(np.int32)


def _hblur(q: np.float32, a: Layer, b: Layer) -> Layer:
    """xfade's hblur: each side's rows box-blurred forward, dissolved."""
    width = a.rgb.shape[1]
    prog = q * np.float32(2) if q <= 0.5 else (F1 - q) * np.float32(2)
    size = int(np.float32(1) + np.float32(width // 2) * prog)
    # A box mean is linear, so blurring the dissolve equals dissolving the blurs (xfade's order)
    # at half the work; see-through clips blur premultiplied colour and alpha, so a transparent
    # pixel's colour never spreads.
    mixed = mix(rgb_of(a), alpha_of(a), rgb_of(b), alpha_of(b), F1 - q)
    if mixed.alpha is None:
        return Layer(_row_means(mixed.rgb, size))
    premultiplied = mixed.rgb
    scale(premultiplied, mixed.alpha)
    alpha = _row_means(mixed.alpha[..., None], size)[..., 0]
    colour = _row_means(premultiplied, size)
    scale(colour, share(F1, alpha))
    return Layer(colour, alpha)


def _row_means(image: Any, size: int) -> Any:
    """Each pixel's mean over itself and the next ``size - 1`` in its row (to the right edge)."""
    xp = module_of(image)
    height, width = image.shape[:2]
    size = min(size, width)
    if size <= 1:
        return image.copy()
    out = xp.empty(image.shape, dtype=np.float32)
    full = width - size + 1  # positions whose whole window fits
    # The window shrinks past `full`: divide by what is left of the row.
    tail = (width - xp.arange(full, width, dtype=np.float32))[None, :, None]
    # A band of rows at a time: its running sums stay in the CPU's cache.
    sums = xp.empty((_BAND, width + 1, image.shape[2]), dtype=np.float64)
    for top in range(0, height, _BAND):
        rows = slice(top, min(top + _BAND, height))
        n = rows.stop - top
        # Float64 running sums: a float32 one loses ~1e-4 over a 1920-pixel row, a level in 40.
        band_sums, band_out = sums[:n], out[rows]
        band_sums[:, 0] = 0
        xp.cumsum(image[rows], axis=1, dtype=np.float64, out=band_sums[:, 1:])
        xp.subtract(band_sums[:, size : size + full], band_sums[:, :full], out=band_out[:, :full])
        band_out[:, :full] /= np.float32(size)
        xp.subtract(
            band_sums[:, width : width + 1], band_sums[:, full:width], out=band_out[:, full:]
        )
        band_out[:, full:] /= tail
    return out


#: Rows whose running sums are made at a time.
_BAND = 32
