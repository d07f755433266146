"""Effects computed on a short-time Fourier transform: pitch shifting (which also keeps the pitch
of a tempo change) and noise reduction.

Frames of ``size`` samples every ``size / 4`` with a periodic Hann window on analysis and on
synthesis (the squared windows overlap-add to 1.5, divided out), streamed block by block with a
latency of ``size`` samples that the chain driver removes.

Pitch: a peak-locked phase vocoder that moves each partial to ``ratio`` times its measured
(phase-derived) frequency, so the length does not change.
Denoise: a noise power spectrum estimated over the whole clip (the 10th percentile of each
bin's frame powers, unbiased for noise-like bins), then a decision-directed Wiener gain per bin
and frame (Ephraim and Malah) floored at ``amount * 40`` dB of reduction.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from chunking.timeline.model import Effect
from workers.audio_effects_base import BLOCK, Block, Context, Identity, Samples, given, value

Complex = npt.NDArray[np.complex128]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

#: Frames overlap 4 times (hop = size / 4).
OVERLAP = 4

#: Sum of the squared periodic Hann window over 4 overlapping frames.
_WINDOW_GAIN = 1.5


def frame_size(rate: int) -> int:
    """FFT size: the power of two nearest 43 ms (2048 at 48 kHz)."""
    return 1 << max(6, round(math.log2(rate * 0.043)))


def _hann(size: int) -> F64:
    return np.asarray(0.5 - 0.5 * np.cos(2 * np.pi * np.arange(size) / size), dtype=np.float64)


def _frames(signal: Block, size: int, hop: int, count: int) -> Block:
    view = np.lib.stride_tricks.sliding_window_view(signal, size, axis=1)
    return np.asarray(view[:, : count * hop : hop], dtype=np.float64)


class Stft:
    """Streaming analysis, a per-frame transform, and overlap-add synthesis."""

    def __init__(self, channels: int, size: int) -> None:
        self.size, self.hop = size, size // OVERLAP
        self.latency = size
        self._window = _hann(size)
        # The frame grid starts size - hop samples before the clip, so the first samples are
        # covered by as many frames as every other.
        self._pending = np.zeros((channels, size - self.hop), dtype=np.float64)
        self._tail = np.zeros((channels, size - self.hop), dtype=np.float64)
        self._ready = np.zeros((channels, self.hop), dtype=np.float64)
        self._frame = 0

    def transform(self, spectra: Complex, first: int) -> Complex:
        """Change the spectra (channels, frames, bins) of frames ``first`` on; override."""
        return spectra

    def process(self, block: Block, start: int) -> Block:
        """The next block of output (lagging the input by ``size``)."""
        size, hop = self.size, self.hop
        pending = np.concatenate([self._pending, block], axis=1)
        count = (pending.shape[1] - size) // hop + 1 if pending.shape[1] >= size else 0
        if count:
            frames = _frames(pending, size, hop, count) * self._window
            spectra = self.transform(np.fft.rfft(frames, axis=-1), self._frame)
            self._frame += count
            out = np.fft.irfft(spectra, n=size, axis=-1) * (self._window / _WINDOW_GAIN)
            # Overlap-add by hop-sized segments: frame f's q-th quarter lands in segment f + q.
            channels = out.shape[0]
            quarters = out.reshape(channels, count, OVERLAP, hop)
            segments = np.zeros((channels, count + OVERLAP - 1, hop), dtype=np.float64)
            for q in range(OVERLAP):
                segments[:, q : q + count] += quarters[:, :, q]
            segments[:, : OVERLAP - 1] += self._tail.reshape(channels, OVERLAP - 1, hop)
            done = segments[:, :count].reshape(channels, -1)
            self._tail = segments[:, count:].reshape(channels, -1)
            self._ready = np.concatenate([self._ready, done], axis=1)
            pending = pending[:, count * hop :]
        self._pending = pending
        n = block.shape[1]
        out_block, self._ready = self._ready[:, :n], self._ready[:, n:]
        return out_block


class PitchShift(Stft):
    """Phase-vocoder pitch shift by ``ratio`` (2 = an octave up), same length.

    Peak-locked (Laroche and Dolson, "New phase-vocoder techniques for pitch-shifting,
    harmonizing and other exotic effects", WASPAA 1999): each spectral peak's whole lobe (the
    bins nearer to it than to another peak) moves by the whole number of bins that puts the
    peak at ``ratio`` times its measured frequency, keeping the lobe's shape, so each partial
    stays one windowed sinusoid at its level. The peak's phase advances at the new frequency
    from frame to frame and the other bins of its lobe keep their phase offsets from it.
    """

    def __init__(self, channels: int, rate: int, ratio: float) -> None:
        super().__init__(channels, frame_size(rate))
        self.ratio = ratio
        bins = self.size // 2 + 1
        self._bins = np.arange(bins, dtype=np.float64)
        self._expected = 2 * np.pi * self.hop * self._bins / self.size
        self._last_phase = np.zeros((channels, bins), dtype=np.float64)
        self._sum_phase = np.zeros((channels, bins), dtype=np.float64)
        self._grids: dict[int, tuple[I64, I64, I64]] = {}

    def _grid(self, total: int, bins: int) -> tuple[I64, I64, I64]:
        """Flat index, row and bin of every bin of a block (the same for every full block)."""
        grid = self._grids.get(total)
        if grid is None:
            q = np.arange(total, dtype=np.int64)
            grid = self._grids[total] = (q, q // bins, q % bins)
        return grid

    def transform(self, spectra: Complex, first: int) -> Complex:
        """Move every peak's lobe to ``ratio`` times the peak's true frequency."""
        channels, count, bins = spectra.shape
        total = channels * count * bins
        magnitude = np.abs(spectra)
        phase = np.angle(spectra)
        previous = np.concatenate([self._last_phase[:, None], phase[:, :-1]], axis=1)
        self._last_phase = phase[:, -1]
        deviation = phase - previous - self._expected
        deviation -= 2 * np.pi * np.rint(deviation / (2 * np.pi))
        true_bin = (self._bins + deviation * (self.size / (2 * np.pi * self.hop))).reshape(-1)
        inner = np.zeros_like(magnitude, dtype=bool)
        inner[..., 1:-1] = (magnitude[..., 1:-1] > magnitude[..., :-2]) & (
            magnitude[..., 1:-1] >= magnitude[..., 2:]
        )
        # Flat indices throughout: bin q of row q // bins; each bin's nearest peak in its row.
        q, row, k = self._grid(total, bins)
        peak = _nearest(np.flatnonzero(inner), q, row, bins)
        found = peak >= 0
        peak = np.where(found, peak, q)
        peak_true = true_bin[peak]
        shift = np.rint(peak_true * (self.ratio - 1)).astype(np.int64)
        keep = found & (k + shift >= 0) & (k + shift < bins)
        index = (q + shift)[keep]
        mags = magnitude.reshape(-1)[keep]
        # Each output bin advances at its lobe's new frequency (magnitude-weighted where two
        # lobes meet); bins no lobe reaches stand still.
        advance = (2 * np.pi * self.hop * self.ratio / self.size) * peak_true[keep]
        weight = np.bincount(index, weights=mags, minlength=total)
        moved = np.bincount(index, weights=mags * advance, minlength=total)
        step = np.divide(moved, weight, out=np.zeros(total), where=weight > 0)
        synth = self._sum_phase[:, None] + np.cumsum(step.reshape(channels, count, bins), axis=1)
        self._sum_phase = np.mod(synth[:, -1], 2 * np.pi)
        # Each bin: its peak's synthesis phase plus its own phase offset from the peak.
        peak_k = k[peak]
        peak_target = (peak - peak_k + np.clip(peak_k + shift, 0, bins - 1))[keep]
        flat_phase = phase.reshape(-1)
        locked = synth.reshape(-1)[peak_target] + flat_phase[keep] - flat_phase[peak[keep]]
        real = np.bincount(index, weights=mags * np.cos(locked), minlength=total)
        imag = np.bincount(index, weights=mags * np.sin(locked), minlength=total)
        return np.asarray((real + 1j * imag).reshape(channels, count, bins), dtype=np.complex128)


def _nearest(peaks: I64, q: I64, row: I64, bins: int) -> I64:
    """For each flat bin index in q (in ``row``), the flat index of the nearest peak in the same
    row of ``bins`` (the lower one on a tie), or -1 when the row has none; ``peaks`` sorted."""
    if peaks.size == 0:
        return np.full(q.shape, -1, dtype=np.int64)
    peak_row = peaks // bins
    after = np.searchsorted(peaks, q)
    above_i = np.minimum(after, peaks.size - 1)
    below_i = np.maximum(after - 1, 0)
    above, below = peaks[above_i], peaks[below_i]
    has_above = (after < peaks.size) & (peak_row[above_i] == row)
    has_below = (after > 0) & (peak_row[below_i] == row)
    use_above = has_above & (~has_below | (above - q < q - below))
    return np.where(use_above, above, np.where(has_below, below, -1))


def make_pitch(effect: Effect, ctx: Context, data: Samples) -> PitchShift | Identity:
    """Shift by ``semitones`` (or by the frequency ``ratio`` when only that is given)."""
    if given(effect, "semitones") or not given(effect, "ratio"):
        ratio = 2.0 ** (value(effect, "semitones") / 12.0)
    else:
        ratio = value(effect, "ratio")
    if abs(ratio - 1.0) < 1e-9:
        return Identity()
    return PitchShift(ctx.channels, ctx.rate, ratio)


#: Frames quieter than this (dBFS power) are digital silence, not noise, and are not counted.
_SILENT_DB = -140.0
#: Histogram of frame powers per bin: from -200 dB in 0.25 dB steps.
_HIST_LOW, _HIST_STEP, _HIST_BINS = -200.0, 0.25, 1000
#: The 10th percentile of an exponential (noise) power is this fraction of its mean.
_P10_OF_MEAN = -math.log(0.9)
#: Decision-directed smoothing of the a-priori SNR.
_DD_ALPHA = 0.98
#: Power above the noise estimate before a bin counts as signal (spectral over-subtraction).
_OVERSUBTRACT = 2.0


def noise_spectrum(data: Samples, size: int) -> F64:
    """Per channel and bin, the mean power of the clip's noise (channels, bins)."""
    hop = size // OVERLAP
    window = _hann(size)
    channels, bins = data.shape[0], size // 2 + 1
    hist = np.zeros((channels, bins, _HIST_BINS), dtype=np.int64)
    offsets = (np.arange(channels)[:, None] * bins + np.arange(bins)[None, :]) * _HIST_BINS
    for a in range(0, max(data.shape[1] - size, 0) + 1, BLOCK):
        span = np.asarray(data[:, a : a + BLOCK + size], dtype=np.float64)
        count = (span.shape[1] - size) // hop + 1 if span.shape[1] >= size else 0
        count = min(count, -(-BLOCK // hop))
        if count <= 0:
            continue
        power = np.abs(np.fft.rfft(_frames(span, size, hop, count) * window, axis=-1)) ** 2
        power /= (window**2).sum()
        audible = 10 * np.log10(np.maximum(power.sum(axis=2), 1e-300)) > _SILENT_DB
        level = 10 * np.log10(np.maximum(power, 1e-300))
        slot = np.clip(((level - _HIST_LOW) / _HIST_STEP).astype(np.int64), 0, _HIST_BINS - 1)
        # (channels, frames, bins) -> flat histogram index, counting audible frames only.
        flat = (offsets[:, None, :] + slot)[np.broadcast_to(audible[:, :, None], slot.shape)]
        hist += np.bincount(flat, minlength=hist.size).reshape(hist.shape)
    cumulative = np.cumsum(hist, axis=2)
    frames = cumulative[:, :, -1:]
    tenth = np.argmax(cumulative >= np.maximum(frames, 1) * 0.1, axis=2)
    p10 = 10 ** ((_HIST_LOW + (tenth + 0.5) * _HIST_STEP) / 10)
    noise = np.where(frames[:, :, 0] > 0, p10 / _P10_OF_MEAN, 0.0)
    return np.asarray(noise * (window**2).sum(), dtype=np.float64)


class Denoise(Stft):
    """Wiener-style spectral noise reduction against a clip-wide noise estimate."""

    def __init__(self, channels: int, rate: int, amount: float, data: Samples) -> None:
        super().__init__(channels, frame_size(rate))
        self._noise = np.maximum(noise_spectrum(data, self.size), 1e-30)
        self._floor = 10 ** (-amount * 40 / 20)
        bins = self.size // 2 + 1
        # The last frame's estimated clean-speech SNR, |G|^2 times its posterior SNR.
        self._prior = np.zeros((channels, bins), dtype=np.float64)

    def transform(self, spectra: Complex, first: int) -> Complex:
        """Scale each bin by its Wiener gain."""
        power = np.abs(spectra) ** 2
        # A little smoothing across neighbouring bins steadies the SNR estimate.
        smooth = power.copy()
        smooth[:, :, 1:-1] = (power[:, :, :-2] + 2 * power[:, :, 1:-1] + power[:, :, 2:]) / 4
        posterior = smooth / (self._noise[:, None, :] * _OVERSUBTRACT)
        gains = np.empty_like(power)
        prior = self._prior
        for f in range(power.shape[1]):
            snr = _DD_ALPHA * prior + (1 - _DD_ALPHA) * np.maximum(posterior[:, f] - 1, 0.0)
            gain = np.maximum(snr / (1 + snr), self._floor)
            gains[:, f] = gain
            prior = gain * gain * posterior[:, f]
        self._prior = prior
        return np.asarray(spectra * gains, dtype=np.complex128)


def make_denoise(effect: Effect, ctx: Context, data: Samples) -> Denoise | Identity:
    """Noise reduction of up to ``amount * 40`` dB in noise-only bins."""
    amount = value(effect, "amount")
    if amount <= 0:
        return Identity()
    return Denoise(ctx.channels, ctx.rate, amount, data)
