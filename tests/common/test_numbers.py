"""common.numbers: exact numbers from text, refusing what would cost a huge integer."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest

from common.numbers import exact_number, number_text


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


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (-0.0, "-0.0"),
        (25, "25"),
        (29.97, "29.97"),
        (-1, "-1"),
        (999_999_999_999_999, "999999999999999"),
        (10**15, "1e+15"),
        (10**46, "1e+46"),
        (10**400, "a 401-digit number"),
        (-(10**400), "a negative 401-digit number"),
        (10**5000, "a 5001-digit number"),  # str() refuses it: counted without
        (1e308, "1e+308"),
        (0.1 + 0.2, "0.3"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
    ],
    ids=lambda value: number_text(value) if isinstance(value, int | float) else str(value),
)
def test_number_text(value: int | float, shown: str) -> None:
    """Numbers as a message quotes them: short ones as written, long ones compactly."""
    assert number_text(value) == shown


def test_number_text_counts_the_digits_of_every_length() -> None:
    for power in range(1, 1200):
        for value in (10**power - 1, 10**power, 2**power):
            text = number_text(value)
            digits = len(str(value))
            assert text == (str(value) if digits <= 15 else text)
            if text.startswith("a "):
                assert text == f"a {digits}-digit number"
