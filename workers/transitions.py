"""Transitions: mixing the outgoing and incoming clips' full-canvas layers into one.

Both inputs are full-canvas layers of the same size; the result is a new full-canvas layer and
the inputs are never modified; the same code mixes NumPy and CuPy layers (workers.arrays). Edge
conventions (``W``/``H`` the canvas size, ``p`` the progress,
``round`` Python's round-half-to-even):

* ``wipe_right``: columns ``x < round(p*W)`` show b; ``wipe_left``: columns
  ``x >= W - round(p*W)``; ``wipe_down``: rows ``y < round(p*H)``; ``wipe_up``: rows
  ``y >= H - round(p*H)``.
* ``slide_left``: b's left edge sits at column ``off = round((1-p)*W)``, so output column
  ``off + i`` shows b's column ``i``; ``slide_right``: output column ``i`` shows b's column
  ``off + i``; ``slide_up``/``slide_down`` likewise with rows and ``H``. a stays in place
  underneath.
"""

from __future__ import annotations

import numpy as np

from common.errors import TimelineError
from workers.arrays import module_of
from workers.layer import Layer
from workers.transitions_gl import GL_TRANSITIONS, gl_transition
from workers.transitions_mix import F1 as _F1
from workers.transitions_mix import alpha_of as _alpha
from workers.transitions_mix import owned as _owned
from workers.transitions_mix import rgb_of as _rgb
from workers.transitions_mix import scale as _scale
from workers.transitions_mix import share as _share
from workers.transitions_motion import MOTIONS, motion
from workers.transitions_xfade import XFADES, xfade


def apply_transition(kind: str, progress: float, a: Layer, b: Layer) -> Layer:
    """Mix outgoing ``a`` and incoming ``b`` at ``progress`` in [0, 1] into one canvas layer."""
    if a.rgb.shape != b.rgb.shape or a.rgb.ndim != 3 or a.rgb.shape[2] != 3:
        raise ValueError(
            f"transition layers must be full-canvas H x W x 3 of one size, "
            f"got {a.rgb.shape} and {b.rgb.shape}"
        )
    if (a.x, a.y, b.x, b.y) != (0, 0, 0, 0):
        raise ValueError("transition layers must be full-canvas, placed at (0, 0)")
    p = min(max(float(progress), 0.0), 1.0)
    height, width = a.rgb.shape[:2]
    if kind == "dissolve":
        return _dissolve(p, a, b)
    if kind == "fade_black":
        return _fade_black(p, a, b)
    if kind == "fade_white":
        return _fade_white(p, a, b)
    if kind in _WIPES:
        axis, from_start = _WIPES[kind]
        size = width if axis == 1 else height
        reveal = round(p * size)
        start, stop = (0, reveal) if from_start else (size - reveal, size)
        return _wipe(a, b, axis, start, stop)
    if kind in _SLIDES:
        axis, from_end = _SLIDES[kind]
        size = width if axis == 1 else height
        off = min(max(round((1 - p) * size), 0), size)
        if from_end:
            # b enters from the far edge: its start lines up with output index `off`
            return _slide(a, b, axis, dst=(off, size), src=(0, size - off))
        return _slide(a, b, axis, dst=(0, size - off), src=(off, size))
    if kind in XFADES:
        return xfade(kind, p, a, b)
    if kind in MOTIONS:
        return motion(kind, p, a, b)
    if kind in GL_TRANSITIONS:
        return gl_transition(kind, p, a, b)
    raise TimelineError(f"unknown transition kind {kind!r}")


#: kind -> (axis, whether b is revealed from the start of the axis: left or top edge)
_WIPES = {
    "wipe_right": (1, True),
    "wipe_left": (1, False),
    "wipe_down": (0, True),
    "wipe_up": (0, False),
}

#: kind -> (axis, whether b enters from the end of the axis: right or bottom edge)
_SLIDES = {
    "slide_left": (1, True),
    "slide_right": (1, False),
    "slide_up": (0, True),
    "slide_down": (0, False),
}


