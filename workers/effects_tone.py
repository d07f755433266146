"""Tone and colour filters: exposure, curves, levels, white balance, colour balance, tonal
ranges, and the colour correction as an effect.

The editor's filters carry a parameter named after the filter and an ``intensity`` (the Rust
exporter, ffmpeg_builder/effects.rs build_filter, turns only the intensity into a one-line
``eq``/``colortemperature`` string, e.g. Curves -> ``eq=gamma={intensity}``); here intensity is
the mix with the original (workers.effects) and the parameters mean what the ffmpeg filter of
the same name means, cited at each one.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from chunking.timeline.catalogue import CURVE_PRESETS
from chunking.timeline.catalogue_params import choice_key
from chunking.timeline.model import ColorCorrection, Effect
from common.errors import TimelineError
from workers.color import (
    Lut,
    apply_color,
    apply_gain,
    apply_luts,
    apply_matrix,
    apply_tones,
    linear_to_srgb,
    lut_input,
    saturation_matrix,
    srgb_to_linear,
)
from workers.effects_params import EffectFn, points, remember, setting, settings, text
from workers.layer import Image

_luts: dict[tuple[object, ...], tuple[Lut, Lut, Lut]] = {}
_Curve = npt.NDArray[np.float64]


def _exposure(rgb: Image, effect: Effect, frame: int) -> Image:
    """ffmpeg's exposure filter (vf_exposure.c: out = (in - black) / (2^-exposure - black)),
    applied to linear light: +1 stop doubles the light, as a camera's exposure does."""
    stops, black = settings(effect)
    if stops == 0.0 and black == 0.0:
        return rgb
    key = ("exposure", stops, black)
    luts = _luts.get(key)
    if luts is None:
        # black = 2^-stops would divide by zero; so close to it the curve is a step anyway.
        scale = 1.0 / max(2.0**-stops - black, 1e-6)
        linear = (srgb_to_linear(lut_input()) - black) * scale
        lut = linear_to_srgb(np.clip(linear, 0.0, 1.0)).astype(np.float32)
        luts = remember(_luts, key, (lut, lut, lut))
    return apply_luts(rgb, luts)


# vf_curves.c curves_presets: (red, green, blue, master) key points.
_PRESET_POINTS: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    "colornegative": (
        "0.129/1 0.466/0.498 0.725/0",
        "0.109/1 0.301/0.498 0.517/0",
        "0.098/1 0.235/0.498 0.423/0",
        None,
    ),
    "crossprocess": (
        "0/0 0.25/0.156 0.501/0.501 0.686/0.745 1/1",
        "0/0 0.25/0.188 0.38/0.501 0.745/0.815 1/0.815",
        "0/0 0.231/0.094 0.709/0.874 1/1",
        None,
    ),
    "darker": (None, None, None, "0/0 0.5/0.4 1/1"),
    "increasecontrast": (None, None, None, "0/0 0.149/0.066 0.831/0.905 0.905/0.98 1/1"),
    "lighter": (None, None, None, "0/0 0.4/0.5 1/1"),
    "linearcontrast": (None, None, None, "0/0 0.305/0.286 0.694/0.713 1/1"),
    "mediumcontrast": (None, None, None, "0/0 0.286/0.219 0.639/0.643 1/1"),
    "negative": (None, None, None, "0/1 1/0"),
    "strongcontrast": (None, None, None, "0/0 0.301/0.196 0.592/0.6 0.686/0.737 1/1"),
    "vintage": ("0/0.11 0.42/0.51 1/0.95", "0/0 0.50/0.48 1/1", "0/0.22 0.49/0.44 1/0.8", None),
}


def natural_spline(pts: list[tuple[float, float]], x: _Curve) -> _Curve:
    """ffmpeg curves' default interpolation (vf_curves.c interpolate): a natural cubic spline
    through the points, flat beyond the first and last, clipped to [0, 1]."""
    xs = np.array([p[0] for p in pts])
    ys = np.array([p[1] for p in pts])
    if len(pts) == 1:
        return np.full_like(x, ys[0])
    h = np.diff(xs)
    n = len(pts)
    # Second derivatives m (zero at both ends): the tridiagonal system of the natural spline.
    system = np.eye(n)
    rhs = np.zeros(n)
    for k in range(1, n - 1):
        system[k, k - 1 : k + 2] = h[k - 1], 2.0 * (h[k - 1] + h[k]), h[k]
        rhs[k] = 6.0 * ((ys[k + 1] - ys[k]) / h[k] - (ys[k] - ys[k - 1]) / h[k - 1])
    m = np.linalg.solve(system, rhs)
    i = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, n - 2)
    t = np.clip(x, xs[0], xs[-1]) - xs[i]
    b = (ys[i + 1] - ys[i]) / h[i] - h[i] * m[i] / 2.0 - h[i] * (m[i + 1] - m[i]) / 6.0
    y: _Curve = ys[i] + b * t + m[i] / 2.0 * t * t + (m[i + 1] - m[i]) / (6.0 * h[i]) * t**3
    return np.clip(y, 0.0, 1.0)


