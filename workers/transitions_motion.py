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
slide_out  ``translateX(-100%)``           moves left by the canvas width, not fading
=========  ==============================  =========  =====================

``slide_out_left`` is the preview's slide (a keeps its opacity: it slides out of the canvas,
leaving only b, fading in, behind it); ``slide_out_right``/``_up``/``_down`` move a the way
they name.

Each output pixel shows a at the point its centre maps back to, filtered bilinearly as the
browser draws a transformed video (premultiplied, the area outside a transparent), so a's moved
edges are smooth and a zoomed picture is not blocky; outside a's moved rectangle only b (fading
in) shows.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workers.arrays import module_of
from workers.layer import Layer, Mask
from workers.transitions_mix import F1, alpha_of, over, owned, rgb_of, scale, share

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
    # The preview's slide moves a out of the canvas without fading it (``translateX(-100%)``
    # alone); its other directions move it the way they name.
    "slide_out_left": (1.0, 1.0, 0.0, -1.0, 0.0),
    "slide_out_right": (1.0, 1.0, 0.0, 1.0, 0.0),
    "slide_out_up": (1.0, 1.0, 0.0, 0.0, -1.0),
    "slide_out_down": (1.0, 1.0, 0.0, 0.0, 1.0),
}
#: The kinds whose outgoing clip keeps its opacity while it moves (b still fades in over it).
UNFADED = frozenset({"slide_out_left", "slide_out_right", "slide_out_up", "slide_out_down"})


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
        cols = _taps(dx * np.float32(cos / sx), width, abs(sx), xp)
        rows = _taps(dy * np.float32(cos / sy), height, abs(sy), xp)
        moved, moved_alpha = _separable(a_rgb, a_alpha, rows, cols)
    else:
        picture = _stacked(a_rgb, a_alpha)
        moved = xp.empty((height, width, 3), np.float32)
        moved_alpha = xp.empty((height, width), np.float32)
        # A band of rows at a time: its temporaries stay in the CPU's cache (~2x faster).
        for top in range(0, height, _BAND):
            band = dy[top : top + _BAND, None]
            u = dx[None, :] * np.float32(cos / sx) + band * np.float32(sin / sx)
            v = band * np.float32(cos / sy) - dx[None, :] * np.float32(sin / sy)
            rows, cols = _taps(v, height, abs(sy), xp), _taps(u, width, abs(sx), xp)
            rgb, seen = _split(_bilinear(picture, rows, cols), rows[2] * cols[2])
            moved[top : top + _BAND] = rgb
            moved_alpha[top : top + _BAND] = seen
    if kind not in UNFADED:
        moved_alpha *= F1 - np.float32(p)
    return over(b_rgb, fade_in, moved, moved_alpha)


#: Rows of the output a turned picture is sampled for at a time.
_BAND = 32

#: One axis's bilinear taps: the lower pixel (clamped to the picture, as a texture is sampled at
#: its edge), the upper pixel's weight (0 where the lower one is the edge pixel alone), and how
#: much of each output pixel lies inside the picture along that axis (its edge antialiased as
#: the browser draws it).
Taps = tuple[Any, Any, Any]


def _taps(offset: Any, size: int, zoom: float, xp: Any) -> Taps:
    """The two pixels along an axis of ``size`` that a centre-relative offset falls between, and
    the output pixel's coverage by the picture; ``zoom`` is output pixels per picture pixel."""
    pos = offset + np.float32(size / 2)  # 0 and size are the picture's edges
    # Signed distance inside the nearer edge, in output pixels: half a pixel either side of the
    # edge is partly covered.
    inside = xp.minimum(pos, np.float32(size) - pos)
    inside *= np.float32(zoom)
    inside += np.float32(0.5)
    cover = xp.clip(inside, 0, 1, out=inside)
    pos -= np.float32(0.5)  # pixel i's centre is i
    low = xp.floor(pos)
    upper = pos - low  # the upper pixel's weight
    low = low.astype(np.int32)
    upper[(low < 0) | (low >= size - 1)] = 0  # before the first centre or past the last
    return xp.clip(low, 0, size - 1, out=low), upper, cover


def _stacked(rgb: Any, alpha: Mask | None) -> Any:
    """The picture to filter: its colour, or its premultiplied colour and alpha as a fourth
    channel (so that filtering never spreads a transparent pixel's colour)."""
    if alpha is None:
        return rgb
    xp = module_of(rgb)
    out = xp.empty((*rgb.shape[:2], 4), np.float32)
    xp.multiply(rgb, alpha[..., None], out=out[..., :3])
    out[..., 3] = alpha
    return out


