"""Exact numbers read from text that a document or a request supplies."""

from __future__ import annotations

import re
from fractions import Fraction

#: A decimal or a ratio of decimals, a dozen digits a part at most: Fraction() of any text
#: would build ``1e999999999`` as a billion-digit integer (hours of CPU for one attribute).
_NUMBER_TEXT = re.compile(r"[+-]?\d{1,12}(?:\.\d{1,12})?(?:/\d{1,12})?")


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
