"""Effects that act sample by sample: fades, panning, stereo width and distortion."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from chunking.timeline.model import Effect
from workers.audio_effects_base import Block, Context, Samples, db_to_gain, text, value

F64 = npt.NDArray[np.float64]


def _cube(g: F64) -> F64:
    return np.asarray(g * g * g, dtype=np.float64)


#: ffmpeg afade's curves (libavfilter/af_afade.c, fade_gain), over progress g in [0, 1].
CURVES: dict[str, Callable[[F64], F64]] = {
    "tri": lambda g: g,
    "qsin": lambda g: np.sin(g * np.pi / 2),
    "hsin": lambda g: (1 - np.cos(g * np.pi)) / 2,
    "esin": lambda g: 1 - np.cos(np.pi / 4 * (_cube(2 * g - 1) + 1)),
    "log": lambda g: np.clip(1 + 0.2 * np.log10(np.maximum(g, 1e-300)), 0.0, 1.0),
    "par": lambda g: 1 - np.sqrt(1 - g),
    "qua": lambda g: g * g,
    "cub": _cube,
    "squ": np.sqrt,
    "cbr": np.cbrt,
}
_CURVE_ALIASES = {"linear": "tri", "equalpower": "qsin", "sine": "qsin", "cosine": "hsin"}


def curve_of(effect: Effect) -> Callable[[F64], F64]:
    """The effect's fade shape (``curve``, afade's names); linear ("tri") by default."""
    name = text(effect, "curve", "tri")
    return CURVES.get(_CURVE_ALIASES.get(name, name), CURVES["tri"])


class Fade:
    """Gain ramps anchored to the effect's window (or the clip): a fade-in that starts at its
    start, silent before (as afade=in:st=...), and a fade-out that ends at its end, silent
    after."""

    latency = 0

    def __init__(self, fade_in: int | None, fade_out: int | None, ctx: Context, shape: Effect):
        self._in, self._out = fade_in, fade_out
        self._lo, self._hi = ctx.window
        self._curve = curve_of(shape)

    def process(self, block: Block, start: int) -> Block:
        """The block times the fade envelope."""
        index = np.arange(start, start + block.shape[1], dtype=np.float64)
        gain = np.ones(block.shape[1], dtype=np.float64)
        if self._in is not None:
            progress = (index - self._lo) / self._in if self._in else (index >= self._lo) * 1.0
            gain *= self._curve(np.clip(progress, 0.0, 1.0))
        if self._out is not None:
            progress = (self._hi - index) / self._out if self._out else (index < self._hi) * 1.0
            gain *= self._curve(np.clip(progress, 0.0, 1.0))
        return block * gain


def _samples(seconds: float, rate: int) -> int:
    return round(seconds * rate)


def make_fade_in(effect: Effect, ctx: Context, data: Samples) -> Fade:
    """Fade in over ``duration`` seconds from the window's start."""
    return Fade(_samples(value(effect, "duration"), ctx.rate), None, ctx, effect)


def make_fade_out(effect: Effect, ctx: Context, data: Samples) -> Fade:
    """Fade out over ``duration`` seconds up to the window's end."""
    return Fade(None, _samples(value(effect, "duration"), ctx.rate), ctx, effect)


def make_fade(effect: Effect, ctx: Context, data: Samples) -> Fade:
    """Both: ``fade_in`` and ``fade_out`` seconds (0 = none), as the editor's afade pair."""
    fade_in, fade_out = value(effect, "fade_in"), value(effect, "fade_out")
    return Fade(
        _samples(fade_in, ctx.rate) if fade_in > 0 else None,
        _samples(fade_out, ctx.rate) if fade_out > 0 else None,
        ctx,
        effect,
    )


class Pan:
    """Stereo: the Web Audio StereoPannerNode law the editor's mixer uses (unity at the centre;
    panning left attenuates the right channel and folds it into the left, at -1 the right is
    silent). A mono source: equal-power panning, unity at the centre (as the mixer plays mono)."""

    latency = 0

    def __init__(self, pan: float, mono: bool) -> None:
        self._pan, self._mono = pan, mono

    def process(self, block: Block, start: int) -> Block:
        """The panned block."""
        p = self._pan
        left, right = block[0], block[1]
        if self._mono:
            angle = (p + 1) / 2
            gain = math.sqrt(2)
            return np.stack([left * gain * _cos(angle), right * gain * _sin(angle)])
        if p <= 0:
            x = p + 1
            return np.stack([left + right * _cos(x), right * _sin(x)])
        return np.stack([left * _cos(p), right + left * _sin(p)])


def _cos(x: float) -> float:
    """cos(x * pi / 2), exactly 0 at x = 1 (so a hard pan leaves true silence)."""
    return 0.0 if x == 1 else math.cos(x * math.pi / 2)


def _sin(x: float) -> float:
    """sin(x * pi / 2), exactly 0 at x = 0."""
    return 0.0 if x == 0 else math.sin(x * math.pi / 2)


def make_pan(effect: Effect, ctx: Context, data: Samples) -> Pan:
    """Pan -1 (left) .. 1 (right)."""
    return Pan(value(effect, "pan"), ctx.mono_source)


class StereoWidth:
    """Mid/side width: the side (difference) signal times ``width`` (0 = mono, 1 = unchanged)."""

    latency = 0

    def __init__(self, width: float) -> None:
        self._width = width

    def process(self, block: Block, start: int) -> Block:
        """The block with its side signal scaled."""
        mid = (block[0] + block[1]) / 2
        side = (block[0] - block[1]) / 2 * self._width
        return np.stack([mid + side, mid - side])


def make_stereo_width(effect: Effect, ctx: Context, data: Samples) -> StereoWidth:
    """Stereo width (ffmpeg extrastereo's ``m``)."""
    return StereoWidth(value(effect, "width"))


def _log_cosh(u: F64) -> F64:
    a = np.abs(u)
    return np.asarray(a + np.log1p(np.exp(-2 * a)) - math.log(2), dtype=np.float64)


class Distortion:
    """tanh soft clipping after ``drive`` dB of gain, anti-aliased to first order by its
    antiderivative (Parker et al., "Reducing the aliasing of nonlinear waveshaping using
    continuous-time convolution", DAFx 2016): y[n] = (F(u[n]) - F(u[n-1])) / (u[n] - u[n-1])
    with F = log cosh, which adds half a sample of delay."""

    latency = 0

    def __init__(self, drive_db: float, output_db: float, channels: int) -> None:
        self._drive = db_to_gain(drive_db)
        self._output = db_to_gain(output_db)
        self._last = np.zeros(channels, dtype=np.float64)

    def process(self, block: Block, start: int) -> Block:
        """The distorted block."""
        u = block * self._drive
        previous = np.concatenate([self._last[:, None], u[:, :-1]], axis=1)
        self._last = u[:, -1].copy()
        du = u - previous
        close = np.abs(du) < 1e-6
        safe = np.where(close, 1.0, du)
        adaa = (_log_cosh(u) - _log_cosh(previous)) / safe
        y = np.where(close, np.tanh((u + previous) / 2), adaa)
        return np.asarray(y * self._output, dtype=np.float64)


def make_distortion(effect: Effect, ctx: Context, data: Samples) -> Distortion:
    """Soft-clipping distortion: ``drive`` dB in, ``output`` dB out."""
    return Distortion(value(effect, "drive"), value(effect, "output"), ctx.channels)
