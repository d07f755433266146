"""Per-clip colour correction, plus the 3x3 colour matrices the effects reuse.

Images are float32 H x W x 3 RGB in [0, 1] (see workers.layer). Stages run in this order:

    brightness  added, -1..1
    contrast    multiplier around mid-grey 0.5
    saturation  multiplier around Rec.709 luma (0 = greyscale)
    hue         degrees of rotation around the grey axis (120 takes red to green)
    tonal       shadows, highlights, whites, blacks: smooth curves, below
    gamma       out = in ** (1 / gamma)

Brightness, contrast, saturation and hue are all affine and every matrix here keeps grey
fixed, so they fold into one matrix and one offset: a single matmul per frame. Values are not
clipped between those stages (a float pipeline keeps its headroom); the result is clipped to
[0, 1] once, before the tonal curves and gamma. Nothing here modifies its input; when there is
nothing to do the input array itself comes back, so treat results as read-only.

Tonal ranges (each -1..1, 0 = unchanged) are two smooth per-channel curves, applied in turn:

    f(x) = x + a_s * x (1 - x)^3 + a_h * x^3 (1 - x)      shadows S, highlights H
    g(y) = y + 0.2 * B * (1 - y)^4 + 0.2 * W * y^4        blacks B, whites W

The shadows bump peaks at x = 1/4 and the highlights bump at x = 3/4; both vanish at black and
white, so S and H reshape the tones between without moving the end points. a_s = 1.9 S for a
lift and 0.95 S for a lowering, a_h = 0.95 H for a lift and 1.9 H for a recovery: the largest
gains that keep f rising everywhere (its slope stays >= 0.05 for every S, H in -1..1), so no
tone overtakes another; S = 1 lifts 0.1 to 0.24 and 0.25 to 0.45, H = -1 pulls 0.75 down
to 0.55. Blacks and whites move the end points: B = 1 lifts black to 0.2 (a matte fade),
B = -1 crushes the darkest ~12 % to black; W = 1 clips the brightest ~12 % to white, W = -1
lowers white to 0.8. g keeps a slope >= 0.2. The results are clipped to [0, 1].
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

from chunking.timeline.model import ColorCorrection
from workers import kernels
from workers.arrays import module_of
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

#: Entries of a 1-D lookup table: indexing with uint16 is measured ~2.5x faster than evaluating
#: the sRGB transfer functions, and nearest-entry lookup is off by at most slope * 2**-17.
LUT_SIZE = 65536
Lut = npt.NDArray[np.float32]  # LUT_SIZE values of a curve on [0, 1]


def saturation_matrix(saturation: float) -> Matrix:
    """Matrix scaling chroma around Rec.709 luma: 0 = greyscale, 1 = identity (read-only)."""
    return _saturation_matrix(float(saturation))


def hue_matrix(degrees: float) -> Matrix:
    """Matrix rotating colours by this many degrees around the grey axis (red -> green -> blue)
    (read-only)."""
    return _hue_matrix(float(degrees))


# A clip's correction and its colour effects ask for their matrix on every frame (about 0.1 ms
# each in NumPy's small-array calls): the same few values, built once, read-only.
@functools.lru_cache(maxsize=64)
def _saturation_matrix(s: float) -> Matrix:
    # Built in float64 so the rows sum to 1 as exactly as float32 allows.
    m = s * np.eye(3) + (1.0 - s) * np.outer(np.ones(3), LUMA_709)
    return _read_only(m.astype(np.float32))


@functools.lru_cache(maxsize=64)
def _hue_matrix(degrees: float) -> Matrix:
    theta = math.radians(degrees % 360.0)
    c, s = math.cos(theta), math.sin(theta)
    third = 1.0 / 3.0
    root = math.sqrt(third)
    # Rodrigues' rotation about the unit axis (1, 1, 1) / sqrt(3).
    cross = np.array([[0.0, -root, root], [root, 0.0, -root], [-root, root, 0.0]])
    m = c * np.eye(3) + s * cross + (1.0 - c) * np.full((3, 3), third)
    return _read_only(m.astype(np.float32))


def _read_only(m: Matrix) -> Matrix:
    m.setflags(write=False)
    return m


def mix_matrix(matrix: Matrix, amount: float) -> Matrix:
    """Blend between the identity (amount 0) and a colour matrix (amount 1)."""
    a = float(amount)
    return ((1.0 - a) * IDENTITY + a * matrix).astype(np.float32)


def apply_matrix(
    rgb: Image, matrix: Matrix, offset: float = 0.0, out: Image | None = None
) -> Image:
    """rgb @ matrix.T + offset, clipped to [0, 1]: a new image, or written into ``out`` (which
    may be ``rgb`` itself)."""
    return kernels.affine_clip(rgb, matrix, offset, out)


def apply_gain(rgb: Image, scale: float, offset: float) -> Image:
    """A new image rgb * scale + offset, clipped to [0, 1]."""
    xp = module_of(rgb)
    out: Image = xp.asarray(rgb, dtype=np.float32) * np.float32(scale)
    if offset:
        out += np.float32(offset)
    xp.clip(out, 0.0, 1.0, out=out)
    return out


def lut_input() -> npt.NDArray[np.float64]:
    """The LUT_SIZE evenly spaced inputs in [0, 1] a lookup table is sampled at."""
    return np.linspace(0.0, 1.0, LUT_SIZE)


def apply_luts(rgb: Image, luts: tuple[Lut, Lut, Lut]) -> Image:
    """A new image with each channel mapped through its lookup table (inputs clipped to [0, 1],
    outputs as the tables hold them)."""
    index = np.asarray(rgb, dtype=np.float32) * np.float32(LUT_SIZE - 1)
    np.clip(index, 0.0, LUT_SIZE - 1, out=index)
    index += np.float32(0.5)
    nearest = index.astype(np.uint16)
    if luts[0] is luts[1] is luts[2]:
        out: Image = luts[0][nearest]
        return out
    out = np.empty(nearest.shape, dtype=np.float32)
    for c in range(3):
        out[..., c] = luts[c][nearest[..., c]]
    return out


def srgb_to_linear(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The sRGB transfer function's inverse (IEC 61966-2-1): encoded values to linear light."""
    out: npt.NDArray[np.float64] = np.where(
        x <= 0.04045, x / 12.92, ((np.maximum(x, 0.04045) + 0.055) / 1.055) ** 2.4
    )
    return out


