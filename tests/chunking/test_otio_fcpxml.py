"""FCPXML amendments (chunking.timeline.otio_fcpxml): times, and offsets moved to start at 0."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree

import pytest

from chunking.timeline.otio_fcpxml import fcpxml_amended, fcpxml_time


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3600s", Fraction(3600)),
        ("3600/1s", Fraction(3600)),
        ("1001/30000s", Fraction(1001, 30000)),
        (" 0s ", Fraction(0)),
        ("1/0s", None),
        ("-5s", None),
        ("5", None),
        ("", None),
        (None, None),
    ],
)
def test_fcpxml_time(text: str | None, seconds: Fraction | None) -> None:
    assert fcpxml_time(text) == seconds


def _sequence(tc_start: str, offsets: list[str]) -> str:
    items = "".join(f'<gap offset="{o}" duration="1s"/>' for o in offsets)
    return (
        '<fcpxml version="1.10"><library><event><project name="p">'
        f'<sequence tcStart="{tc_start}"><spine>{items}</spine></sequence>'
        "</project></event></library></fcpxml>"
    )


@pytest.mark.parametrize(
    ("tc_start", "offsets", "expected"),
    [
        ("3600s", ["3600s", "3601s"], ["0/1s", "1/1s"]),
        ("3600s", ["0s", "1s"], None),  # offsets already from 0: left alone
        ("0s", ["0s", "1s"], None),
        ("86400/24s", ["86400/24s", "86424/24s"], ["0/1s", "1/1s"]),
    ],
)
def test_a_project_spine_starts_at_zero(
    tmp_path: Path, tc_start: str, offsets: list[str], expected: list[str] | None
) -> None:
    path = tmp_path / "cut.fcpxml"
    path.write_text(_sequence(tc_start, offsets))
    amended = fcpxml_amended(str(path))
    if expected is None:
        assert amended is None
        return
    assert amended is not None
    spine = ElementTree.fromstring(amended).find(".//spine")
    assert spine is not None
    assert [item.get("offset") for item in spine] == expected


def test_an_unparsable_file_is_left_to_the_adapter(tmp_path: Path) -> None:
    path = tmp_path / "cut.fcpxml"
    path.write_text("<fcpxml><unclosed>")
    assert fcpxml_amended(str(path)) is None
