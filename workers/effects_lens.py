"""Optical effects: glow, lens flare and chromatic aberration.

Each follows what the editor's ffmpeg command for it (src/features/effects/data/effects.json)
means to do, cited below; where that command or its CSS preview does not draw the effect at all
(the flare and the fringes), we draw the real thing and say so.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from chunking.timeline.model import Effect
from workers.effects_blur import NO_BLUR, gaussian_blur
from workers.effects_params import EffectFn, remember, settings
from workers.layer import Image

_flares: dict[tuple[int, int, float, float, float], Image] = {}
#: A flare's light is a full-size float image (25 MB at 1080p): keep only the latest two.
_FLARE_CACHE = 2


def _glow(rgb: Image, effect: Effect, frame: int) -> Image:
    """The editor's glow, "gblur=sigma={intensity * 2},blend=all_mode=screen:all_opacity=
    {intensity}": a blurred copy screened over the picture with opacity = intensity. ``radius``
    sets the blur instead (a 1-px blur hardly spreads at 1080p)."""
    opacity, radius = settings(effect)
    if opacity == 0.0:
        return rgb
    src = np.asarray(rgb, dtype=np.float32)
    sigma = radius if radius > 0 else 2.0 * opacity
    blurred = gaussian_blur(src, sigma) if sigma >= NO_BLUR else src
    # screen(a, b) = 1 - (1 - a)(1 - b) = a + b (1 - a); mixed by opacity over a.
    out: Image = np.float32(1.0) - src
    out *= blurred
    out *= np.float32(opacity)
    out += src
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _blob(
    light: Image,
    cx: float,
    cy: float,
    radius: float,
    rgb: tuple[float, float, float],
    peak: float,
    ring: bool = False,
) -> None:
    """Add one flare element in place: a soft disc (or a thin ring) of this radius (px)."""
    h, w = light.shape[:2]
    reach = radius * (1.6 if ring else 1.3)
    x0, x1 = max(int(cx - reach), 0), min(int(cx + reach) + 1, w)
    y0, y1 = max(int(cy - reach), 0), min(int(cy + reach) + 1, h)
    if x0 >= x1 or y0 >= y1:
        return
    ys = (np.arange(y0, y1, dtype=np.float32) + np.float32(0.5) - np.float32(cy))[:, None]
    xs = (np.arange(x0, x1, dtype=np.float32) + np.float32(0.5) - np.float32(cx))[None, :]
    d = np.sqrt(xs * xs + ys * ys) / np.float32(radius)
    if ring:
        shape = np.exp(-(((d - 1.0) / 0.08) ** 2))
    else:
        # Flat-topped disc with a soft rim, like an out-of-focus aperture ghost.
        shape = np.clip((1.3 - d) / 0.3, 0.0, 1.0) ** 2
    light[y0:y1, x0:x1] += shape[:, :, None] * (np.array(rgb, dtype=np.float32) * peak)


def flare_light(height: int, width: int, strength: float, x: float, y: float) -> Image:
    """Read-only H x W x 3 light of a lens flare whose source is at (x, y), fractions of the
    picture: a warm core and halo around the source, a faint ring, and ghosts on the line from
    the source through the centre, as a camera lens reflects a bright light."""
    key = (height, width, strength, x, y)
    cached = _flares.get(key)
    if cached is not None:
        return cached
    light = np.zeros((height, width, 3), dtype=np.float32)
    sx, sy = x * width, y * height
    size = math.hypot(width, height) / 2.0  # elements scale with the half-diagonal
    # Core and halo: separable Gaussians, an outer product of two 1-D profiles.
    for sigma, rgb, peak in ((0.03, (1.0, 0.97, 0.9), 1.0), (0.22, (1.0, 0.8, 0.55), 0.35)):
        s = sigma * size
        gx = np.exp(-(((np.arange(width) + 0.5 - sx) / s) ** 2) / 2.0).astype(np.float32)
        gy = np.exp(-(((np.arange(height) + 0.5 - sy) / s) ** 2) / 2.0).astype(np.float32)
        light += (gy[:, None] * gx[None, :])[:, :, None] * (
            np.array(rgb, dtype=np.float32) * np.float32(peak * strength)
        )
    _blob(light, sx, sy, 0.16 * size, (1.0, 0.75, 0.5), 0.06 * strength, ring=True)
    cx, cy = width / 2.0, height / 2.0
    # (position along source -> centre -> beyond, radius, colour, peak)
    ghosts = (
        (0.45, 0.035, (0.6, 1.0, 0.6), 0.22),
        (1.3, 0.06, (0.55, 0.7, 1.0), 0.16),
        (1.6, 0.025, (1.0, 0.6, 0.9), 0.25),
        (2.0, 0.11, (1.0, 0.75, 0.45), 0.10),
    )
    for t, radius, rgb, peak in ghosts:
        gx, gy = sx + (cx - sx) * t, sy + (cy - sy) * t
        _blob(light, gx, gy, radius * size, rgb, peak * strength)
    np.clip(light, 0.0, 1.0, out=light)
    light.setflags(write=False)
    return remember(_flares, key, light, _FLARE_CACHE)


def _lensflare(rgb: Image, effect: Effect, frame: int) -> Image:
    """A lens flare screened over the picture. The editor draws none (its command is
    "lenscorrection=k1=0.1:k2=0.1,eq=brightness=...", its preview CSS "brightness(1 +
    intensity * 0.5) saturate(1.4) contrast(1.1)": both only brighten), so we draw one whose
    strength is the editor's ``intensity``, from a source at ``x``, ``y``."""
    strength, x, y = settings(effect)
    if strength == 0.0:
        return rgb
    h, w = rgb.shape[:2]
    light = flare_light(h, w, strength, x, y)
    src = np.asarray(rgb, dtype=np.float32)
    out: Image = np.float32(1.0) - src  # screen: a + b (1 - a)
    out *= light
    out += src
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _resample_plan(n: int, scale: float) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """Source index and weight of the next sample for each output sample of an axis magnified
    by `scale` about its centre (linear interpolation, edges repeated)."""
    centre = n / 2.0
    source = (np.arange(n) + 0.5 - centre) / scale + centre - 0.5
    source = np.clip(source, 0.0, n - 1.0)
    low = np.minimum(np.floor(source).astype(np.intp), max(n - 2, 0))
    return low, (source - low).astype(np.float32)