def pchip(pts: list[tuple[float, float]], x: _Curve) -> _Curve:
    """ffmpeg curves' ``interp=pchip`` (Fritsch-Butland monotone cubic, scipy's end slopes),
    flat beyond the first and last point, clipped to [0, 1]."""
    xs = np.array([p[0] for p in pts])
    ys = np.array([p[1] for p in pts])
    if len(pts) < 3:
        return natural_spline(pts, x)  # one point: flat; two: a straight line either way
    h = np.diff(xs)
    slope = np.diff(ys) / h
    d = np.zeros(len(pts))
    for k in range(1, len(pts) - 1):
        if slope[k - 1] * slope[k] > 0:
            w1, w2 = 2 * h[k] + h[k - 1], h[k] + 2 * h[k - 1]
            d[k] = (w1 + w2) / (w1 / slope[k - 1] + w2 / slope[k])
    for end, (h0, h1, m0, m1) in (
        (0, (h[0], h[1], slope[0], slope[1])),
        (-1, (h[-1], h[-2], slope[-1], slope[-2])),
    ):
        e = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
        if np.sign(e) != np.sign(m0):
            e = 0.0
        elif np.sign(m0) != np.sign(m1) and abs(e) > 3 * abs(m0):
            e = 3 * m0
        d[end] = e
    i = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(pts) - 2)
    t = (np.clip(x, xs[0], xs[-1]) - xs[i]) / h[i]
    y: _Curve = (
        ys[i] * (2 * t**3 - 3 * t**2 + 1)
        + ys[i + 1] * (3 * t**2 - 2 * t**3)
        + h[i] * (d[i] * (t**3 - 2 * t**2 + t) + d[i + 1] * (t**3 - t**2))
    )
    return np.clip(y, 0.0, 1.0)


def _curve_luts(effect: Effect) -> tuple[Lut, Lut, Lut] | None:
    """The per-channel tables of a curves effect, or None when it changes nothing."""
    preset = choice_key(text(effect, 0) or "none")
    if preset not in _PRESET_POINTS and preset != "none":
        known = ", ".join(CURVE_PRESETS)
        raise TimelineError(f"effect {effect.id!r}: unknown curves preset {preset!r} ({known})")
    interp = choice_key(text(effect, 1) or "natural")
    gamma = setting(effect)
    given_points = [points(effect, i) for i in range(2, 7)]  # all, master, red, green, blue
    key = ("curves", preset, interp, gamma, *(tuple(p) if p else None for p in given_points))
    cached = _luts.get(key)
    if cached is not None:
        return cached
    everything, master, *channels = given_points
    # As vf_curves.c curves_init: explicit points win, then "all", then the preset's.
    defaults = _PRESET_POINTS.get(preset, (None, None, None, None))
    for c in range(3):
        preset_points = defaults[c]
        if channels[c] is None:
            channels[c] = everything
        if channels[c] is None and preset_points is not None:
            channels[c] = points_of(preset_points)
    preset_master = defaults[3]
    if master is None and preset_master is not None:
        master = points_of(preset_master)
    if all(p is None for p in channels) and master is None and gamma == 1.0:
        return None
    curve = pchip if interp == "pchip" else natural_spline
    x = lut_input()
    tables = []
    for pts in channels:
        y = curve(pts, x) if pts is not None else x
        if master is not None:
            y = curve(master, y)  # vf_curves.c: graph[c][j] = graph[master][graph[c][j]]
        if gamma != 1.0:
            y = y ** (1.0 / gamma)
        tables.append(y.astype(np.float32))
    return remember(_luts, key, (tables[0], tables[1], tables[2]))


def points_of(spec: str) -> list[tuple[float, float]]:
    """Key points of an "x/y x/y" string known to be valid."""
    return [(float(a), float(b)) for a, b in (pair.split("/") for pair in spec.split())]


def _curves(rgb: Image, effect: Effect, frame: int) -> Image:
    """ffmpeg's curves filter (preset, all/master/red/green/blue points, interp), plus the
    editor's Curves filter parameter as a gamma (its exporter writes eq=gamma=...)."""
    luts = _curve_luts(effect)
    return rgb if luts is None else apply_luts(rgb, luts)


