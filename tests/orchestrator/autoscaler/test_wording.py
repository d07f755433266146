"""How the autoscaler's reason lines write durations: as every other screen of the product."""

from __future__ import annotations

import pytest

from common.units import format_duration
from orchestrator.autoscaler.wording import span

# (seconds, what a reason line says)
SPANS = [
    (0.0, "0s"),
    (45.0, "45s"),
    (90.0, "1m30s"),  # was "90s"
    (720.0, "12m00s"),  # was "12m", where `cloudrender pool` said "12m00s"
    (725.0, "12m05s"),  # was "12m"
    (4500.0, "1h15m"),  # was "75m"
    (7500.0, "2h05m"),
    (-300.0, "-5m00s"),  # already past: a signed span, never "0s"
    (float("inf"), "never"),
    (float("-inf"), "never"),
    (float("nan"), "?"),  # raised ValueError out of the decision before
]


@pytest.mark.parametrize(("seconds", "expected"), SPANS)
def test_a_reason_line_writes_a_duration_as_the_rest_of_the_product(
    seconds: float, expected: str
) -> None:
    assert span(seconds) == expected


@pytest.mark.parametrize("seconds", [0.0, 59.4, 61.0, 3599.0, 3600.0, 86_400.0, float("inf")])
def test_a_span_from_now_on_is_format_duration(seconds: float) -> None:
    assert span(seconds) == format_duration(seconds)