def _split(mixed: Any, coverage: Mask) -> tuple[Any, Mask]:
    """Straight colour and alpha (times ``coverage``) from a filtered ``_stacked`` picture."""
    if mixed.shape[-1] == 3:
        return mixed, coverage
    seen = mixed[..., 3] * coverage
    rgb = module_of(mixed).ascontiguousarray(mixed[..., :3])
    scale(rgb, share(coverage, seen))  # the colour's share of what shows
    return rgb, seen


def _lerp(low: Any, high: Any, weight: Any) -> Any:
    """``low + (high - low) * weight``, into ``low`` (``high`` is spent)."""
    high -= low
    high *= weight
    low += high
    return low


def _separable(rgb: Any, alpha: Mask | None, rows: Taps, cols: Taps) -> tuple[Any, Mask]:
    """a sampled bilinearly at independent rows and columns: along the rows, then the columns
    (two takes along one axis each are ~5x faster than one broadcast fancy index), a band of
    output rows at a time so that its temporaries stay in the CPU's cache."""
    r0, fr, cover_r = rows
    c0, fc, cover_c = cols
    height, width = rgb.shape[:2]
    xp = module_of(rgb)
    r1 = xp.minimum(r0 + 1, height - 1)
    c1 = xp.minimum(c0 + 1, width - 1)
    across = bool((fc > 0).any())  # on whole columns (a shift by whole pixels) one take is all
    out = xp.empty((len(r0), len(c0), 3), np.float32)
    coverage = cover_r[:, None] * cover_c[None, :]
    seen = None if alpha is None else xp.empty(coverage.shape, np.float32)
    for top in range(0, len(r0), _BAND):
        band = slice(top, top + _BAND)
        # Colour and alpha of the band's rows, premultiplied (never spreading a transparent
        # pixel's colour), and filtered across the columns.
        tall = _rows(rgb, alpha, r0[band], r1[band], fr[band])
        _take_into(tall[0], c0, out[band])
        if across:
            _lerp(out[band], tall[0].take(c1, axis=1), fc[None, :, None])
        if seen is not None:
            _take_into(tall[1], c0, seen[band])
            if across:
                _lerp(seen[band], tall[1].take(c1, axis=1), fc[None, :])
            scale(out[band], share(F1, seen[band]))
    if seen is None:
        return out, coverage
    seen *= coverage
    return out, seen


def _rows(rgb: Any, alpha: Mask | None, r0: Any, r1: Any, fr: Any) -> tuple[Any, ...]:
    """Colour (premultiplied where ``alpha`` is given) and alpha, mixed between rows ``r0`` and
    ``r1`` by ``fr``."""
    low, high = rgb.take(r0, axis=0), rgb.take(r1, axis=0)
    if alpha is None:
        return (_lerp(low, high, fr[:, None, None]),)
    low_alpha, high_alpha = alpha.take(r0, axis=0), alpha.take(r1, axis=0)
    scale(low, low_alpha)
    scale(high, high_alpha)
    return _lerp(low, high, fr[:, None, None]), _lerp(low_alpha, high_alpha, fr[:, None])


def _bilinear(picture: Any, rows: Taps, cols: Taps) -> Any:
    """``_stacked`` picture sampled bilinearly at per-pixel rows and columns (a band of output
    rows): four gathers of whole pixels, weighted."""
    r0, fr, _ = rows
    c0, fc, _ = cols
    height, width, k = picture.shape
    xp = module_of(picture)
    flat = picture.reshape(-1, k)
    # Flat indices in the platform's index type: take converts any other on every call.
    top_left = r0.astype(np.intp)
    top_left *= width
    top_left += c0
    top_left = top_left.ravel()
    # The other three taps' offsets from the top-left one (0 where clamped at the edge).
    top_right = top_left + (c0 < width - 1).ravel()
    fx, fy = fc.reshape(-1, 1), fr.reshape(-1, 1)
    upper = flat.take(top_left, axis=0)
    upper = _lerp(upper, flat.take(top_right, axis=0), fx)
    down = xp.where(r0 < height - 1, width, 0).astype(np.intp).ravel()
    top_left += down
    top_right += down
    lower = flat.take(top_left, axis=0)
    lower = _lerp(lower, flat.take(top_right, axis=0), fx)
    return _lerp(upper, lower, fy).reshape(*r0.shape, k)


def _take_into(picture: Any, cols: Any, dest: Any) -> None:
    """``picture``'s columns ``cols`` written into ``dest``."""
    if module_of(picture) is np:
        # mode="clip" (the indices are in range): "raise" would buffer ``dest`` on every call.
        picture.take(cols, axis=1, out=dest, mode="clip")
    else:  # CuPy's take has no mode
        dest[...] = picture.take(cols, axis=1)
