"""Linear time-invariant audio effects: equalizer, high/low/band-pass filters and reverb.

Each is described by its transfer function: RBJ cookbook biquads for the filters (the designs
ffmpeg's af_biquads.c uses for ``equalizer``, ``highpass``, ``lowpass`` and ``bandpass``, which
the editor's builder emits: ``equalizer=f=100:g={bass}:t=q:w=1,...`` in
src-tauri/src/video_compiler/ffmpeg_builder/effects.rs), Jezar's Freeverb network for the
reverb. The impulse response is read off the transfer function sampled on an FFT grid long
enough for the response to have decayed below float64 resolution (so the circular wrap adds
nothing), and applied by uniformly partitioned overlap-add convolution: the exact IIR output,
computed block-wise with FFTs instead of a per-sample loop.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from chunking.timeline.model import Effect
from workers.audio_effects_base import BLOCK, Block, Context, Identity, Samples, value

#: (b0, b1, b2, a0, a1, a2) of one second-order section.
Biquad = tuple[float, float, float, float, float, float]

Complex = npt.NDArray[np.complex128]

#: An impulse response is kept until it has decayed by this much (-200 dB).
DECAY = 1e-10

#: Longest impulse response computed (samples); beyond it a resonance that slow is cut.
MAX_RESPONSE = 1 << 23


def _omega(freq: float, rate: int) -> float:
    # Keep the design inside (0, Nyquist): past it the bilinear formulas fold over.
    return 2.0 * math.pi * min(max(freq, 1e-3), 0.499 * rate) / rate


def lowpass(freq: float, q: float, rate: int) -> Biquad:
    """RBJ two-pole low-pass."""
    w = _omega(freq, rate)
    alpha, c = math.sin(w) / (2 * q), math.cos(w)
    return ((1 - c) / 2, 1 - c, (1 - c) / 2, 1 + alpha, -2 * c, 1 - alpha)


def highpass(freq: float, q: float, rate: int) -> Biquad:
    """RBJ two-pole high-pass."""
    w = _omega(freq, rate)
    alpha, c = math.sin(w) / (2 * q), math.cos(w)
    return ((1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + alpha, -2 * c, 1 - alpha)


def lowpass1(freq: float, rate: int) -> Biquad:
    """One-pole low-pass (ffmpeg's ``lowpass=poles=1``)."""
    a1 = -math.exp(-_omega(freq, rate))
    return (1 + a1, 0.0, 0.0, 1.0, a1, 0.0)


def highpass1(freq: float, rate: int) -> Biquad:
    """One-pole high-pass (ffmpeg's ``highpass=poles=1``)."""
    a1 = -math.exp(-_omega(freq, rate))
    b0 = (1 - a1) / 2
    return (b0, -b0, 0.0, 1.0, a1, 0.0)


def bandpass(freq: float, q: float, rate: int) -> Biquad:
    """RBJ band-pass with 0 dB peak gain (ffmpeg's ``bandpass`` without ``csg``)."""
    w = _omega(freq, rate)
    alpha, c = math.sin(w) / (2 * q), math.cos(w)
    return (alpha, 0.0, -alpha, 1 + alpha, -2 * c, 1 - alpha)


def peaking(freq: float, gain_db: float, q: float, rate: int) -> Biquad:
    """RBJ peaking equalizer (ffmpeg's ``equalizer`` with ``t=q``)."""
    w = _omega(freq, rate)
    alpha, c = math.sin(w) / (2 * q), math.cos(w)
    a = 10.0 ** (gain_db / 40.0)
    return (1 + alpha * a, -2 * c, 1 - alpha * a, 1 + alpha / a, -2 * c, 1 - alpha / a)


def k_weighting(rate: int) -> tuple[Biquad, Biquad]:
    """ITU-R BS.1770-4 K-weighting (high shelf, then RLB high-pass), designed for any rate as
    libebur128 does."""
    k = math.tan(math.pi * 1681.974450955533 / rate)
    q = 0.7071752369554196
    vh = 10.0 ** (3.999843853973347 / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = (
        (vh + vb * k / q + k * k) / a0,
        2 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2 * (k * k - 1) / a0,
        (1 - k / q + k * k) / a0,
    )
    k = math.tan(math.pi * 38.13547087602444 / rate)
    q = 0.5003270373238773
    d = 1 + k / q + k * k
    rlb = (1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / d, (1 - k / q + k * k) / d)
    return shelf, rlb


def _pole_radius(section: Biquad) -> float:
    if not (section[4] or section[5]):
        return 0.0  # no feedback: a finite response
    roots = np.roots([section[3], section[4], section[5]])
    return max((abs(complex(r)) for r in roots), default=0.0)


def response_length(sections: Sequence[Biquad]) -> int:
    """Samples until the cascade's impulse response has decayed below DECAY."""
    total = 3 * len(sections)
    for section in sections:
        r = _pole_radius(section)
        if r >= 1.0:
            raise ValueError(f"unstable filter section {section}")
        if r > 0:
            total += math.ceil(math.log(DECAY) / math.log(r))
    return min(total + 1, MAX_RESPONSE)


def impulse_response(sections: Sequence[Biquad]) -> npt.NDArray[np.float64]:
    """The cascade's impulse response, until it is negligible."""
    n = response_length(sections)
    m = 1 << max(4, (2 * n - 1).bit_length())
    z1 = np.exp(-2j * np.pi * np.arange(m // 2 + 1) / m)  # z**-1 on the grid
    h: Complex = np.ones(m // 2 + 1, dtype=np.complex128)
    for b0, b1, b2, a0, a1, a2 in sections:
        h *= (b0 + z1 * (b1 + z1 * b2)) / (a0 + z1 * (a1 + z1 * a2))
    return np.asarray(np.fft.irfft(h, m)[:n], dtype=np.float64)


class Convolver:
    """Uniformly partitioned overlap-add convolution with a fixed impulse response.

    The response ``(channels_ir, L)`` is cut into partitions of BLOCK samples, each transformed
    once; every input block is transformed once and multiplied with each partition against the
    matching earlier input block (a frequency-domain delay line). Input ``(c, n)`` broadcasts
    against the response's channels (mono in, stereo out for the reverb).
    """

    latency = 0

    def __init__(self, ir: npt.NDArray[np.float64]) -> None:
        ir = np.atleast_2d(ir)
        parts = max(1, -(-ir.shape[1] // BLOCK))
        padded = np.zeros((ir.shape[0], parts * BLOCK), dtype=np.float64)
        padded[:, : ir.shape[1]] = ir
        self._h = np.fft.rfft(padded.reshape(ir.shape[0], parts, BLOCK), n=2 * BLOCK, axis=-1)
        self._fdl: Complex | None = None  # a ring: input block j's spectrum at j mod parts
        self._newest = -1
        self._tail: Block | None = None

    def process(self, block: Block, start: int) -> Block:
        """The next block of output."""
        n = block.shape[1]
        x = np.zeros((block.shape[0], BLOCK), dtype=np.float64)
        x[:, :n] = block
        parts = self._h.shape[1]
        if self._fdl is None:
            self._fdl = np.zeros((block.shape[0], parts, BLOCK + 1), dtype=np.complex128)
        pos = self._newest = (self._newest + 1) % parts
        self._fdl[:, pos] = np.fft.rfft(x, n=2 * BLOCK, axis=-1)
        # Partition k meets the input from k blocks ago: ring slots pos, pos-1, ..., wrapping.
        acc = np.einsum("...kf,...kf->...f", self._h[:, : pos + 1], self._fdl[:, pos::-1])
        if pos + 1 < parts:
            acc = acc + np.einsum("...kf,...kf->...f", self._h[:, pos + 1 :], self._fdl[:, :pos:-1])
        y = np.fft.irfft(acc, n=2 * BLOCK, axis=-1)
        if self._tail is None:
            self._tail = np.zeros((y.shape[0], BLOCK), dtype=np.float64)
        out = y[:, :BLOCK] + self._tail
        self._tail = y[:, BLOCK:]
        return out[:, :n]


def filtered(sections: Sequence[Biquad]) -> Convolver | Identity:
    """A processor applying the cascade to every channel."""
    return Convolver(impulse_response(sections)) if sections else Identity()


def make_equalizer(effect: Effect, ctx: Context, data: Samples) -> Convolver | Identity:
    """Three peaking bands at 100 Hz, 1 kHz and 10 kHz, Q 1 (the editor's), plus one free band."""
    sections = [
        peaking(freq, value(effect, name), 1.0, ctx.rate)
        for freq, name in ((100.0, "bass"), (1000.0, "mid"), (10000.0, "treble"))
        if value(effect, name) != 0
    ]
    if value(effect, "gain") != 0:
        sections.append(
            peaking(value(effect, "frequency"), value(effect, "gain"), value(effect, "q"), ctx.rate)
        )
    return filtered(sections)


def make_highpass(effect: Effect, ctx: Context, data: Samples) -> Convolver | Identity:
    """RBJ high-pass (or one-pole with ``poles`` 1)."""
    freq = value(effect, "frequency")
    if round(value(effect, "poles")) == 1:
        return filtered([highpass1(freq, ctx.rate)])
    return filtered([highpass(freq, value(effect, "q"), ctx.rate)])


def make_lowpass(effect: Effect, ctx: Context, data: Samples) -> Convolver | Identity:
    """RBJ low-pass (or one-pole with ``poles`` 1)."""
    freq = value(effect, "frequency")
    if round(value(effect, "poles")) == 1:
        return filtered([lowpass1(freq, ctx.rate)])
    return filtered([lowpass(freq, value(effect, "q"), ctx.rate)])


def make_bandpass(effect: Effect, ctx: Context, data: Samples) -> Convolver | Identity:
    """RBJ band-pass, 0 dB at the centre."""
    return filtered([bandpass(value(effect, "frequency"), value(effect, "q"), ctx.rate)])


# Freeverb (Jezar at Dreampoint, public domain): delay lengths at 44.1 kHz and gains.
_COMBS = (1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617)
_ALLPASSES = (556, 441, 341, 225)
_SPREAD = 23  # extra samples on the right channel's delays
_FIXED_GAIN = 0.015
_SCALE_WET = 3.0
_ALLPASS_FEEDBACK = 0.5


@functools.lru_cache(maxsize=4)
def freeverb_response(room: float, damping: float, rate: int) -> npt.NDArray[np.float64]:
    """Left and right impulse responses of Freeverb's 8 damped combs and 4 all-passes (cached:
    a track's reverb runs once per clip; callers must not modify the result)."""
    scale = rate / 44100.0
    feedback = room * 0.28 + 0.7
    damp = damping * 0.4
    longest = round((_COMBS[-1] + _SPREAD) * scale)
    # The slowest decay is at DC, where the damping filter passes everything: `feedback` per
    # trip round the longest comb; the all-passes ring for a while after. Cut at -100 dB.
    tail = longest * math.log(1e-5) / math.log(feedback)
    tail += sum(round((a + _SPREAD) * scale) for a in _ALLPASSES) * math.log(1e-5) / math.log(0.5)
    n = min(math.ceil(tail), MAX_RESPONSE)
    m = 1 << (2 * n).bit_length()
    k = np.arange(m // 2 + 1, dtype=np.int64)
    # z**-N on the grid is a lookup: exp(-2 pi i k N / m) = table[k N mod m].
    table = np.exp(-2j * np.pi * np.arange(m) / m)
    loop = feedback * (1 - damp) / (1 - damp * table[k])  # comb feedback through the damping

    def delay(samples: int) -> Complex:
        return np.asarray(table[(k * samples) % m], dtype=np.complex128)

    out = np.zeros((2, n), dtype=np.float64)
    for channel, spread in enumerate((0, _SPREAD)):
        h: Complex = np.zeros(m // 2 + 1, dtype=np.complex128)
        for comb in _COMBS:
            zn = delay(round((comb + spread) * scale))
            # y = z^-N x / (1 - f (1-d) z^-N / (1 - d z^-1))
            h += zn / (1 - loop * zn)
        for allpass in _ALLPASSES:
            zn = delay(round((allpass + spread) * scale))
            h *= -1 + zn / (1 - _ALLPASS_FEEDBACK * zn)
        out[channel] = np.fft.irfft(h * _FIXED_GAIN, m)[:n]
    return out


class Reverb:
    """Freeverb: the channels' sum through the left and right networks, mixed over the dry."""

    latency = 0

    def __init__(self, effect: Effect, ctx: Context) -> None:
        predelay = round(value(effect, "predelay") * 1e-3 * ctx.rate)
        ir = freeverb_response(value(effect, "room_size"), value(effect, "damping"), ctx.rate)
        if predelay:
            ir = np.concatenate([np.zeros((2, predelay)), ir], axis=1)
        self._conv = Convolver(ir)
        wet, width = value(effect, "wet") * _SCALE_WET, value(effect, "width")
        self._wet1 = wet * (width / 2 + 0.5)
        self._wet2 = wet * (1 - width) / 2
        self._dry = value(effect, "dry")

    def process(self, block: Block, start: int) -> Block:
        """Dry plus the reverberated sum of the channels."""
        mono = block.sum(axis=0, keepdims=True)
        rev = self._conv.process(mono, start)
        out = self._dry * block
        out[0] += self._wet1 * rev[0] + self._wet2 * rev[1]
        out[1] += self._wet1 * rev[1] + self._wet2 * rev[0]
        return out


def make_reverb(effect: Effect, ctx: Context, data: Samples) -> Reverb:
    """Freeverb with the editor's room_size, damping and wet (dry stays at unity)."""
    return Reverb(effect, ctx)