def _dissolve(p: float, a: Layer, b: Layer) -> Layer:
    a_rgb, b_rgb = _rgb(a), _rgb(b)
    a_alpha, b_alpha = _alpha(a), _alpha(b)
    xp = module_of(a_rgb)
    fp = np.float32(p)
    if a_alpha is None and b_alpha is None:
        out = b_rgb - a_rgb
        out *= fp
        out += a_rgb
        return Layer(out)
    # Mix premultiplied colour so a transparent pixel's (meaningless) colour never bleeds in:
    # the result composited over anything equals the lerp of each input composited over it.
    wa = xp.full(a_rgb.shape[:2], _F1 - fp, np.float32) if a_alpha is None else a_alpha * (_F1 - fp)
    wb = xp.full(b_rgb.shape[:2], fp, np.float32) if b_alpha is None else b_alpha * fp
    alpha = wa + wb
    share = _share(wb, alpha)  # b's share of the mixed colour
    out = b_rgb - a_rgb
    _scale(out, share)
    out += a_rgb
    return Layer(out, alpha)


def _fade_black(p: float, a: Layer, b: Layer) -> Layer:
    return _dip(p, a, b, np.float32(0))


def _fade_white(p: float, a: Layer, b: Layer) -> Layer:
    return _dip(p, a, b, _F1)


def _dip(p: float, a: Layer, b: Layer, level: np.float32) -> Layer:
    # Colour dips to `level` (black, white) while alpha stays that of the visible clip, so where
    # the clips are opaque the midpoint is opaque and lower tracks do not show through.
    if p < 0.5:
        src, gain = a, np.float32(1 - 2 * p)
    else:
        src, gain = b, np.float32(2 * p - 1)
    out = _rgb(src) * gain
    if level:
        out += level * (_F1 - gain)
    return Layer(out, _owned(_alpha(src), src))


def _index(axis: int, start: int, stop: int) -> tuple[slice, ...]:
    """A slice selecting [start, stop) along axis 0 (rows) or 1 (columns)."""
    return (slice(start, stop),) if axis == 0 else (slice(None), slice(start, stop))


def _wipe(a: Layer, b: Layer, axis: int, start: int, stop: int) -> Layer:
    a_rgb, b_rgb = _rgb(a), _rgb(b)
    size = a_rgb.shape[axis]
    inside = _index(axis, start, stop)
    before, after = _index(axis, 0, start), _index(axis, stop, size)
    xp = module_of(a_rgb)
    out = xp.empty_like(a_rgb)
    out[before] = a_rgb[before]
    out[after] = a_rgb[after]
    out[inside] = b_rgb[inside]
    a_alpha, b_alpha = _alpha(a), _alpha(b)
    if a_alpha is None and b_alpha is None:
        return Layer(out)
    alpha = xp.empty(a_rgb.shape[:2], np.float32)
    for sl, src in ((before, a_alpha), (after, a_alpha), (inside, b_alpha)):
        alpha[sl] = _F1 if src is None else src[sl]
    return Layer(out, alpha)


def _slide(a: Layer, b: Layer, axis: int, dst: tuple[int, int], src: tuple[int, int]) -> Layer:
    a_rgb, b_rgb = _rgb(a), _rgb(b)
    a_alpha, b_alpha = _alpha(a), _alpha(b)
    size = a_rgb.shape[axis]
    d_in, s_in = _index(axis, *dst), _index(axis, *src)
    outside = (_index(axis, 0, dst[0]), _index(axis, dst[1], size))
    xp = module_of(a_rgb)
    out = xp.empty_like(a_rgb)
    alpha = None if a_alpha is None and b_alpha is None else xp.empty(a_rgb.shape[:2], np.float32)
    for sl in outside:
        out[sl] = a_rgb[sl]
        if alpha is not None:
            alpha[sl] = _F1 if a_alpha is None else a_alpha[sl]
    if b_alpha is None:
        out[d_in] = b_rgb[s_in]
        if alpha is not None:
            alpha[d_in] = _F1
        return Layer(out, alpha)
    # b is drawn over a, so a shows through wherever the sliding clip is transparent.
    assert alpha is not None
    ab = b_alpha[s_in]
    bg = a_rgb[d_in]
    region = out[d_in]  # a view: the mix is written straight into the result
    xp.subtract(b_rgb[s_in], bg, out=region)
    if a_alpha is None:
        _scale(region, ab)
        region += bg
        alpha[d_in] = _F1
        return Layer(out, alpha)
    total = a_alpha[d_in] * (_F1 - ab)
    total += ab
    share = _share(ab, total)
    _scale(region, share)
    region += bg
    alpha[d_in] = total
    return Layer(out, alpha)