def linear_to_srgb(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The sRGB transfer function: linear light to encoded values."""
    safe = np.maximum(x, 0.0031308)
    out: npt.NDArray[np.float64] = np.where(
        x <= 0.0031308, x * 12.92, 1.055 * safe ** (1.0 / 2.4) - 0.055
    )
    return out


def _horner(x: Image, coefficients: list[float]) -> Image:
    """A new array: the polynomial with these coefficients (highest power first) at x."""
    out: Image = x * np.float32(coefficients[0])
    for c in coefficients[1:-1]:
        out += np.float32(c)
        out *= x
    out += np.float32(coefficients[-1])
    return out


def tone_curve_coefficients(
    shadows: float, highlights: float, whites: float, blacks: float
) -> tuple[list[float] | None, list[float] | None]:
    """Polynomial coefficients (highest power first) of the module docstring's f and g, or None
    for a curve that changes nothing."""
    f = g = None
    if shadows or highlights:
        a_s = shadows * (1.9 if shadows > 0 else 0.95)
        a_h = highlights * (0.95 if highlights > 0 else 1.9)
        # x(1-x)^3 = -x^4 + 3x^3 - 3x^2 + x;  x^3(1-x) = -x^4 + x^3
        f = [-a_s - a_h, 3.0 * a_s + a_h, -3.0 * a_s, 1.0 + a_s, 0.0]
    if whites or blacks:
        b, w = 0.2 * blacks, 0.2 * whites
        # (1-y)^4 = y^4 - 4y^3 + 6y^2 - 4y + 1
        g = [b + w, -4.0 * b, 6.0 * b, 1.0 - 4.0 * b, b]
    return f, g


def apply_tones(
    rgb: Image,
    shadows: float = 0.0,
    highlights: float = 0.0,
    whites: float = 0.0,
    blacks: float = 0.0,
) -> Image:
    """The tonal range curves of the module docstring on each channel, clipped to [0, 1]; the
    input itself when all four are 0."""
    f, g = tone_curve_coefficients(shadows, highlights, whites, blacks)
    if f is None and g is None:
        return rgb
    xp = module_of(rgb)
    out = xp.clip(xp.asarray(rgb, dtype=np.float32), 0.0, 1.0)
    for coefficients in (f, g):
        if coefficients is not None:
            out = _horner(out, coefficients)
            xp.clip(out, 0.0, 1.0, out=out)
    return out  # type: ignore[no-any-return]


def color_matrix(cc: ColorCorrection) -> Matrix:
    """The combined saturation-then-hue matrix of a correction (identity when both are neutral)."""
    m = IDENTITY
    if cc.saturation != 1.0:
        m = saturation_matrix(cc.saturation)
    if cc.hue % 360.0 != 0.0:
        m = hue_matrix(cc.hue) @ m
    return m


def _affine_part(cc: ColorCorrection) -> tuple[Matrix, float, float]:
    """A correction's colour matrix, contrast scale and offset (everything before the tones)."""
    # Brightness then contrast: ((x + b) - 0.5) * c + 0.5 == c * x + offset.
    scale = float(cc.contrast)
    offset = (float(cc.brightness) - 0.5) * scale + 0.5
    # The matrices keep grey fixed (M @ [1, 1, 1] == [1, 1, 1]), so the offset passes through
    # them unchanged and everything before gamma is one affine step.
    return color_matrix(cc), scale, offset


def color_step(cc: ColorCorrection) -> kernels.Affine | None:
    """A correction that is one colour matrix (no tonal curve, no gamma) as the kernel step
    ``apply_color`` runs for it on a frame of its own; None for any other correction."""
    if cc.is_identity() or cc.gamma != 1.0:
        return None
    f, g = tone_curve_coefficients(cc.shadows, cc.highlights, cc.whites, cc.blacks)
    m, scale, offset = _affine_part(cc)
    if f is not None or g is not None or m is IDENTITY:
        return None
    return kernels.Affine(m * np.float32(scale), offset)


def apply_color(rgb: Image, cc: ColorCorrection, scratch: bool = False) -> Image:
    """Apply a clip's colour correction; an identity correction returns the input itself.
    ``scratch``: ``rgb`` is the caller's own writable float32 array, which the colour matrix
    overwrites instead of allocating another frame (the same bits either way)."""
    if cc.is_identity():
        return rgb
    m, scale, offset = _affine_part(cc)
    xp = module_of(rgb)
    if m is IDENTITY:
        if scale == 1.0 and offset == 0.0:
            out = xp.clip(xp.asarray(rgb, dtype=np.float32), 0.0, 1.0)
        else:
            out = apply_gain(rgb, scale, offset)
    else:
        out = apply_matrix(rgb, m * np.float32(scale), offset, out=rgb if scratch else None)
    out = apply_tones(out, cc.shadows, cc.highlights, cc.whites, cc.blacks)
    if cc.gamma != 1.0:
        gamma = max(float(cc.gamma), _MIN_GAMMA)
        xp.power(out, np.float32(1.0 / gamma), out=out)
    return out
