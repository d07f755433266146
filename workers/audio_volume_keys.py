"""A clip's volume keys (chunking.timeline.volume_keys) as a gain per mix sample.

Sample ``i`` of a clip (counted from its first mix sample) sounds ``lead + i / rate`` seconds
after the clip's first frame, where ``lead`` (under one sample) is how far that first sample
lies past the frame's start: the gain of a sample depends on the clip and ``i`` alone, so a
render range hears the samples the whole timeline does.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from chunking.timeline.volume_keys import VolumeKey

Gains = npt.NDArray[np.float64]


def key_gains(keys: Sequence[VolumeKey], seconds: Gains) -> Gains:
    """The factor the keys (in time order, at least one) give at each of ``seconds`` from the
    clip's first frame: chunking.timeline.volume_keys.key_volume, per sample."""
    times = np.array([key.time for key in keys], dtype=np.float64)
    values = np.array([key.volume for key in keys], dtype=np.float64)
    after = np.searchsorted(times, seconds, side="right")
    if len(keys) == 1:
        return np.full(seconds.shape, values[0])
    a = np.clip(after - 1, 0, len(keys) - 2)
    b = a + 1
    span = times[b] - times[a]
    # Two keys at one time (a step, as a model built in code may have): the later from there.
    with np.errstate(divide="ignore", invalid="ignore"):
        progress = np.where(span > 0, np.clip((seconds - times[a]) / span, 0.0, 1.0), 1.0)
    va, vb = values[a], values[b]
    gains = va + (vb - va) * progress
    in_db = np.array([key.interpolation == "db" for key in keys])[a] & (va > 0) & (vb > 0)
    if in_db.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            curved = va * np.power(vb / np.where(va > 0, va, 1.0), progress)
        gains = np.where(in_db, curved, gains)
    return gains


def lead_seconds(first_sample: int, rate: int, start_frame: int, fps: Fraction) -> float:
    """Seconds from the start of a clip's first frame to its first mix sample (exact, then
    rounded once)."""
    return float(Fraction(first_sample, rate) - Fraction(start_frame) / fps)


def clip_key_gains(keys: Sequence[VolumeKey], b0: int, b1: int, rate: int, lead: float) -> Gains:
    """The keys' factor on clip samples [b0, b1)."""
    index = np.arange(b0, b1, dtype=np.float64)
    return key_gains(keys, lead + index / rate)
