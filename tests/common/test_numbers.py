"""common.numbers: exact numbers from text, refusing what would cost a huge integer."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest

from common.numbers import exact_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25", Fraction(25)),
        (" 29.97 ", Fraction(2997, 100)),
        ("30000/1001", Fraction(30000, 1001)),
        ("-0.5", Fraction(-1, 2)),
        ("1697734891/536870912", Fraction(1697734891, 536870912)),
        ("1e9999999", None),
        ("1/0", None),
        ("9" * 13, None),
        ("1.5/2", None),
        ("inf", None),
        ("", None),
        ("twenty", None),
    ],
)
def test_exact_number(text: str, expected: Fraction | None) -> None:
    """Decimals and ratios of a dozen digits a part are read exactly; the rest is None."""
    assert exact_number(text) == expected


def test_an_exponent_costs_no_time() -> None:
    """Fraction("1e999999999") would build a billion-digit integer."""
    started = time.process_time()
    assert exact_number("1e999999999") is None
    assert time.process_time() - started < 0.5
