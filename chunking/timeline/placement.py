"""Where a clip is drawn on the canvas: its ``Transform``, the keys that move it over time
(``TransformKey``, ``key_transform``, their bounds) and the ``Crop`` of its source frame;
part of the timeline model (``chunking.timeline.model`` re-exports them).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction

from chunking.timeline.fade_curves import fade_curve


@dataclass(frozen=True)
class Transform:
    """Geometry of a clip on the canvas; positions are pixels from the canvas centre."""

    scale_x: float = 1.0
    scale_y: float = 1.0
    position_x: float = 0.0
    position_y: float = 0.0
    rotation: float = 0.0  # degrees, clockwise
    anchor_x: float = 0.5  # fraction of the clip's width
    anchor_y: float = 0.5

    def is_identity(self) -> bool:
        """True when the transform leaves the fitted clip where it is."""
        return self == Transform()


@dataclass(frozen=True)
class TransformKey:
    """A point of a clip's transform over time; between two points each field runs from the
    first's value to the second's along the first's ``easing`` (a fade_curves name)."""

    time: float  # seconds from the clip's first frame
    transform: Transform = Transform()
    easing: str = "linear"


#: The Transform fields a key animates (all of them; rotation numerically, so 0 -> 720 turns
#: twice).
_MOVING = ("scale_x", "scale_y", "position_x", "position_y", "rotation", "anchor_x", "anchor_y")


def key_transform(keys: tuple[TransformKey, ...], seconds: Fraction) -> Transform:
    """The transform the keys (in time order) give at ``seconds`` from the clip's start: the
    first's before it, the last's after it (a binary search: a clip may carry many keys)."""
    after = bisect_right(keys, seconds, key=lambda key: Fraction(key.time))
    if after == 0:
        return keys[0].transform
    if after == len(keys):
        return keys[-1].transform
    a, b = keys[after - 1], keys[after]
    # Exact time (Fraction) so a frame's transform depends on the frame alone, whatever range
    # of the timeline is rendered (frame-exact chunks).
    progress = (seconds - Fraction(a.time)) / (Fraction(b.time) - Fraction(a.time))
    shape = float(fade_curve(a.easing, progress))
    x, y = a.transform, b.transform
    return Transform(*(getattr(x, f) + (getattr(y, f) - getattr(x, f)) * shape for f in _MOVING))


def key_turning_points(keys: tuple[TransformKey, ...], last: Fraction) -> list[Transform]:
    """The transforms at a clip's first moment, at each key inside it and at ``last`` seconds
    into it: between two neighbours every field runs from one's value to the other's without
    passing either (each easing rises from 0 to 1), so they bound the whole stretch."""
    inside = [key.transform for key in keys if 0 < Fraction(key.time) < last]
    return [key_transform(keys, Fraction(0)), *inside, key_transform(keys, max(last, Fraction(0)))]


def scale_reach(keys: tuple[TransformKey, ...], last: Fraction) -> tuple[float, float]:
    """The largest sizes (``abs`` of scale_x and scale_y) the keys give from the clip's first
    moment to ``last`` seconds into it."""
    points = key_turning_points(keys, last)
    return max(abs(p.scale_x) for p in points), max(abs(p.scale_y) for p in points)


def largest_transform(keys: tuple[TransformKey, ...], last: Fraction) -> Transform:
    """The transform the keys draw a clip largest at from its first moment to ``last`` seconds
    into it (not one they pass through: the largest scale on each axis and the turn whose
    bounding box is largest), for estimates of its memory."""
    points = key_turning_points(keys, last)
    scale_x, scale_y = scale_reach(keys, last)
    return Transform(scale_x, scale_y, rotation=_widest_turn([p.rotation for p in points]))


def _widest_turn(turns: list[float]) -> float:
    """Of the angles swept from each of ``turns`` to the next, the one that turns a picture's
    bounding box largest: nearest 45 degrees off a right angle (its area is w*h plus
    (w*w + h*h) * |sin 2a| / 2), a real turn before none where that ties."""
    for a, b in zip(turns, turns[1:], strict=False):
        lo, hi = min(a, b), max(a, b)
        diagonal = 45 + 90 * math.ceil((lo - 45) / 90)
        if diagonal <= hi:
            return float(diagonal)
    return max(turns, key=lambda r: (abs(math.sin(math.radians(2 * r))), r % 360 != 0))


@dataclass(frozen=True)
class Crop:
    """Pixels removed from each edge of the source frame."""

    left: int = 0
    top: int = 0
    right: int = 0
    bottom: int = 0

    def is_identity(self) -> bool:
        """True when nothing is cropped."""
        return self == Crop()
