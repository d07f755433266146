"""Noise reduction: an edge-preserving spatial smoothing (a guided filter).

The editor's NoiseReduction runs ffmpeg's ``nlmeans=s={intensity}:p=7:pc=0:r=15:rc=0``
(effects.json, intensity 3 by default). Non-local means compares 7x7 patches over a 15x15
search window per pixel, hundreds of passes over the frame in numpy; the guided filter of
He, Sun and Tang (2013) reaches the same goal (flat areas averaged, edges kept) with a few
Gaussian blurs. It uses nlmeans' own threshold: nlmeans weighs neighbours by
exp(-d^2 / h^2) with h = 10 * s in 8-bit steps (vf_nlmeans.c), so differences well below
h / 255 count as noise; here a window whose variance is below eps = (10 s / 255)^2 is smoothed,
and one with much more (an edge, texture) is kept. The smoothing coefficients are computed at
half resolution and interpolated back ("fast guided filter", He and Sun 2015): they vary
slowly, and it makes the filter ~3x cheaper.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from chunking.timeline.model import Effect
from workers.effects_blur import gaussian_planar
from workers.effects_params import EffectFn, settings
from workers.layer import Image

Planes = npt.NDArray[np.float32]  # C x H x W

#: Below this size (px, either side) the coefficients are computed at full resolution.
_MIN_SUBSAMPLED = 16


def _half(planes: Planes) -> Planes:
    """2x2 means (an odd last row or column repeated)."""
    c, h, w = planes.shape
    padded = np.pad(planes, ((0, 0), (0, h % 2), (0, w % 2)), mode="edge")
    rows = padded[:, 0::2] + padded[:, 1::2]
    out: Planes = (rows[:, :, 0::2] + rows[:, :, 1::2]) * np.float32(0.25)
    return out


def _double(planes: Planes, axis: int, n: int) -> Planes:
    """Linear interpolation back to n samples along axis 1 or 2 (pixel centres aligned, edges
    repeated): full-resolution sample 2k lies at k - 1/4, sample 2k + 1 at k + 1/4."""
    m = planes.shape[axis]

    def cut(start: int, stop: int | None, step: int = 1) -> tuple[slice, ...]:
        index = [slice(None)] * 3
        index[axis] = slice(start, stop, step)
        return tuple(index)

    shape = list(planes.shape)
    shape[axis] = 2 * m
    out = np.empty(shape, dtype=np.float32)
    even, odd = out[cut(0, None, 2)], out[cut(1, None, 2)]
    np.multiply(planes, np.float32(0.75), out=even)
    odd[...] = even
    # Neighbours: the previous sample for even outputs, the next for odd ones (edges repeat).
    even[cut(1, None)] += planes[cut(0, m - 1)] * np.float32(0.25)
    even[cut(0, 1)] += planes[cut(0, 1)] * np.float32(0.25)
    odd[cut(0, m - 1)] += planes[cut(1, None)] * np.float32(0.25)
    odd[cut(m - 1, None)] += planes[cut(m - 1, None)] * np.float32(0.25)
    return out if 2 * m == n else out[cut(0, n)]


def guided_smooth(rgb: Image, strength: float, sigma: float) -> Image:
    """Each channel guided by itself: q = mean(a) * p + mean(b), a = var / (var + eps),
    b = (1 - a) * mean(p), over Gaussian windows of this standard deviation (px)."""
    h, w = rgb.shape[:2]
    planes = np.ascontiguousarray(np.asarray(rgb, dtype=np.float32).transpose(2, 0, 1))
    eps = np.float32((10.0 * strength / 255.0) ** 2)
    subsample = min(h, w) >= _MIN_SUBSAMPLED
    small = _half(planes) if subsample else planes
    scale = 0.5 if subsample else 1.0
    stack = np.concatenate([small, small * small])
    means = gaussian_planar(stack, sigma * scale)
    mean, mean_sq = means[:3], means[3:]
    var = mean_sq - mean * mean
    np.maximum(var, 0.0, out=var)  # float rounding can dip just below 0
    coefficients = np.empty_like(stack)
    a = coefficients[:3]
    np.divide(var, var + eps, out=a)
    np.multiply(np.float32(1.0) - a, mean, out=coefficients[3:])
    smooth = gaussian_planar(coefficients, sigma * scale)
    if subsample:
        smooth = _double(_double(smooth, 2, w), 1, h)
    out_planes = smooth[:3] * planes
    out_planes += smooth[3:]
    out: Image = np.ascontiguousarray(out_planes.transpose(1, 2, 0))
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _noisereduction(rgb: Image, effect: Effect, frame: int) -> Image:
    strength, radius = settings(effect)
    if strength == 0.0:
        return rgb
    return guided_smooth(rgb, strength, radius)


#: Canonical kind -> implementation.
IMPLEMENTATIONS: dict[str, EffectFn] = {"noisereduction": _noisereduction}
