"""The shapes a picture fade or an opacity keyframe's interpolation takes between 0 and 1, and
a clip's opacity keys (OpacityKey, key_opacity).

Timeline Studio's VideoFadeService.calculateFadeFactor: progress p in [0, 1] to a factor in
[0, 1], each curve rising from exactly 0 to exactly 1, below 1 for every p below 1 (so the
frames a fade dims are the same whatever its curve).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Protocol, TypeVar

#: Curve name -> shape; ``linear`` is exact (Fractions stay Fractions).
FADE_CURVES: dict[str, Callable[[float], float]] = {
    "linear": lambda p: p,
    "exponential": lambda p: p * p,
    "logarithmic": lambda p: 1 - (1 - p) ** 2,
    "cosine": lambda p: (1 - math.cos(p * math.pi)) / 2,
    "ease-in": lambda p: p * p,
    "ease-out": lambda p: 1 - (1 - p) ** 2,
    "ease-in-out": lambda p: 2 * p * p if p < 0.5 else 1 - (-2 * p + 2) ** 2 / 2,
}


def fade_curve(name: str, progress: Fraction) -> Fraction | float:
    """``progress`` (clamped to [0, 1]) shaped by the named curve; linear stays exact."""
    if progress <= 0:
        return Fraction(0)
    if progress >= 1:
        return Fraction(1)
    if name == "linear":
        return progress
    return FADE_CURVES[name](float(progress))


@dataclass(frozen=True)
class OpacityKey:
    """A point of a clip's opacity over time; between two points the opacity runs from the
    first's to the second's along the first's ``easing`` (a fade_curves name)."""

    time: float  # seconds from the clip's first frame
    opacity: float  # 0..1, a factor on the clip's ``opacity``
    easing: str = "linear"


def key_opacity(keys: Sequence[OpacityKey], seconds: float) -> float:
    """The opacity the keys (in time order) give at ``seconds`` from the clip's start (a binary
    search: a clip may carry many thousands of keys)."""
    after = bisect_right(keys, seconds, key=lambda key: key.time)
    if after == 0:
        return keys[0].opacity
    if after == len(keys):
        return keys[-1].opacity
    a, b = keys[after - 1], keys[after]
    shape = fade_curve(a.easing, Fraction(seconds - a.time) / Fraction(b.time - a.time))
    return a.opacity + (b.opacity - a.opacity) * float(shape)


class Timed(Protocol):
    """A key at a time: an OpacityKey or a model.TransformKey."""

    @property
    def time(self) -> float:
        """Seconds from the clip's first frame."""
        ...


Key = TypeVar("Key", bound=Timed)


def keys_between(keys: Sequence[Key], first: float, last: float) -> Sequence[Key]:
    """The keys that decide the opacity (or transform) from ``first`` to ``last`` seconds: those
    between, and the nearest one outside on each side."""
    lo = max(bisect_right(keys, first, key=lambda key: key.time) - 1, 0)
    # key_opacity at ``last`` reads the last of the keys at that time (a step has two): the
    # first key at or after it alone would leave the step's second key out of the content key.
    at = bisect_right(keys, last, key=lambda key: key.time) - 1
    hi = min(max(bisect_left(keys, last, key=lambda key: key.time), at), len(keys) - 1)
    return keys[lo : hi + 1]
