"""The basic picture effects: blur, brightness, contrast, the colour matrices, invert, vignette,
sharpen and film grain; each runs on any array module (workers.arrays), so on a GPU node they
stay in GPU memory. ``workers.effects`` applies them (intensity, alpha, order).

Parameters are read leniently (workers.effects_params): a missing, non-numeric or non-finite
value takes the default; "a / b" lists aliases, the first that reads as a number wins; values
are clamped to the catalogue's range (chunking.timeline.catalogue.EFFECT_PARAMS).

    kind        param                        unit, range                            default
    ----------  ---------------------------  -------------------------------------  -------
    blur        radius / amount / sigma /    px, Gaussian std dev, 0..250           4
                blur
    brightness  amount / brightness          added to each channel, -1..1           0.1
                value / intensity            multiplier (CSS brightness()), 0..4    1
    contrast    amount / value / contrast /  multiplier around grey 0.5, 0..4       1.2
                intensity
    saturation  amount / value / saturation  multiplier around Rec.709 luma, 0..4   1.5
                / intensity
    huerotate   degrees / angle / amount /   degrees, red -> green, -3600..3600     90
                hue
    grayscale   amount / intensity           0..1, mix with the original            1
    sepia       amount / intensity           0..1, mix with the original            1
    invert      amount / intensity           0..1, mix with the original            1
    vignette    strength / amount /          0..1, darkening at the corners         0.5
                intensity / vignette
                radius                       0..10 of the half-diagonal where       0.75
                                             the darkening starts (>= 1: off)
    sharpen     amount / intensity / sharpen unsharp-mask gain, -10..10, 0 = off    1.0
                radius                       px, blur std dev, 0..250               1
    filmgrain   amount / grain / strength    noise std dev, 0..1                    0.08
                size                         px per grain cell, rounded, 0..16384   1
                intensity                    the editor's FilmGrain, see below      -

Brightness: ``value`` / ``intensity`` is what the editor's Brightness effect writes (its
``intensity`` renamed by timeline-to-project.ts), a CSS brightness() multiplier (1.2 = 20 %
brighter, its preview); ``amount`` / ``brightness`` (a Brightness filter, ffmpeg eq) is added.
Both may be given (multiplied, then added); with neither, 0.1 is added.

Film grain: the editor's FilmGrain writes ``intensity`` (ffmpeg noise strength, 0..100, its
command "noise=alls={intensity}:allf=t+u,eq=contrast={1 + amount}") and ``amount`` (a contrast
boost). When ``intensity`` is given we follow that command: grain of ffmpeg's uniform-noise
standard deviation intensity / sqrt(12) / 255, contrast 1 + amount; otherwise ``amount`` is the
grain's standard deviation. Grain is monochrome Gaussian noise seeded from (crc32(effect.id),
frame), so a frame's grain does not depend on which process renders it or what it rendered
before.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

from chunking.timeline.model import ColorCorrection, Effect
from workers import kernels
from workers.arrays import module_of
from workers.color import apply_color, apply_gain, apply_matrix
from workers.effect_steps import (
    StepFn,
    grayscale_step,
    huerotate_step,
    saturation_step,
    sepia_step,
    vignette_step,
)
from workers.effects_blur import gaussian_blur
from workers.effects_params import EffectFn, given, remember, setting
from workers.layer import Image

_device_masks: dict[tuple[int, int, float, float], Any] = {}
#: ffmpeg's noise filter with the u flag draws uniform noise of width alls (8-bit steps).
_UNIFORM_STD = 1.0 / (math.sqrt(12.0) * 255.0)


def blur(rgb: Image, effect: Effect, frame: int) -> Image:
    """A Gaussian blur of the picture (and alpha, premultiplied)."""
    sigma = setting(effect)
    return gaussian_blur(rgb, sigma) if sigma > 0 else rgb


def brightness(rgb: Image, effect: Effect, frame: int) -> Image:
    """The picture scaled and offset (CSS brightness() and ffmpeg eq's brightness)."""
    scale = setting(effect, 1)
    offset = setting(effect, 0) if given(effect, 0) or not given(effect, 1) else 0.0
    if scale == 1.0 and offset == 0.0:
        return rgb
    return apply_gain(rgb, scale, offset)


def contrast(rgb: Image, effect: Effect, frame: int) -> Image:
    """Contrast around mid grey."""
    return apply_color(rgb, ColorCorrection(contrast=setting(effect)))


def matrix_effect(step: StepFn) -> Callable[..., Image]:
    """The effect that runs a colour-matrix step (None: the input itself)."""

    def run(rgb: Image, effect: Effect, frame: int, out: Image | None = None) -> Image:
        found = step(effect, frame, *rgb.shape[:2])
        if not isinstance(found, kernels.Affine):
            return rgb
        return apply_matrix(rgb, found.matrix, found.offset, out=out)

    return run


saturation = matrix_effect(saturation_step)
huerotate = matrix_effect(huerotate_step)
grayscale = matrix_effect(grayscale_step)
sepia = matrix_effect(sepia_step)


def invert(rgb: Image, effect: Effect, frame: int) -> Image:
    """The picture mixed towards its negative by the amount."""
    amount = setting(effect)
    if amount == 0.0:
        return rgb
    # x + a * (1 - 2x) == (1 - 2a) * x + a: one scale and one offset.
    return apply_gain(rgb, 1.0 - 2.0 * amount, amount)


def vignette(rgb: Image, effect: Effect, frame: int, out: Image | None = None) -> Image:
    """The corners darkened (``out``: written there, for the in-place path)."""
    h, w = rgb.shape[:2]
    step = vignette_step(effect, frame, h, w)
    if not isinstance(step, kernels.Gain):
        return rgb
    mask = step.gain
    xp = module_of(rgb)
    if xp is not np:  # a layer in GPU memory: its mask goes there once, not every frame
        key = (h, w, setting(effect), setting(effect, 1))
        found = _device_masks.get(key)
        mask = found if found is not None else remember(_device_masks, key, xp.asarray(mask))
    return kernels.gain_clip(rgb, mask, out)


def sharpen(rgb: Image, effect: Effect, frame: int) -> Image:
    """An unsharp mask."""
    amount, sigma = setting(effect), setting(effect, 1)
    if amount == 0.0 or sigma <= 0.0:
        return rgb
    xp = module_of(rgb)
    src = xp.asarray(rgb, dtype=np.float32)
    # Unsharp mask: add back the detail the blur removes, scaled by amount.
    out: Image = src - gaussian_blur(src, sigma)
    out *= np.float32(amount)
    out += src
    xp.clip(out, 0.0, 1.0, out=out)
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


def filmgrain(rgb: Image, effect: Effect, frame: int) -> Image:
    """Monochrome grain seeded by the effect and the frame (see the module docstring)."""
    size = max(1, round(setting(effect, 1)))
    xp = module_of(rgb)
    src: Image = xp.asarray(rgb, dtype=np.float32)
    if given(effect, 2):  # the editor's FilmGrain: see the module docstring
        std = setting(effect, 2) * _UNIFORM_STD
        contrast = 1.0 + setting(effect, 0)
        if contrast != 1.0:
            src = apply_gain(src, contrast, 0.5 - 0.5 * contrast)
    else:
        std = setting(effect)
    if std == 0.0:
        return src if src is not rgb else rgb
    h, w = rgb.shape[:2]
    # Drawn on the host on every backend: a frame's grain must not depend on the node.
    noise = grain(effect.id, frame, h, w, size)
    noise *= np.float32(std)
    # Same noise on R, G and B: monochrome grain, like film's silver, not sensor chroma noise.
    out: Image = src + xp.asarray(noise)[:, :, None]
    xp.clip(out, 0.0, 1.0, out=out)
    return out


#: Kind -> implementation: the basic kinds, every one of which runs on any array module.
IMPLEMENTATIONS: dict[str, EffectFn] = {
    "blur": blur,
    "brightness": brightness,
    "contrast": contrast,
    "saturation": saturation,
    "huerotate": huerotate,
    "grayscale": grayscale,
    "sepia": sepia,
    "invert": invert,
    "vignette": vignette,
    "sharpen": sharpen,
    "filmgrain": filmgrain,
}

#: Per-pixel effects that can write their result into their input (``out``): kind -> function.
IN_PLACE: dict[str, Callable[[Image, Effect, int, Image], Image]] = {
    "saturation": saturation,
    "vignette": vignette,
    "huerotate": huerotate,
    "grayscale": grayscale,
    "sepia": sepia,
}
