"""The mixing arithmetic every transition shares: float colour, alpha with opacity folded in, and
the premultiplied per-pixel mix and over-compositing that keep a transparent pixel's (meaningless)
colour out of the result. Works on NumPy and CuPy arrays alike (workers.arrays)."""

from __future__ import annotations

import numpy as np

from workers.arrays import module_of
from workers.layer import Image, Layer, Mask

F1 = np.float32(1)


def rgb_of(layer: Layer) -> Image:
    """The layer's colour as float32 (no copy when it already is)."""
    return module_of(layer.rgb).asarray(layer.rgb, dtype=np.float32)  # type: ignore[no-any-return]


def alpha_of(layer: Layer) -> Mask | None:
    """The layer's alpha with its opacity folded in; None when fully opaque. May alias input."""
    opacity = min(max(float(layer.opacity), 0.0), 1.0)
    xp = module_of(layer.rgb)
    if layer.alpha is None:
        if opacity >= 1.0:
            return None
        return xp.full(layer.rgb.shape[:2], opacity, dtype=np.float32)  # type: ignore[no-any-return]
    alpha: Mask = xp.asarray(layer.alpha, dtype=np.float32)
    if opacity >= 1.0:
        return alpha
    return alpha * np.float32(opacity)


def owned(alpha: Mask | None, source: Layer) -> Mask | None:
    """A copy of ``alpha`` when it still aliases the source's array, so results never share it."""
    if alpha is not None and alpha is source.alpha:
        return alpha.copy()
    return alpha


def scale(rgb: Image, weight: Mask | np.float32) -> None:
    """Multiply each channel of ``rgb`` in place by ``weight``."""
    # Per channel beats broadcasting weight[..., None] over the last axis by ~15 % at 1080p.
    for c in range(3):
        rgb[..., c] *= weight


def share(part: Mask | np.float32, whole: Mask) -> Mask:
    """part / whole where whole > 0, else 0 (where nothing is left the colour is moot)."""
    xp = module_of(whole)
    shown = whole > 0
    return xp.where(shown, part / xp.where(shown, whole, F1), F1 * 0)  # type: ignore[no-any-return]


def mix(
    a_rgb: Image,
    a_alpha: Mask | None,
    b_rgb: Image,
    b_alpha: Mask | None,
    weight: Mask | np.float32,
) -> Layer:
    """Each pixel ``weight`` of b and ``1 - weight`` of a (H x W, or one for all, in [0, 1]), mixing
    premultiplied colour so that the result composited over anything equals the same mix of
    each input composited over it."""
    out = b_rgb - a_rgb
    if a_alpha is None and b_alpha is None:
        scale(out, weight)
        out += a_rgb
        return Layer(out)
    wa = F1 - weight if a_alpha is None else a_alpha * (F1 - weight)
    wb = weight if b_alpha is None else b_alpha * weight
    # At least one side has an alpha array here, so the sum is one (asarray does not copy it).
    alpha: Mask = module_of(out).asarray(wa + wb, dtype=np.float32)
    scale(out, share(wb, alpha))  # b's share of the mixed colour
    out += a_rgb
    return Layer(out, alpha)


def over(top_rgb: Image, top_alpha: Mask, bottom_rgb: Image, bottom_alpha: Mask | None) -> Layer:
    """``top`` (its alpha given, premultiplication not applied) composited over ``bottom``."""
    out = top_rgb - bottom_rgb
    if bottom_alpha is None:
        scale(out, top_alpha)
        out += bottom_rgb
        return Layer(out)
    alpha = bottom_alpha * (F1 - top_alpha)
    alpha += top_alpha
    scale(out, share(top_alpha, alpha))
    out += bottom_rgb
    return Layer(out, alpha)
