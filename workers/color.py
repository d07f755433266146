"""Per-clip colour correction, plus the 3x3 colour matrices the effects reuse.

Images are float32 H x W x 3 RGB in [0, 1] (see workers.layer). Stages run in this order:

    brightness  added, -1..1
    contrast    multiplier around mid-grey 0.5
    saturation  multiplier around Rec.709 luma (0 = greyscale)
    hue         degrees of rotation around the grey axis (120 takes red to green)
    gamma       out = in ** (1 / gamma)

Brightness, contrast, saturation and hue are all affine and every matrix here keeps grey
fixed, so they fold into one matrix and one offset: a single matmul per frame. Values are not
clipped between those stages (a float pipeline keeps its headroom); the result is clipped to
[0, 1] once, before gamma. Nothing here modifies its input; when there is nothing to do the
input array itself comes back, so treat results as read-only.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from chunking.timeline.model import ColorCorrection
from workers.layer import Image

Matrix = npt.NDArray[np.float32]  # 3 x 3, applied as rgb @ M.T

#: Rec.709 luma weights for R, G, B.
LUMA_709 = np.array([0.2126, 0.7152, 0.0722], dtype=np.float64)

#: Standard sepia tone matrix (the one CSS and most editors use).
SEPIA = np.array(
    [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]],
    dtype=np.float32,
)

IDENTITY = np.eye(3, dtype=np.float32)

# Shared module constants: make accidental in-place edits fail loudly.
for _constant in (LUMA_709, SEPIA, IDENTITY):
    _constant.setflags(write=False)

# Gamma this close to 0 would raise to an enormous power; treat it as the smallest sane value.
_MIN_GAMMA = 0.01


def saturation_matrix(saturation: float) -> Matrix:
    """Matrix scaling chroma around Rec.709 luma: 0 = greyscale, 1 = identity."""
    s = float(saturation)
    # Built in float64 so the rows sum to 1 as exactly as float32 allows.
    m = s * np.eye(3) + (1.0 - s) * np.outer(np.ones(3), LUMA_709)
    return m.astype(np.float32)


def hue_matrix(degrees: float) -> Matrix:
    """Matrix rotating colours by this many degrees around the grey axis (red -> green -> blue)."""
    theta = math.radians(float(degrees) % 360.0)
    c, s = math.cos(theta), math.sin(theta)
    third = 1.0 / 3.0
    root = math.sqrt(third)
    # Rodrigues' rotation about the unit axis (1, 1, 1) / sqrt(3).
    cross = np.array([[0.0, -root, root], [root, 0.0, -root], [-root, root, 0.0]])
    m = c * np.eye(3) + s * cross + (1.0 - c) * np.full((3, 3), third)
    return m.astype(np.float32)


def mix_matrix(matrix: Matrix, amount: float) -> Matrix:
    """Blend between the identity (amount 0) and a colour matrix (amount 1)."""
    a = float(amount)
    return ((1.0 - a) * IDENTITY + a * matrix).astype(np.float32)


def apply_matrix(rgb: Image, matrix: Matrix, offset: float = 0.0) -> Image:
    """A new image rgb @ matrix.T + offset, clipped to [0, 1]."""
    src = np.asarray(rgb, dtype=np.float32)
    out: Image = src @ np.asarray(matrix, dtype=np.float32).T
    if offset:
        out += np.float32(offset)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def apply_gain(rgb: Image, scale: float, offset: float) -> Image:
    """A new image rgb * scale + offset, clipped to [0, 1]."""
    src = np.asarray(rgb, dtype=np.float32)
    out: Image = src * np.float32(scale)
    if offset:
        out += np.float32(offset)
    np.clip(out, 0.0, 1.0, out=out)
    return out


def color_matrix(cc: ColorCorrection) -> Matrix:
    """The combined saturation-then-hue matrix of a correction (identity when both are neutral)."""
    m = IDENTITY
    if cc.saturation != 1.0:
        m = saturation_matrix(cc.saturation)
    if cc.hue % 360.0 != 0.0:
        m = hue_matrix(cc.hue) @ m
    return m


def apply_color(rgb: Image, cc: ColorCorrection) -> Image:
    """Apply a clip's colour correction; an identity correction returns the input itself."""
    if cc.is_identity():
        return rgb
    # Brightness then contrast: ((x + b) - 0.5) * c + 0.5 == c * x + offset.
    scale = float(cc.contrast)
    offset = (float(cc.brightness) - 0.5) * scale + 0.5
    m = color_matrix(cc)
    # The matrices keep grey fixed (M @ [1, 1, 1] == [1, 1, 1]), so the offset passes through
    # them unchanged and everything before gamma is one affine step.
    if m is IDENTITY:
        if scale == 1.0 and offset == 0.0:
            out = np.clip(np.asarray(rgb, dtype=np.float32), 0.0, 1.0)
        else:
            out = apply_gain(rgb, scale, offset)
    else:
        out = apply_matrix(rgb, m * np.float32(scale), offset)
    if cc.gamma != 1.0:
        gamma = max(float(cc.gamma), _MIN_GAMMA)
        np.power(out, np.float32(1.0 / gamma), out=out)
    return out