def _magnify(plane: npt.NDArray[np.float32], scale: float) -> npt.NDArray[np.float32]:
    """A 2-D plane magnified by `scale` about its centre, same size."""
    h, w = plane.shape
    if h < 2 or w < 2:
        return plane.copy()
    rows, fy = _resample_plan(h, scale)
    cols, fx = _resample_plan(w, scale)
    top, bottom = plane[rows], plane[rows + 1]
    vertical = top + (bottom - top) * fy[:, None]
    left, right = vertical[:, cols], vertical[:, cols + 1]
    out: npt.NDArray[np.float32] = left + (right - left) * fx[None, :]
    return out


def _chromaticaberration(rgb: Image, effect: Effect, frame: int) -> Image:
    """Lateral chromatic aberration: red magnified and blue shrunk about the centre, so edges
    grow red and blue fringes that widen towards the corners (intensity 1 = 1 % of the
    half-diagonal at the corners: ~11 px at 1080p). The editor's command ("hue=h={intensity *
    10}" screened over the picture) only tints, so its intent, the fringes, is drawn instead,
    as ffmpeg's chromashift or rgbashift would."""
    (intensity,) = settings(effect)
    if intensity == 0.0:
        return rgb
    src = np.asarray(rgb, dtype=np.float32)
    k = np.float32(intensity * 0.01)
    out = src.copy()
    out[..., 0] = _magnify(src[..., 0], float(1.0 + k))
    out[..., 2] = _magnify(src[..., 2], float(1.0 - k))
    np.clip(out, 0.0, 1.0, out=out)
    return out


#: Canonical kind -> implementation.
IMPLEMENTATIONS: dict[str, EffectFn] = {
    "glow": _glow,
    "lensflare": _lensflare,
    "chromaticaberration": _chromaticaberration,
}
