"""Where an OTIO item's own time lands on the output timeline: exact affine time maps.

OTIO nests time frames: a clip's media time inside a track's time inside a stack's, each step
shifted by the item's position, trimmed by its ``source_range`` and scaled by its time effects.
A :class:`TimeMap` composes those steps into one map from output seconds to an item's own
seconds, plus the output window the item is visible in, so every clip of a nested timeline is
placed with exact Fractions and only the final document rounds to frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class TimeMap:
    """Own time ``own0 + (x - out0) * speed`` at output time ``x``, visible for x in [lo, hi).

    ``speed`` is own seconds per output second; 0 holds own time ``own0`` (a freeze frame).
    """

    out0: Fraction
    own0: Fraction
    speed: Fraction
    lo: Fraction
    hi: Fraction

    def own(self, x: Fraction) -> Fraction:
        """The own time shown at output time ``x``."""
        return self.own0 + (x - self.out0) * self.speed

    def out(self, t: Fraction) -> Fraction:
        """The output time at which own time ``t`` is shown (``speed`` must not be 0)."""
        return self.out0 + (t - self.own0) / self.speed

    def span(self, a: Fraction, b: Fraction) -> tuple[Fraction, Fraction] | None:
        """The visible output interval where own time lies in [a, b); None when there is none.
        Played backwards (``speed`` below 0), own time [a, b) fills output [out(b), out(a))."""
        if self.speed == 0:
            return (self.lo, self.hi) if a <= self.own0 < b else None
        first, last = (self.out(a), self.out(b)) if self.speed > 0 else (self.out(b), self.out(a))
        start, end = max(first, self.lo), min(last, self.hi)
        return (start, end) if start < end else None

    def child(self, a: Fraction, b: Fraction, start: Fraction, scalar: Fraction) -> TimeMap | None:
        """The map of an item placed over own time [a, b) whose own time is ``start`` at ``a``
        and runs ``scalar`` times as fast (0: held); None when no part of it is visible."""
        window = self.span(a, b)
        if window is None:
            return None
        x0 = window[0]
        return TimeMap(x0, start + (self.own(x0) - a) * scalar, self.speed * scalar, *window)


def top_map(origin: Fraction, duration: Fraction) -> TimeMap:
    """The map of the top-level stack: output time 0 is stack time ``origin``."""
    return TimeMap(Fraction(0), origin, Fraction(1), Fraction(0), duration)
