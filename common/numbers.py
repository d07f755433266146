"""Exact numbers read from text that a document or a request supplies, and numbers as a
message quotes them."""

from __future__ import annotations

import math
import re
from fractions import Fraction

#: A decimal or a ratio of decimals, a dozen digits a part at most: Fraction() of any text
#: would build ``1e999999999`` as a billion-digit integer (hours of CPU for one attribute).
_NUMBER_TEXT = re.compile(r"[+-]?\d{1,12}(?:\.\d{1,12})?(?:/\d{1,12})?")
#: Digits of a whole number quoted as written; a longer one is shown as 1e+46.
_SHOWN_DIGITS = 15


def exact_number(text: str) -> Fraction | None:
    """``text`` ("25", "-0.5", "30000/1001") as an exact fraction; None for anything else (an
    exponent, a huge number, a zero denominator, words)."""
    stripped = text.strip()
    if not _NUMBER_TEXT.fullmatch(stripped):
        return None
    try:
        return Fraction(stripped)
    except (ValueError, ZeroDivisionError):
        return None


def number_text(value: int | float) -> str:
    """A JSON number as a message quotes it: as written when short ("29.97", "-1"), else as
    1e+46, or by its length where no float holds it ("a 401-digit number"): a 47-digit
    frame rate was quoted digit by digit, and 10**400 called "not a frame rate"."""
    if isinstance(value, float) or isinstance(value, bool):
        return repr(value) if math.isfinite(value) and len(repr(value)) <= 17 else f"{value:g}"
    digits = _digits(value)
    if digits <= _SHOWN_DIGITS:
        return str(value)
    try:
        return f"{float(value):g}"
    except OverflowError:
        return f"a {'negative ' if value < 0 else ''}{digits}-digit number"


def _digits(value: int) -> int:
    """How many decimal digits ``value`` has, without str() (refused past 4300 digits)."""
    size = abs(value)
    estimate = max(1, math.floor(size.bit_length() * math.log10(2)))
    while estimate > 1 and size < 10 ** (estimate - 1):  # the float product rounded up
        estimate -= 1
    return estimate + int(size >= 10**estimate)
