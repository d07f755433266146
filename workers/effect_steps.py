"""The per-pixel effects that are one compositing kernel step (workers.kernels): a colour
matrix or the vignette's gain map. workers.effects runs them as effects; the compositor runs
the leading ones of a layer in the same pass as its conversion to float
(``kernels.to_float_steps``), so the step each gives is the one arithmetic of both.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from chunking.timeline.model import Effect
from workers import kernels
from workers.color import SEPIA, hue_matrix, mix_matrix, saturation_matrix
from workers.effects_params import remember, setting
from workers.layer import Image

Step = kernels.Gain | kernels.Affine
#: An effect's kernel step on a frame of a size: (effect, frame, height, width).
StepFn = Callable[[Effect, int, int, int], Step | None]

_vignette_masks: dict[tuple[int, int, float, float], npt.NDArray[np.float32]] = {}


def saturation_step(effect: Effect, frame: int, height: int, width: int) -> Step | None:
    """A saturation change: its colour matrix (None: no change)."""
    amount = setting(effect)
    return None if amount == 1.0 else kernels.Affine(saturation_matrix(amount))


def huerotate_step(effect: Effect, frame: int, height: int, width: int) -> Step | None:
    """A hue rotation: its colour matrix (None: no change)."""
    degrees = setting(effect)
    return None if degrees % 360.0 == 0.0 else kernels.Affine(hue_matrix(degrees))


def grayscale_step(effect: Effect, frame: int, height: int, width: int) -> Step | None:
    """Desaturation to grey by an amount: its colour matrix (None: no change)."""
    amount = setting(effect)
    return None if amount == 0.0 else kernels.Affine(saturation_matrix(1.0 - amount))


def sepia_step(effect: Effect, frame: int, height: int, width: int) -> Step | None:
    """A sepia tone mixed in by an amount: its colour matrix (None: no change)."""
    amount = setting(effect)
    return None if amount == 0.0 else kernels.Affine(mix_matrix(SEPIA, amount))


def vignette_step(effect: Effect, frame: int, height: int, width: int) -> Step | None:
    """A vignette: its gain map for a frame of this size (None: no change)."""
    strength, radius = setting(effect), setting(effect, 1)
    if strength == 0.0 or radius >= 1.0:
        return None
    return kernels.Gain(vignette_mask(height, width, strength, radius))


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
    return remember(_vignette_masks, key, mask)


#: The kernel step each IN_PLACE kind is on a frame of a size (None: it leaves the frame alone).
PIXEL_STEPS: dict[str, StepFn] = {
    "saturation": saturation_step,
    "vignette": vignette_step,
    "huerotate": huerotate_step,
    "grayscale": grayscale_step,
    "sepia": sepia_step,
}
