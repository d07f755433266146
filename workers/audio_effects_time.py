"""Effects built from delayed copies of the signal: echo delay and chorus."""

from __future__ import annotations

import math

import numpy as np

from chunking.timeline.model import Effect
from workers.audio_effects_base import Block, Context, Samples, value


class Delay:
    """Feedback echo: y[n] = x[n] + decay * y[n - D], so echoes repeat every ``delay`` seconds,
    each ``decay`` times the one before."""

    latency = 0

    def __init__(self, delay: int, decay: float, channels: int) -> None:
        self._delay, self._decay = delay, decay
        self._history = np.zeros((channels, delay), dtype=np.float64)  # last D outputs

    def process(self, block: Block, start: int) -> Block:
        """The block with its echoes."""
        d, n = self._delay, block.shape[1]
        y = np.concatenate([self._history, np.zeros_like(block)], axis=1)
        # Every output needs only outputs at least D earlier: fill it D samples at a time.
        for a in range(0, n, d):
            b = min(a + d, n)
            y[:, d + a : d + b] = block[:, a:b] + self._decay * y[:, a:b]
        self._history = y[:, n:]
        return y[:, d:]


def make_delay(effect: Effect, ctx: Context, data: Samples) -> Delay:
    """Echo after ``delay`` seconds, repeating with gain ``decay``."""
    delay = max(1, round(value(effect, "delay") * ctx.rate))
    return Delay(delay, value(effect, "decay"), ctx.channels)


class Chorus:
    """``voices`` copies read through delays swept by sine LFOs (phases spread over the voices,
    the right channel a quarter turn behind), mixed over the dry sound with gain ``decay``; the
    sum is divided by 1 + voices * decay so the level stays put (as ffmpeg's chorus scales its
    inputs). Delays are read with linear interpolation; the LFOs run on the clip's own sample
    index, so the result does not depend on how the clip was cut into blocks."""

    latency = 0

    def __init__(self, effect: Effect, ctx: Context) -> None:
        rate = ctx.rate
        self._base = value(effect, "delay") * 1e-3 * rate
        self._depth = value(effect, "depth") * 1e-3 * rate
        self._omega = 2 * math.pi * value(effect, "rate") / rate
        self._voices = round(value(effect, "voices"))
        self._decay = value(effect, "decay")
        self._reach = math.ceil(self._base + self._depth) + 2
        self._history = np.zeros((ctx.channels, self._reach), dtype=np.float64)

    def process(self, block: Block, start: int) -> Block:
        """The block with the chorus voices added."""
        channels, n = block.shape
        joined = np.concatenate([self._history, block], axis=1)
        self._history = joined[:, joined.shape[1] - self._reach :]
        index = np.arange(start, start + n, dtype=np.float64)
        wet = np.zeros_like(block)
        for voice in range(self._voices):
            for c in range(channels):
                phase = 2 * math.pi * voice / self._voices + (math.pi / 2 if c == 1 else 0.0)
                sweep = self._base + self._depth * np.sin(self._omega * index + phase)
                # A depth past the base delay would read ahead of the input: stop at 1 sample.
                delay = np.maximum(sweep, 1.0)
                position = np.arange(n, dtype=np.float64) + self._reach - delay
                base = np.floor(position)
                frac = position - base
                i = base.astype(np.int64)
                row = joined[c]
                wet[c] += row[i] + (row[i + 1] - row[i]) * frac
        return (block + self._decay * wet) / (1 + self._voices * self._decay)


def make_chorus(effect: Effect, ctx: Context, data: Samples) -> Chorus:
    """Chorus: ``delay`` and ``depth`` in ms, LFO ``rate`` in Hz, ``voices``, voice level."""
    return Chorus(effect, ctx)