def _levels(rgb: Image, effect: Effect, frame: int) -> Image:
    """Levels: in_black..in_white stretched to 0..1 (ffmpeg colorlevels' imin/imax, clipped),
    a midtone gamma (out = t^(1/gamma), as Photoshop's), then mapped onto out_black..out_white
    (colorlevels' omin/omax); then the editor's Levels filter value as a contrast."""
    in_black, in_white, gamma, out_black, out_white, contrast = settings(effect)
    if (in_black, in_white, gamma, out_black, out_white, contrast) == (0, 1, 1, 0, 1, 1):
        return rgb
    # in_white <= in_black leaves no range: a threshold at in_black.
    width = max(in_white - in_black, 1e-6)
    out: Image = np.asarray(rgb, dtype=np.float32) - np.float32(in_black)
    out *= np.float32(1.0 / width)
    np.clip(out, 0.0, 1.0, out=out)
    if gamma != 1.0:
        np.power(out, np.float32(1.0 / gamma), out=out)
    out *= np.float32(out_white - out_black)
    out += np.float32(out_black)
    np.clip(out, 0.0, 1.0, out=out)
    return out if contrast == 1.0 else apply_gain(out, contrast, 0.5 - 0.5 * contrast)


def kelvin_to_rgb(kelvin: float) -> tuple[float, float, float]:
    """The light colour ffmpeg's colortemperature filter multiplies by (vf_colortemperature.c
    kelvin2rgb, Tanner Helland's fit of the black-body colours)."""
    k = kelvin / 100.0

    def sat(v: float) -> float:
        return min(max(v, 0.0), 1.0)

    if k <= 66.0:
        r, g = 1.0, sat(0.39008157876901960784 * math.log(k) - 0.63184144378862745098)
    else:
        t = max(k - 60.0, 0.0)
        r = sat(1.29293618606274509804 * t**-0.1332047592)
        g = sat(1.12989086089529411765 * t**-0.0755148492)
    if k >= 66.0:
        b = 1.0
    elif k <= 19.0:
        b = 0.0
    else:
        b = sat(0.54320678911019607843 * math.log(k - 10.0) - 1.19625408914)
    return r, g, b


def white_balance_gains(temperature: float, kelvin: float = 6500.0) -> npt.NDArray[np.float32]:
    """Per-channel gains for a temperature slider (-100..100, + warmer: each step is one mired,
    so +100 turns 6500 K light into ~3940 K) on top of a colour temperature in kelvin, relative
    to 6500 K (D65), so the defaults change nothing (ffmpeg's colortemperature is not relative
    and tints slightly warm even at its default 6500 K)."""
    target = 1e6 / max(1e6 / kelvin + temperature, 25.0)
    target = min(max(target, 1000.0), 40000.0)
    ratio = np.array(kelvin_to_rgb(target)) / np.array(kelvin_to_rgb(6500.0))
    gains: npt.NDArray[np.float32] = ratio.astype(np.float32)
    return gains


def _highest(rgb: Image) -> npt.NDArray[np.float32]:
    """Per-pixel max of R, G, B (measured ~7x faster than max(axis=2) on interleaved RGB)."""
    out: npt.NDArray[np.float32] = np.maximum(np.maximum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])
    return out


def _lowest(rgb: Image) -> npt.NDArray[np.float32]:
    """Per-pixel min of R, G, B."""
    out: npt.NDArray[np.float32] = np.minimum(np.minimum(rgb[..., 0], rgb[..., 1]), rgb[..., 2])
    return out


def color_balance(rgb: Image, shifts: npt.NDArray[np.float32], preserve: bool = False) -> Image:
    """ffmpeg's colorbalance (vf_colorbalance.c get_component): shifts[range, channel] for the
    ranges shadows, midtones, highlights, each -1..1, weighted by the pixel's lightness
    l = max + min; with ``preserve``, the result keeps the input's HSL lightness (preservel)."""
    src = np.asarray(rgb, dtype=np.float32)
    lightness = _highest(src) + _lowest(src)
    a, b = np.float32(4.0), np.float32(0.333)
    weights = np.empty(src.shape, dtype=np.float32)
    weights[..., 0] = (b - lightness) * a + np.float32(0.5)
    weights[..., 1] = np.clip((lightness - b) * a + np.float32(0.5), 0.0, 1.0) * np.clip(
        (np.float32(1.0) - lightness - b) * a + np.float32(0.5), 0.0, 1.0
    )
    weights[..., 2] = (lightness + b - np.float32(1.0)) * a + np.float32(0.5)
    np.clip(weights, 0.0, 1.0, out=weights)
    out: Image = weights @ (np.asarray(shifts, dtype=np.float32) * np.float32(0.7))
    out += src
    np.clip(out, 0.0, 1.0, out=out)
    if preserve:
        out = _with_lightness(out, lightness * np.float32(0.5))
    return out


