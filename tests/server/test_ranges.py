"""Range headers checked before streaming (server.ranges): malformed is 400, outside the file
416, both as JSON errors; what Starlette serves passes."""

from __future__ import annotations

import pytest

from server.errors import ApiError
from server.ranges import check_range, range_header


@pytest.mark.parametrize(
    ("header", "honoured"),
    [
        (None, False),
        ("bytes=0-99", True),
        ("bytes=100-", True),
        ("bytes=-64", True),
        ("bytes=0-0,50-60", True),
        ("items=1-2", False),  # another unit is ignored: the whole file is sent
    ],
)
def test_ranges_a_file_can_answer_pass(header: str | None, honoured: bool) -> None:
    assert check_range(header, 1000) is honoured


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("bytes=5-2", 400),
        ("bytes=a-b", 400),
        ("bytes=-", 400),
        ("bytes=1-2,x", 400),
        ("bytes=1000-", 416),
        ("bytes=2000-3000", 416),
        ("bytes=-0", 416),
        ("bytes 0-5", 400),  # no "=": not a range in any unit
    ],
)
def test_bad_ranges_are_refused_with_their_status(header: str, status: int) -> None:
    with pytest.raises(ApiError) as refused:
        check_range(header, 1000)
    assert refused.value.status == status and "Range" in str(refused.value)


@pytest.mark.parametrize(
    ("header", "honoured"),
    [
        ("bytes=0-99", "bytes=0-99"),
        ("bytes=0-5000", "bytes=0-999"),
        ("bytes= 5 - 9 ", "bytes=5-9"),
        ("bytes=-5000", "bytes=-1000"),
        # a part outside the file is left out, the others are served (RFC 9110)
        ("bytes=0-5,2000-", "bytes=0-5"),
        ("bytes=-0,0-5", "bytes=0-5"),
        # positions longer than Python reads as integers (4300 digits) answered 500
        ("bytes=0-" + "9" * 5000, "bytes=0-999"),
        ("bytes=-" + "9" * 5000, "bytes=-1000"),
        ("bytes=" + "0" * 5000 + "7-8", "bytes=7-8"),
        ("bytes=" + "9" * 5000 + "-,1-2", "bytes=1-2"),
    ],
)
def test_ranges_are_handed_on_as_the_parts_the_file_has(header: str, honoured: str) -> None:
    assert range_header(header, 1000) == honoured


@pytest.mark.parametrize("header", ["bytes=" + "9" * 5000 + "-", "bytes=1000-" + "9" * 5000])
def test_a_position_too_long_to_read_is_past_the_end(header: str) -> None:
    with pytest.raises(ApiError) as refused:
        range_header(header, 1000)
    assert refused.value.status == 416
    assert refused.value.headers == {"Content-Range": "bytes */1000"}
