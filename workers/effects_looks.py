"""The editor's looks (Vintage, Duotone, Noir, Cyberpunk, ...): fixed chains of CSS filter
functions.

Timeline Studio defines each look twice in src/features/effects/data/effects.json: an
``ffmpegCommand`` and a ``cssFilter`` for its preview. The ffmpeg strings pass CSS values to
filters with other units (``eq=brightness=1.2`` is ffmpeg's additive brightness, clamped to +1:
a white frame), and its Rust exporter renders none of the looks (ffmpeg_builder/effects.rs
build_effect returns "" for them), so the CSS preview is the only look the editor ever showed.
We reproduce that ``cssFilter`` chain exactly, by the W3C Filter Effects Module Level 1 matrices
(section 13.2, "filter functions"): in sRGB, each function's result clamped to [0, 1] before
the next, as browsers compose them.
"""

from __future__ import annotations

import math

import numpy as np

from chunking.timeline.model import Effect
from workers.color import SEPIA, Matrix, mix_matrix, saturation_matrix
from workers.effects_params import EffectFn, color
from workers.layer import Image

#: One CSS filter function as an affine colour step: rgb @ matrix.T * scale + offset.
Step = tuple[Matrix | None, float, float]


def css_brightness(amount: float) -> Step:
    """CSS brightness(): a multiplier."""
    return None, amount, 0.0


def css_contrast(amount: float) -> Step:
    """CSS contrast(): a multiplier around 0.5."""
    return None, amount, 0.5 - 0.5 * amount


def css_saturate(amount: float) -> Step:
    """CSS saturate() (its constants 0.213 / 0.715 / 0.072, not full Rec.709 precision)."""
    s = amount
    m = np.array(
        [
            [0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s],
        ],
        dtype=np.float32,
    )
    return m, 1.0, 0.0


def css_hue_rotate(degrees: float) -> Step:
    """CSS hue-rotate(): keeps luma, unlike a rotation about the grey axis."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    base = np.array([[0.213, 0.715, 0.072]] * 3)
    cos_part = np.array([[0.787, -0.715, -0.072], [-0.213, 0.285, -0.072], [-0.213, -0.715, 0.928]])
    sin_part = np.array([[-0.213, -0.715, 0.928], [0.143, 0.140, -0.283], [-0.787, 0.715, 0.072]])
    return (base + c * cos_part + s * sin_part).astype(np.float32), 1.0, 0.0


def css_grayscale(amount: float) -> Step:
    """CSS grayscale(): Rec.709 luma, mixed with the original by amount."""
    return saturation_matrix(1.0 - amount), 1.0, 0.0


def css_sepia(amount: float) -> Step:
    """CSS sepia(): the classic sepia matrix mixed with the original by amount."""
    return mix_matrix(SEPIA, amount), 1.0, 0.0


def run_steps(rgb: Image, steps: list[Step]) -> Image:
    """A new image: the steps in order, each result clipped to [0, 1]."""
    out: Image = np.asarray(rgb, dtype=np.float32)
    for matrix, scale, offset in steps:
        if matrix is not None:
            out = out @ matrix.T
        else:
            out = out * np.float32(scale)
        if offset:
            out += np.float32(offset)
        np.clip(out, 0.0, 1.0, out=out)
    return out


# The cssFilter strings of effects.json, function by function.
_B, _C, _S, _H = css_brightness, css_contrast, css_saturate, css_hue_rotate
LOOK_STEPS: dict[str, list[Step]] = {
    # sepia(0.5) contrast(1.2) brightness(0.9) saturate(0.8)
    "vintage": [css_sepia(0.5), _C(1.2), _B(0.9), _S(0.8)],
    # grayscale(1) brightness(1.2) contrast(1.5) sepia(0.5)
    "duotone": [css_grayscale(1.0), _B(1.2), _C(1.5), css_sepia(0.5)],
    # grayscale(1) contrast(1.5) brightness(0.8)
    "noir": [css_grayscale(1.0), _C(1.5), _B(0.8)],
    # hue-rotate(180deg) saturate(2) contrast(1.3) brightness(1.2)
    "cyberpunk": [_H(180.0), _S(2.0), _C(1.3), _B(1.2)],
    # brightness(1.1) contrast(0.9) saturate(0.8) hue-rotate(30deg)
    "dreamy": [_B(1.1), _C(0.9), _S(0.8), _H(30.0)],
    # hue-rotate(-30deg) saturate(2) contrast(1.5) brightness(1.2)
    "infrared": [_H(-30.0), _S(2.0), _C(1.5), _B(1.2)],
    # brightness(1.2) saturate(1.5) hue-rotate(100deg)
    "matrix": [_B(1.2), _S(1.5), _H(100.0)],
    # brightness(1.2) saturate(0.8) contrast(1.1) hue-rotate(180deg)
    "arctic": [_B(1.2), _S(0.8), _C(1.1), _H(180.0)],
    # brightness(1.1) contrast(1.2) saturate(1.5) hue-rotate(30deg) sepia(0.3)
    "sunset": [_B(1.1), _C(1.2), _S(1.5), _H(30.0), css_sepia(0.3)],
    # contrast(1.4) brightness(0.9) sepia(0.3) saturate(1.5)
    "lomo": [_C(1.4), _B(0.9), css_sepia(0.3), _S(1.5)],
    # brightness(0.9) contrast(1.1) saturate(0.8) hue-rotate(-20deg)
    "twilight": [_B(0.9), _C(1.1), _S(0.8), _H(-20.0)],
    # brightness(1.2) contrast(1.4) saturate(2) hue-rotate(180deg)
    "neon": [_B(1.2), _C(1.4), _S(2.0), _H(180.0)],
}


def _look(kind: str) -> EffectFn:
    steps = LOOK_STEPS[kind]

    def apply(rgb: Image, effect: Effect, frame: int) -> Image:
        return run_steps(rgb, steps)

    apply.__name__ = f"_{kind}"
    return apply


def _duotone(rgb: Image, effect: Effect, frame: int) -> Image:
    """The editor's duotone; with a dark and/or light colour given, its tone (the grey after
    grayscale, brightness and contrast) maps linearly from the dark colour to the light one."""
    dark, light = color(effect, 0), color(effect, 1)
    if dark is None and light is None:
        return run_steps(rgb, LOOK_STEPS["duotone"])
    tone = run_steps(rgb, LOOK_STEPS["duotone"][:3])[..., :1]
    # Missing ends default to the editor's: black, and what its sepia(0.5) makes of white.
    low = np.array(dark or (0.0, 0.0, 0.0), dtype=np.float32)
    editor_white = run_steps(np.ones((1, 1, 3), dtype=np.float32), [css_sepia(0.5)])[0, 0]
    high = np.array(light, dtype=np.float32) if light is not None else editor_white
    out: Image = tone * (high - low) + low
    np.clip(out, 0.0, 1.0, out=out)
    return out


#: Canonical kind -> implementation, for every look of catalogue.LOOKS.
IMPLEMENTATIONS: dict[str, EffectFn] = {kind: _look(kind) for kind in LOOK_STEPS}
IMPLEMENTATIONS["duotone"] = _duotone