def _with_lightness(rgb: Image, lightness: npt.NDArray[np.float32]) -> Image:
    """The colours' HSL hue and saturation at this lightness (vf_colorbalance.c preservel)."""
    high, low = _highest(rgb), _lowest(rgb)
    span = high - low
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    safe = np.where(span > 0, span, np.float32(1.0))
    hue = np.where(
        high == r, (g - b) / safe, np.where(high == g, 2 + (b - r) / safe, 4 + (r - g) / safe)
    )
    hue = np.where(span > 0, hue * np.float32(60.0), np.float32(0.0)) % np.float32(360.0)
    denominator = np.float32(1.0) - np.abs(np.float32(2.0) * lightness - np.float32(1.0))
    sat = np.where(
        (high > 0) & (low < 1) & (denominator > 0), span / np.maximum(denominator, 1e-6), 0
    )
    amount = sat * np.minimum(lightness, np.float32(1.0) - lightness)
    out = np.empty_like(rgb)
    for c, n in enumerate((0.0, 8.0, 4.0)):
        k = (np.float32(n) + hue / np.float32(30.0)) % np.float32(12.0)
        wave = np.maximum(np.minimum(np.minimum(k - 3, 9 - k), 1), -1)
        out[..., c] = lightness - amount * wave
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _tint_shifts(tint: float) -> npt.NDArray[np.float32]:
    """The editor's tint (effects.json: colorbalance=rm={tint * 0.01}:gm={-tint * 0.01}):
    + is magenta, - is green, in the midtones."""
    shifts = np.zeros((3, 3), dtype=np.float32)
    shifts[1, 0], shifts[1, 1] = tint * 0.01, -tint * 0.01
    return shifts


def white_balance(rgb: Image, temperature: float, tint: float, kelvin: float = 6500.0) -> Image:
    """Temperature and tint (see white_balance_gains and _tint_shifts); the input itself when
    neither changes anything."""
    out = rgb
    if temperature != 0.0 or kelvin != 6500.0:
        out = np.asarray(rgb, dtype=np.float32) * white_balance_gains(temperature, kelvin)
        np.clip(out, 0.0, 1.0, out=out)
    if tint != 0.0:
        out = color_balance(out, _tint_shifts(tint))
    return out


def _whitebalance(rgb: Image, effect: Effect, frame: int) -> Image:
    temperature, tint, kelvin = settings(effect)
    return white_balance(rgb, temperature, tint, kelvin)


def _colorbalance(rgb: Image, effect: Effect, frame: int) -> Image:
    """ffmpeg's colorbalance; then the editor's ColorBalance filter value as a saturation."""
    values = settings(effect)
    shifts = np.array(values[:9], dtype=np.float32).reshape(3, 3)  # rows: s, m, h
    out = color_balance(rgb, shifts, preserve=values[9] >= 0.5) if shifts.any() else rgb
    saturation = values[10]
    return out if saturation == 1.0 else apply_matrix(out, saturation_matrix(saturation))


def _shadowshighlights(rgb: Image, effect: Effect, frame: int) -> Image:
    shadows, highlights, whites, blacks = settings(effect)
    return apply_tones(rgb, shadows, highlights, whites, blacks)


def _colorcorrection(rgb: Image, effect: Effect, frame: int) -> Image:
    """The clip colour correction as an effect (the editor's ColorCorrection effect reads
    brightness, contrast, saturation and gamma into one eq), white balance first."""
    b, c, s, h, g, hi, sh, wh, bl, temperature, tint = settings(effect)
    cc = ColorCorrection(
        brightness=b,
        contrast=c,
        saturation=s,
        hue=h,
        gamma=g,
        highlights=hi,
        shadows=sh,
        whites=wh,
        blacks=bl,
    )
    return apply_color(white_balance(rgb, temperature, tint), cc)


#: Canonical kind -> implementation.
IMPLEMENTATIONS: dict[str, EffectFn] = {
    "exposure": _exposure,
    "curves": _curves,
    "levels": _levels,
    "whitebalance": _whitebalance,
    "colorbalance": _colorbalance,
    "shadowshighlights": _shadowshighlights,
    "colorcorrection": _colorcorrection,
}
