"""Effects and filters applied to a clip's or track's picture, one frame at a time.

Images are float32 H x W x 3 RGB in [0, 1] (see workers.layer). Every effect returns float32
clipped to [0, 1] and never modifies its input; when the parameters make it a no-op the input
array itself comes back, so treat results as read-only. Whether an effect is active at a frame
is the compositor's business (Effect.active_at), not apply_effect's.

Parameters are read leniently from Effect.params: a missing, non-numeric or non-finite value
falls back to the default; "a / b" lists aliases, the first that reads as a number wins. The
value is then clamped to its range (the loader refuses values outside it; the names, ranges and
defaults live in chunking.timeline.catalogue.EFFECT_PARAMS).

    kind        param                     unit, range                          default
    ----------  ------------------------  -----------------------------------  -------
    blur        radius / amount / sigma   px, Gaussian std dev, 0..250         4
    brightness  amount / value            added to each channel, -1..1         0.1
    contrast    amount / value            multiplier around grey 0.5, 0..4     1.2
    saturation  amount / value            multiplier around Rec.709 luma, 0..4 1.5
    huerotate   degrees / angle / amount  degrees, red -> green, -3600..3600   90
    grayscale   amount                    0..1, mix with the original          1
    sepia       amount                    0..1, mix with the original          1
    invert      amount                    0..1, mix with the original          1
    vignette    strength / amount         0..1, darkening at the corners       0.5
                radius                    0..10 of the half-diagonal where     0.75
                                          the darkening starts (>= 1: off)
    sharpen     amount                    unsharp-mask gain, -10..10, 0 = off  1.0
                radius                    px, blur std dev, 0..250             1
    filmgrain   amount                    noise std dev, 0..1                  0.08
                size                      px per grain cell, rounded, 0..16384 1

Blur radius is the Gaussian standard deviation in pixels of the image it is applied to, as in
CSS blur(); edges repeat the border pixel. Film grain is monochrome Gaussian noise seeded from
(crc32(effect.id), frame), so a frame's grain does not depend on which process renders it or
what it rendered before.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from chunking.timeline.catalogue import EFFECT_PARAMS, effect_kind
from chunking.timeline.model import ColorCorrection, Effect, ParamValue
from common.errors import TimelineError
from workers.color import (
    SEPIA,
    apply_color,
    apply_matrix,
    hue_matrix,
    mix_matrix,
    saturation_matrix,
)
from workers.layer import Image

EffectFn = Callable[[Image, Effect, int], Image]
K = TypeVar("K")
V = TypeVar("V")

# Small caches keyed by geometry and parameters; a render uses a handful of sizes and settings.
_CACHE_SIZE = 16
_Plan = list[tuple[int, int, int, int, npt.NDArray[np.float32]]]
#: Below this sigma (px) the neighbours' float32 weights are exactly 0 (measured: the result
#: equals the input up to 0.1), and far below it 2 * sigma**2 underflows into a division by 0.
_NO_BLUR = 0.05
_blur_plans: dict[tuple[int, float], _Plan] = {}
_vignette_masks: dict[tuple[int, int, float, float], npt.NDArray[np.float32]] = {}


def _remember(cache: dict[K, V], key: K, value: V) -> V:
    """Store a value in a small cache, dropping the oldest entry when it is full."""
    if len(cache) >= _CACHE_SIZE:
        cache.pop(next(iter(cache)), None)
    cache[key] = value
    return value


def param(params: Mapping[str, ParamValue], names: tuple[str, ...], default: float) -> float:
    """The first of these params that reads as a finite number, else the default."""
    for name in names:
        if name not in params:
            continue
        value = params[name]
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            return number
    return default


def setting(effect: Effect, index: int = 0) -> float:
    """The effect's `index`-th numeric parameter (chunking.timeline.catalogue.EFFECT_PARAMS):
    read leniently, then clamped to its range, so a timeline built without the loader's range
    check still cannot overflow the pixel maths."""
    spec = EFFECT_PARAMS[effect_kind(effect.kind) or effect.kind][index]
    return min(max(param(effect.params, spec.names, spec.default), spec.low), spec.high)


def _blur_plan(n: int, sigma: float) -> _Plan:
    """Blocks (in_lo, in_hi, lo, hi, W) with out[lo:hi] = W @ data[in_lo:in_hi] along an axis."""
    key = (n, sigma)
    cached = _blur_plans.get(key)
    if cached is not None:
        return cached
    r = max(1, math.ceil(3.0 * sigma))
    taps = np.arange(-r, r + 1)
    kernel = np.exp(-(taps * taps) / (2.0 * sigma * sigma))
    kernel /= kernel.sum()
    # Blocks of output samples times a dense (block x block + halo) matrix let BLAS do the
    # convolution: measured ~3x faster than shifted adds; sizing blocks by the radius keeps the
    # wasted halo work bounded.
    block = 32 * max(1, math.ceil(r / 32))
    plan: _Plan = []
    for lo in range(0, n, block):
        hi = min(lo + block, n)
        in_lo, in_hi = max(lo - r, 0), min(hi + r, n)
        rows = np.broadcast_to(np.arange(hi - lo)[:, None], (hi - lo, taps.size))
        cols = np.clip(np.arange(lo, hi)[:, None] + taps[None, :], 0, n - 1) - in_lo
        weights = np.zeros((hi - lo, in_hi - in_lo), dtype=np.float64)
        # Taps that fall off the edge pile onto the border sample (edge clamp).
        np.add.at(weights, (rows, cols), np.broadcast_to(kernel, rows.shape))
        plan.append((in_lo, in_hi, lo, hi, weights.astype(np.float32)))
    return _remember(_blur_plans, key, plan)


def _blur_rows(data: npt.NDArray[np.float32], plan: _Plan) -> npt.NDArray[np.float32]:
    """Blur a 2-D array along axis 0 (down its columns)."""
    out = np.empty_like(data)
    for in_lo, in_hi, lo, hi, weights in plan:
        np.matmul(weights, data[in_lo:in_hi], out=out[lo:hi])
    return out


def _blur_columns(data: npt.NDArray[np.float32], plan: _Plan) -> npt.NDArray[np.float32]:
    """Blur a 2-D array along axis 1 (along its rows)."""
    out = np.empty_like(data)
    for in_lo, in_hi, lo, hi, weights in plan:
        np.matmul(data[:, in_lo:in_hi], weights.T, out=out[:, lo:hi])
    return out


def gaussian_blur(rgb: Image, sigma: float) -> Image:
    """A new image blurred by a Gaussian of this standard deviation in pixels."""
    src = np.ascontiguousarray(rgb, dtype=np.float32)
    if sigma < _NO_BLUR:
        return src.copy()
    h, w, c = src.shape
    vertical = _blur_rows(src.reshape(h, w * c), _blur_plan(h, sigma)).reshape(h, w, c)
    # The horizontal pass runs on planes (one channel's rows contiguous): measured far cheaper
    # than convolving interleaved RGB, and the channel-plane transposes are the fast kind.
    planes = np.ascontiguousarray(vertical.transpose(2, 0, 1)).reshape(c * h, w)
    horizontal = _blur_columns(planes, _blur_plan(w, sigma)).reshape(c, h, w)
    out = np.ascontiguousarray(horizontal.transpose(1, 2, 0))
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _blur(rgb: Image, effect: Effect, frame: int) -> Image:
    sigma = setting(effect)
    return gaussian_blur(rgb, sigma) if sigma > 0 else rgb


def _brightness(rgb: Image, effect: Effect, frame: int) -> Image:
    return apply_color(rgb, ColorCorrection(brightness=setting(effect)))


def _contrast(rgb: Image, effect: Effect, frame: int) -> Image:
    return apply_color(rgb, ColorCorrection(contrast=setting(effect)))


def _saturation(rgb: Image, effect: Effect, frame: int) -> Image:
    amount = setting(effect)
    return rgb if amount == 1.0 else apply_matrix(rgb, saturation_matrix(amount))


def _huerotate(rgb: Image, effect: Effect, frame: int) -> Image:
    degrees = setting(effect)
    return rgb if degrees % 360.0 == 0.0 else apply_matrix(rgb, hue_matrix(degrees))


def _grayscale(rgb: Image, effect: Effect, frame: int) -> Image:
    amount = setting(effect)
    return rgb if amount == 0.0 else apply_matrix(rgb, saturation_matrix(1.0 - amount))


def _sepia(rgb: Image, effect: Effect, frame: int) -> Image:
    amount = setting(effect)
    return rgb if amount == 0.0 else apply_matrix(rgb, mix_matrix(SEPIA, amount))


def _invert(rgb: Image, effect: Effect, frame: int) -> Image:
    amount = setting(effect)
    if amount == 0.0:
        return rgb
    # x + a * (1 - 2x) == (1 - 2a) * x + a: one scale and one offset.
    out: Image = np.asarray(rgb, dtype=np.float32) * np.float32(1.0 - 2.0 * amount)
    out += np.float32(amount)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def vignette_mask(height: int, width: int, strength: float, radius: float) -> Image:
    """Read-only H x W x 1 gain: 1 inside radius, falling smoothly to 1 - strength at corners."""
    key = (height, width, strength, radius)
    cached = _vignette_masks.get(key)
    if cached is not None:
        return cached
    half_diagonal = np.float32(math.hypot(width, height) / 2.0)
    ys = (np.arange(height, dtype=np.float32) + np.float32(0.5 - height / 2.0)) / half_diagonal
    xs = (np.arange(width, dtype=np.float32) + np.float32(0.5 - width / 2.0)) / half_diagonal
    dist = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
    t = np.clip((dist - np.float32(radius)) / np.float32(1.0 - radius), 0.0, 1.0)
    # Smoothstep: no visible ring where the darkening starts.
    mask = np.float32(1.0) - np.float32(strength) * (t * t * (np.float32(3.0) - 2.0 * t))
    mask = mask.astype(np.float32)[:, :, None]
    mask.setflags(write=False)
    return _remember(_vignette_masks, key, mask)


def _vignette(rgb: Image, effect: Effect, frame: int) -> Image:
    strength, radius = setting(effect), setting(effect, 1)
    if strength == 0.0 or radius >= 1.0:
        return rgb
    h, w = rgb.shape[:2]
    out: Image = np.asarray(rgb, dtype=np.float32) * vignette_mask(h, w, strength, radius)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _sharpen(rgb: Image, effect: Effect, frame: int) -> Image:
    amount, sigma = setting(effect), setting(effect, 1)
    if amount == 0.0 or sigma <= 0.0:
        return rgb
    src = np.asarray(rgb, dtype=np.float32)
    # Unsharp mask: add back the detail the blur removes, scaled by amount.
    out: Image = src - gaussian_blur(src, sigma)
    out *= np.float32(amount)
    out += src
    np.clip(out, 0.0, 1.0, out=out)
    return out


def grain(effect_id: str, frame: int, height: int, width: int, size: int = 1) -> Image:
    """Unit-variance H x W noise, identical for the same (effect id, frame, size) anywhere."""
    seed = (zlib.crc32(effect_id.encode()), frame & 0xFFFF_FFFF_FFFF_FFFF)
    rng = np.random.default_rng(seed)
    cells_y, cells_x = -(-height // size), -(-width // size)
    noise = rng.standard_normal((cells_y, cells_x), dtype=np.float32)
    if size > 1:
        # Each pixel takes its cell's value; indexing allocates only H x W, however big a cell.
        noise = noise[(np.arange(height) // size)[:, None], np.arange(width) // size]
    return noise


def _filmgrain(rgb: Image, effect: Effect, frame: int) -> Image:
    amount = setting(effect)
    size = max(1, round(setting(effect, 1)))
    if amount == 0.0:
        return rgb
    h, w = rgb.shape[:2]
    noise = grain(effect.id, frame, h, w, size)
    noise *= np.float32(amount)
    # Same noise on R, G and B: monochrome grain, like film's silver, not sensor chroma noise.
    out: Image = np.asarray(rgb, dtype=np.float32) + noise[:, :, None]
    np.clip(out, 0.0, 1.0, out=out)
    return out


#: Canonical effect kind -> implementation; exactly the kinds in catalogue.VIDEO_EFFECTS.
IMPLEMENTATIONS: dict[str, EffectFn] = {
    "blur": _blur,
    "brightness": _brightness,
    "contrast": _contrast,
    "saturation": _saturation,
    "huerotate": _huerotate,
    "grayscale": _grayscale,
    "sepia": _sepia,
    "invert": _invert,
    "vignette": _vignette,
    "sharpen": _sharpen,
    "filmgrain": _filmgrain,
}


#: Effects whose output depends on the frame index, not only on the input pixels.
TIME_VARYING = frozenset({"filmgrain"})

#: Effects whose value at a pixel depends on other pixels or on the layer's size (neighbours,
#: distance from the centre, the grain field's shape): they need the whole layer. Every other
#: effect works pixel by pixel, so it gives the same pixels on any part of the layer.
WHOLE_LAYER = frozenset({"blur", "sharpen", "vignette", "filmgrain"})


def apply_effect(rgb: Image, effect: Effect, frame: int) -> Image:
    """Apply one effect at a timeline frame, regardless of its start/end window."""
    kind = effect_kind(effect.kind) or effect.kind
    impl = IMPLEMENTATIONS.get(kind)
    if impl is None:
        known = ", ".join(sorted(IMPLEMENTATIONS))
        raise TimelineError(f"effect {effect.id!r}: unknown kind {effect.kind!r} (known: {known})")
    return impl(rgb, effect, frame)
