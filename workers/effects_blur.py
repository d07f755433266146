"""Gaussian blur of float images with any number of channels, shared by the effects that need
neighbourhood averages (blur, sharpen, glow, noise reduction).

Sigma is the Gaussian standard deviation in pixels of the image it is applied to, as in CSS
blur(); edges repeat the border pixel.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from workers.arrays import GPU_NUMPY, current, module_of
from workers.effects_params import remember

_Plan = list[tuple[int, int, int, int, npt.NDArray[np.float32]]]
Planes = npt.NDArray[np.float32]  # H x W x C, any C

#: Below this sigma (px) the neighbours' float32 weights are exactly 0 (measured: the result
#: equals the input up to 0.1), and far below it 2 * sigma**2 underflows into a division by 0.
NO_BLUR = 0.05
_blur_plans: dict[tuple[int, float], _Plan] = {}
_dense_plans: dict[tuple[int, float, str], Any] = {}


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
    return remember(_blur_plans, key, plan)


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


def _dense(n: int, sigma: float, xp: Any) -> Any:
    """The whole blur along an axis of n samples as one n x n matrix in ``xp``'s memory."""
    key = (n, sigma, xp.__name__)
    cached = _dense_plans.get(key)
    if cached is not None:
        return cached
    matrix = np.zeros((n, n), dtype=np.float32)
    for in_lo, in_hi, lo, hi, weights in _blur_plan(n, sigma):
        matrix[lo:hi, in_lo:in_hi] = weights
    return remember(_dense_plans, key, xp.asarray(matrix))


def _gaussian_dense(src: Planes, sigma: float) -> Planes:
    """gaussian() as two dense matrix products, one per axis: the GPU path (workers.arrays),
    where one large product beats many small ones."""
    xp = module_of(src)
    h, w, c = src.shape
    vertical = (_dense(h, sigma, xp) @ src.reshape(h, w * c)).reshape(h, w, c)
    planes = vertical.transpose(2, 0, 1) @ _dense(w, sigma, xp).T
    return xp.ascontiguousarray(planes.transpose(1, 2, 0))  # type: ignore[no-any-return]


def gaussian(planes: Planes, sigma: float) -> Planes:
    """A new H x W x C array blurred by a Gaussian of this standard deviation in pixels, not
    clipped (for intermediate values such as variances and regression coefficients)."""
    xp = module_of(planes)
    src = xp.ascontiguousarray(planes, dtype=np.float32)
    if sigma < NO_BLUR:
        return src.copy()  # type: ignore[no-any-return]
    # Dense on a GPU (and NumPy standing in for it); an effect run on a host copy of a GPU
    # layer (glow, noise reduction) keeps the CPU's banded blocks, far cheaper there.
    if xp is not np or current().name == GPU_NUMPY:
        return _gaussian_dense(src, sigma)
    h, w, c = src.shape
    vertical = _blur_rows(src.reshape(h, w * c), _blur_plan(h, sigma)).reshape(h, w, c)
    # The horizontal pass runs on planes (one channel's rows contiguous): measured far cheaper
    # than convolving interleaved RGB, and the channel-plane transposes are the fast kind.
    by_plane = np.ascontiguousarray(vertical.transpose(2, 0, 1)).reshape(c * h, w)
    horizontal = _blur_columns(by_plane, _blur_plan(w, sigma)).reshape(c, h, w)
    return np.ascontiguousarray(horizontal.transpose(1, 2, 0))


def gaussian_planar(planes: Planes, sigma: float) -> Planes:
    """A new C x H x W array (planes side by side) blurred by a Gaussian of this standard
    deviation in pixels, not clipped: no channel transposes, for multi-plane pipelines."""
    src = np.ascontiguousarray(planes, dtype=np.float32)
    if sigma < NO_BLUR:
        return src.copy()
    c, h, w = src.shape
    vertical = np.empty_like(src)
    plan = _blur_plan(h, sigma)
    for p in range(c):  # measured ~1.8x faster than one matmul broadcast over the planes
        for in_lo, in_hi, lo, hi, weights in plan:
            np.matmul(weights, src[p, in_lo:in_hi], out=vertical[p, lo:hi])
    out = _blur_columns(vertical.reshape(c * h, w), _blur_plan(w, sigma))
    return out.reshape(c, h, w)


def gaussian_blur(rgb: Planes, sigma: float) -> Planes:
    """A new image blurred by a Gaussian of this standard deviation in pixels, clipped to
    [0, 1]."""
    out = gaussian(rgb, sigma)
    module_of(out).clip(out, 0.0, 1.0, out=out)
    return out


def fill_hidden(rgb: Planes, alpha: Planes, sigma: float) -> Planes:
    """``rgb`` where ``alpha`` > 0; under fully transparent pixels, the alpha-weighted average
    colour of the visible pixels around (a Gaussian of ``sigma``), so an effect that reads
    neighbours (sharpen, noise reduction) never mixes in the colour stored there (black in most
    PNGs, anything in others): no dark or coloured rim along a logo's edge."""
    xp = module_of(rgb)
    hidden = alpha <= 0
    if sigma <= 0 or not bool(hidden.any()) or bool(hidden.all()):
        return rgb
    planes = xp.empty((*rgb.shape[:2], 4), dtype=np.float32)
    xp.multiply(rgb, alpha[..., None], out=planes[..., :3])
    planes[..., 3] = alpha
    near = gaussian(planes, sigma)
    weight = xp.where(near[..., 3] > 0, near[..., 3], np.float32(1))
    fill = near[..., :3] / weight[..., None]
    out: Planes = xp.where(hidden[..., None], fill, rgb).astype(np.float32, copy=False)
    return out


def blur_with_alpha(
    rgb: Planes, alpha: Planes, sigma: float, intensity: float
) -> tuple[Planes, Planes]:
    """A layer with alpha blurred as editors blur it (and ffmpeg's gblur, on all four planes):
    its alpha too, so a logo's or title's edges soften; colour is weighted by alpha
    (premultiplied), so the colour of its transparent pixels (black in most PNGs) never bleeds
    in as a dark halo."""
    if sigma <= 0:
        return rgb, alpha
    xp = module_of(rgb)
    planes = xp.empty((*rgb.shape[:2], 4), dtype=np.float32)
    xp.multiply(rgb, alpha[..., None], out=planes[..., :3])
    planes[..., 3] = alpha
    blurred = gaussian_blur(planes, sigma)
    if intensity < 1.0:
        blurred -= planes
        blurred *= np.float32(intensity)
        blurred += planes
    shown = blurred[..., 3]
    # Where nothing is left the colour is moot: 0, not a division by 0.
    safe = xp.where(shown > 0, shown, np.float32(1))
    out: Planes = blurred[..., :3] / safe[..., None]
    xp.clip(out, 0.0, 1.0, out=out)
    return out, xp.ascontiguousarray(shown)
