"""Dynamics: compressor, expander, gate, ducking, look-ahead limiter and loudness normalisation.

The compressor family follows Giannoulis, Massberg and Reiss, "Digital Dynamic Range Compressor
Design - A Tutorial and Analysis" (JAES 2012): a stereo-linked peak level in dB, a static gain
computer with a soft knee giving the wanted gain reduction, and a smooth decoupled detector on
that reduction (an instant-rise, exponential-release hold followed by a one-pole attack
smoother), so attack and release act on the gain, not on the audio. Both detector stages are
computed exactly without a per-sample loop (``audio_effects_base``). Gates and expanders run
the same detector on the "openness" (range minus reduction), so they open at the attack speed
and close at the release speed. Normalisation measures integrated loudness per ITU-R BS.1770-4
/ EBU R128 (K-weighting, 400 ms blocks every 100 ms, -70 LUFS absolute and -10 LU relative
gates) over the whole clip first.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from chunking.timeline.model import Effect
from workers.audio_effects_base import (
    BLOCK,
    Block,
    Context,
    History,
    Samples,
    coefficient,
    db_to_gain,
    linked_level,
    one_pole,
    release_hold,
    sliding_max,
    text,
    to_db,
    value,
)
from workers.audio_effects_lti import Convolver, impulse_response, k_weighting

Curve = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]
F64 = npt.NDArray[np.float64]


def compressor_curve(threshold: float, ratio: float, knee: float) -> Curve:
    """Gain reduction (dB, >= 0) of a downward compressor for input levels in dB."""

    def curve(x: F64) -> F64:
        over = x - threshold
        reduction = np.where(over > 0, over * (1 - 1 / ratio), 0.0)
        if knee > 0:
            inside = np.abs(over) <= knee / 2
            soft = (1 - 1 / ratio) * (over + knee / 2) ** 2 / (2 * knee)
            reduction = np.where(inside, soft, reduction)
        return np.asarray(reduction, dtype=np.float64)

    return curve


def expander_curve(threshold: float, ratio: float, knee: float, depth: float) -> Curve:
    """Gain reduction of a downward expander: (ratio - 1) dB per dB below the threshold, at
    most ``depth`` dB."""

    def curve(x: F64) -> F64:
        under = threshold - x
        reduction = np.where(under > 0, under * (ratio - 1), 0.0)
        if knee > 0:
            inside = np.abs(under) <= knee / 2
            soft = (ratio - 1) * (under + knee / 2) ** 2 / (2 * knee)
            reduction = np.where(inside, soft, reduction)
        return np.asarray(np.minimum(reduction, depth), dtype=np.float64)

    return curve


def gate_curve(threshold: float, knee: float, depth: float) -> Curve:
    """Gain reduction of a gate: ``depth`` dB below the threshold, none above (linear in dB
    across the knee)."""

    def curve(x: F64) -> F64:
        if knee <= 0:
            return np.where(x < threshold, depth, 0.0).astype(np.float64)
        closed = np.clip((threshold + knee / 2 - x) / knee, 0.0, 1.0)
        return np.asarray(closed * depth, dtype=np.float64)

    return curve


class Dynamics:
    """A gain computer and its detector applied to the block (or, ducking, to a key signal)."""

    latency = 0

    def __init__(
        self,
        curve: Curve,
        attack_ms: float,
        release_ms: float,
        rate: int,
        *,
        makeup_db: float = 0.0,
        depth: float | None = None,
        hold_ms: float = 0.0,
        key: Samples | None = None,
    ) -> None:
        self._curve = curve
        self._attack = coefficient(attack_ms, rate)
        self._release = coefficient(release_ms, rate)
        self._makeup = makeup_db
        # Gates and expanders smooth the openness (depth - reduction) instead of the reduction.
        self._depth = depth
        self._hold = History(max(0, round(hold_ms * 1e-3 * rate)))
        self._key = key
        self._held = 0.0
        self._smooth = 0.0

    def reduction(self, level_db: F64) -> F64:
        """Smoothed gain reduction in dB for the next levels, advancing the detector."""
        wanted = self._curve(level_db)
        if self._depth is None:
            held, self._held = release_hold(wanted, self._release, self._held)
            smooth, self._smooth = one_pole(held, self._attack, self._smooth)
            return smooth
        openness = self._depth - wanted
        if self._hold.size:
            joined = self._hold.extend(openness)
            openness = sliding_max(joined, self._hold.size + 1)[self._hold.size :]
        held, self._held = release_hold(openness, self._release, self._held)
        smooth, self._smooth = one_pole(held, self._attack, self._smooth)
        return self._depth - smooth

    def process(self, block: Block, start: int) -> Block:
        """The block with its gain reduction (and make-up gain) applied."""
        n = block.shape[1]
        if self._key is not None:
            source = np.zeros((self._key.shape[0], n), dtype=np.float64)
            part = self._key[:, start : start + n]
            source[:, : part.shape[1]] = part
        else:
            source = block
        reduction = self.reduction(to_db(linked_level(source)))
        return block * (10.0 ** ((self._makeup - reduction) / 20.0))


def make_compressor(effect: Effect, ctx: Context, data: Samples) -> Dynamics:
    """Downward compressor: threshold, ratio, knee (dB), attack/release (ms), make-up (dB)."""
    curve = compressor_curve(
        value(effect, "threshold"), value(effect, "ratio"), value(effect, "knee")
    )
    return Dynamics(
        curve,
        value(effect, "attack"),
        value(effect, "release"),
        ctx.rate,
        makeup_db=value(effect, "makeup"),
    )


def make_expander(effect: Effect, ctx: Context, data: Samples) -> Dynamics:
    """Downward expander below the threshold, at most ``-range`` dB of reduction."""
    depth = -value(effect, "range")
    curve = expander_curve(
        value(effect, "threshold"), value(effect, "ratio"), value(effect, "knee"), depth
    )
    # Opening (reduction falling) follows the attack, closing follows the release.
    return Dynamics(curve, value(effect, "attack"), value(effect, "release"), ctx.rate, depth=depth)


def make_gate(effect: Effect, ctx: Context, data: Samples) -> Dynamics:
    """Noise gate: ``range`` dB (default -80, silence) below the threshold, with hold."""
    depth = -value(effect, "range")
    curve = gate_curve(value(effect, "threshold"), value(effect, "knee"), depth)
    return Dynamics(
        curve,
        value(effect, "attack"),
        value(effect, "release"),
        ctx.rate,
        depth=depth,
        hold_ms=value(effect, "hold"),
    )


def make_ducking(effect: Effect, ctx: Context, data: Samples) -> Dynamics:
    """Lower the clip while the other tracks are above the threshold: a compressor keyed on
    their sound (the mixer's key), at most ``reduction`` dB."""
    ratio_curve = compressor_curve(value(effect, "threshold"), value(effect, "ratio"), 0.0)
    depth = value(effect, "reduction")

    def curve(x: F64) -> F64:
        return np.asarray(np.minimum(ratio_curve(x), depth), dtype=np.float64)

    key = ctx.key if ctx.key is not None else np.zeros((1, ctx.length), dtype=np.float32)
    return Dynamics(curve, value(effect, "attack"), value(effect, "release"), ctx.rate, key=key)


class Limiter:
    """Look-ahead peak limiter that never lets a sample past the ceiling.

    The wanted reduction is held at its maximum over the look-ahead window, released
    exponentially, then averaged over the look-ahead: the averaged gain reaches each peak's
    reduction exactly when the (delayed) peak plays, ramping in over the look-ahead.
    """

    def __init__(self, ceiling_db: float, release_ms: float, lookahead_ms: float, rate: int):
        self.latency = max(1, round(lookahead_ms * 1e-3 * rate))
        self._ceiling = ceiling_db
        self._release = coefficient(release_ms, rate)
        self._wanted = History(self.latency)  # last `latency` wanted reductions
        self._held = History(self.latency - 1)  # for the moving average
        self._hold = 0.0
        self._audio: Block | None = None

    def process(self, block: Block, start: int) -> Block:
        """The block delayed by the look-ahead, limited."""
        lookahead = self.latency
        wanted = np.maximum(to_db(linked_level(block)) - self._ceiling, 0.0)
        windowed = sliding_max(self._wanted.extend(wanted), lookahead + 1)[lookahead:]
        held, self._hold = release_hold(windowed, self._release, self._hold)
        sums = np.cumsum(np.concatenate([[0.0], self._held.extend(held)]))
        average = (sums[lookahead:] - sums[:-lookahead]) / lookahead
        if self._audio is None:
            self._audio = np.zeros((block.shape[0], lookahead), dtype=np.float64)
        audio = np.concatenate([self._audio, block], axis=1)
        self._audio = audio[:, audio.shape[1] - lookahead :]
        # Rounding may leave a peak a hair above the ceiling; the last clip makes sure.
        ceiling = db_to_gain(self._ceiling)
        limited = audio[:, : block.shape[1]] * 10.0 ** (-average / 20.0)
        return np.asarray(np.clip(limited, -ceiling, ceiling), dtype=np.float64)


def make_limiter(effect: Effect, ctx: Context, data: Samples) -> Limiter:
    """Look-ahead limiter: ceiling (dBFS), release (ms), look-ahead (ms)."""
    return Limiter(
        value(effect, "ceiling"), value(effect, "release"), value(effect, "lookahead"), ctx.rate
    )


#: BS.1770 gating block and step (s).
_GATE_BLOCK = 0.4
_GATE_STEP = 0.1


def integrated_loudness(data: Samples, rate: int) -> float | None:
    """Integrated loudness (LUFS) of a (channels, n) buffer; None when it is silent. A mono
    buffer counts as the same sound on two speakers, as the mix plays it."""
    conv = Convolver(impulse_response(k_weighting(rate)))
    step = round(_GATE_STEP * rate)
    squares: list[F64] = []
    carry = np.zeros((data.shape[0], 0), dtype=np.float64)
    for a in range(0, data.shape[1], BLOCK):
        weighted = conv.process(np.asarray(data[:, a : a + BLOCK], dtype=np.float64), a)
        joined = np.concatenate([carry, weighted * weighted], axis=1)
        whole = joined.shape[1] - joined.shape[1] % step
        squares.append(joined[:, :whole].reshape(joined.shape[0], -1, step).sum(axis=2))
        carry = joined[:, whole:]
    per_step = np.concatenate(squares, axis=1) if squares else np.zeros((data.shape[0], 0))
    channels = 2.0 if data.shape[0] == 1 else 1.0
    blocks_per = round(_GATE_BLOCK / _GATE_STEP)
    total = per_step.sum(axis=0) * channels
    if total.shape[0] >= blocks_per:
        window = np.convolve(total, np.ones(blocks_per), mode="valid") / (blocks_per * step)
    else:
        # Shorter than one gating block: the whole clip is the one block.
        samples = total.shape[0] * step + carry.shape[1]
        rest = float(np.sum(carry * carry)) * channels
        window = np.array([(total.sum() + rest) / max(samples, 1)])
    loud = -0.691 + 10 * np.log10(np.maximum(window, 1e-30))
    gated = window[loud > -70.0]
    if gated.size == 0:
        return None
    relative = -0.691 + 10 * math.log10(float(gated.mean())) - 10.0
    final = window[(loud > -70.0) & (loud > relative)]
    return -0.691 + 10 * math.log10(float(final.mean()))


class Normalize:
    """One gain for the whole clip (to a loudness or a peak), then a limiter at the ceiling if
    the gain would push peaks past it (as loudnorm falls back to limiting)."""

    def __init__(self, effect: Effect, ctx: Context, data: Samples) -> None:
        ceiling = value(effect, "peak")
        peak = float(np.max(np.abs(data))) if data.size else 0.0
        self._gain = 1.0
        if peak > 0:
            if text(effect, "mode", "loudness") == "peak":
                self._gain = db_to_gain(ceiling) / peak
            else:
                loudness = integrated_loudness(data, ctx.rate)
                if loudness is not None:
                    self._gain = db_to_gain(value(effect, "target") - loudness)
        over = peak * self._gain > db_to_gain(ceiling) * (1 + 1e-9)
        self._limiter = Limiter(ceiling, 50.0, 5.0, ctx.rate) if over else None
        self.latency = self._limiter.latency if self._limiter else 0

    def process(self, block: Block, start: int) -> Block:
        """The block at the normalising gain."""
        out = block * self._gain
        return self._limiter.process(out, start) if self._limiter else out


def make_normalize(effect: Effect, ctx: Context, data: Samples) -> Normalize:
    """Normalise the clip to ``target`` LUFS (or, with mode "peak", its peak to ``peak`` dBFS)."""
    return Normalize(effect, ctx, data)
