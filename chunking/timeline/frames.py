"""Frame maths at rational frame rates: the one place seconds become frame indices."""

from __future__ import annotations

import math
from fractions import Fraction

#: Frame rates editors write as decimals, mapped to the exact NTSC rationals they stand for.
_NTSC = {
    Fraction(2997, 100): Fraction(30000, 1001),
    Fraction(23976, 1000): Fraction(24000, 1001),
    Fraction(5994, 100): Fraction(60000, 1001),
    Fraction(11988, 100): Fraction(120000, 1001),
}


def parse_fps(value: object) -> Fraction:
    """Parse a frame rate given as a number, "num/den" string or [num, den] pair."""
    if isinstance(value, bool):
        raise ValueError(f"not a frame rate: {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"not a frame rate: {value!r}")
        fps = Fraction(str(value))
        for approx, exact in _NTSC.items():
            if abs(fps - approx) < Fraction(1, 100):
                return exact
        return fps
    if isinstance(value, str):
        text = value.strip()
        if "/" in text:
            num, den = text.split("/", 1)
            return Fraction(int(num), int(den))
        return parse_fps(float(text))
    if isinstance(value, list | tuple) and len(value) == 2:
        return Fraction(_whole(value[0]), _whole(value[1]))
    if isinstance(value, dict) and "numerator" in value:
        return Fraction(_whole(value["numerator"]), _whole(value.get("denominator", 1)))
    raise ValueError(f"not a frame rate: {value!r}")


def _whole(value: object) -> int:
    """A rational rate's numerator or denominator: a whole number (int() would silently make
    [29.97, 1] 29 fps, and [true, 1] 1 fps)."""
    if isinstance(value, bool):
        raise ValueError(f"not a whole number: {value!r}")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int | str):
        return int(value)
    raise ValueError(f"not a whole number: {value!r}")


def to_frame(seconds: float, fps: Fraction) -> int:
    """The nearest frame index to a time in seconds (halves round up)."""
    exact = Fraction(str(seconds)) * fps
    return math.floor(exact + Fraction(1, 2))


def to_seconds(frame: int, fps: Fraction) -> float:
    """The start time of a frame in seconds."""
    return float(Fraction(frame) / fps)
