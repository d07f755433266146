"""Damaged NLE exports (chunking.timeline.otio_read, otio_aaf): a truncated, empty or garbled
AAF, FCPXML, FCP 7 XML, EDL or OTIO file is refused with a message that names the file and
says what is wrong with it, not the reading library's own words ("array index out of range",
"invalid file magic signature", "no element found")."""

from __future__ import annotations

from pathlib import Path

import pytest

from chunking.timeline.loader import load
from common.errors import TimelineError

DATA = Path(__file__).parents[1] / "data"
AAF = DATA / "nle" / "one_clip.aaf"  # 4096-byte sectors, 438272 bytes
FCPXML = DATA / "nle" / "fcpx_example.fcpxml"
FCP7 = DATA / "nle" / "premiere_example.xml"
OTIO = DATA / "otio" / "transition.otio"

#: What the reading libraries say, which must not reach the user alone.
_RAW = ("array index out of range", "magic signature", "no element found", "unclosed token")


def _refusal(path: Path) -> str:
    """The message load() refuses a file with."""
    with pytest.raises(TimelineError) as refused:
        load(str(path))
    text = str(refused.value)
    assert text.startswith(f"{path}: ")
    assert not [raw for raw in _RAW if raw in text]
    return text


@pytest.mark.parametrize(
    "length",
    [
        219136,  # half the file, mid-sector
        217088,  # 53 whole sectors: the size alone looks right
        4096,  # the header sector only
        600,  # part of the header
    ],
)
def test_a_truncated_aaf_is_named_truncated(tmp_path: Path, length: int) -> None:
    cut = tmp_path / "cut.aaf"
    cut.write_bytes(AAF.read_bytes()[:length])
    assert "truncated or damaged" in _refusal(cut)


def test_an_aaf_of_garbage_is_named_not_an_aaf(tmp_path: Path) -> None:
    garbage = tmp_path / "noise.aaf"
    garbage.write_bytes(bytes(range(256)) * 16)
    assert "not an AAF file" in _refusal(garbage)


def test_an_xml_export_named_aaf_is_named_as_such(tmp_path: Path) -> None:
    named = tmp_path / "project.aaf"
    named.write_bytes(FCPXML.read_bytes())
    assert "is an FCPXML file (<fcpxml>), not .aaf" in _refusal(named)


def test_other_xml_named_aaf_is_named_as_text(tmp_path: Path) -> None:
    named = tmp_path / "project.aaf"
    named.write_text("<?xml version='1.0'?><project/>")
    text = _refusal(named)
    assert "not an AAF file" in text and "XML text" in text


@pytest.mark.parametrize("suffix", [".aaf", ".fcpxml", ".xml", ".edl", ".otio"])
def test_an_empty_export_is_named_empty(tmp_path: Path, suffix: str) -> None:
    empty = tmp_path / f"empty{suffix}"
    empty.touch()
    assert "is empty (0 bytes)" in _refusal(empty)


@pytest.mark.parametrize("source", [FCPXML, FCP7])
def test_a_truncated_xml_export_is_named_truncated(tmp_path: Path, source: Path) -> None:
    cut = tmp_path / f"cut{source.suffix}"
    data = source.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert "truncated or damaged" in _refusal(cut)


def test_a_truncated_otio_file_is_named_truncated(tmp_path: Path) -> None:
    cut = tmp_path / "cut.otio"
    data = OTIO.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert "truncated or damaged" in _refusal(cut)


EDL = DATA / "otio" / "edl" / "cdl.edl"


@pytest.mark.parametrize(
    ("source", "named", "said"),
    [
        (FCP7, "project.fcpxml", "is a Final Cut Pro 7 XML file (<xmeml>)"),
        (FCPXML, "project.xml", "is an FCPXML file (<fcpxml>)"),
        (AAF, "project.xml", "is an AAF file"),
        (AAF, "project.otio", "is an AAF file"),
        (AAF, "project.edl", "is an AAF file"),
        (OTIO, "project.edl", "is an OpenTimelineIO file"),
        (OTIO, "project.xml", "is an OpenTimelineIO file"),
        (EDL, "project.otio", "is a CMX 3600 EDL file"),
    ],
)
def test_an_export_under_another_formats_suffix_is_named(
    tmp_path: Path, source: Path, named: str, said: str
) -> None:
    """An FCP 7 XML named .fcpxml gave 15 "has no duration" errors; an FCPXML named .xml "No
    top-level sequences found"; an AAF named .otio/.xml "not UTF-8 text"; an OTIO file named
    .edl "holds no events"; an EDL named .otio a JSON parse error."""
    path = tmp_path / named
    path.write_bytes(source.read_bytes())
    text = _refusal(path)
    assert said in text and f"not {path.suffix}" in text


@pytest.mark.parametrize("at", [8192, 40960, 200704, 331776])
def test_an_aaf_damaged_inside_is_named_damaged(tmp_path: Path, at: int) -> None:
    """A sector overwritten with other bytes gave the AAF library's words: "AssertionError",
    "be byteorder", "can only list storage types"."""
    data = bytearray(AAF.read_bytes())
    data[at : at + 4096] = bytes((i * 37 + 11) % 256 for i in range(4096))
    damaged = tmp_path / "damaged.aaf"
    damaged.write_bytes(bytes(data))
    text = _refusal(damaged)
    assert "truncated or damaged" in text


@pytest.mark.parametrize(
    ("named", "said"),
    [
        ("notes.fcpxml", "its text is not well-formed XML at line 1, column 0"),
        ("notes.xml", "its text is not well-formed XML at line 1, column 0"),
        ("notes.otio", "its text is not valid JSON: Invalid value at line 1, column 0"),
    ],
)
def test_plain_text_under_an_export_suffix_is_named_as_such(
    tmp_path: Path, named: str, said: str
) -> None:
    """It said "syntax error: line 1, column 0" or "JSON parse error while reading: JSON parse
    error on input string: Invalid value."."""
    path = tmp_path / named
    path.write_text("hello world\n")
    text = _refusal(path)
    assert said in text and "syntax error" not in text and "parse error" not in text


@pytest.mark.parametrize(
    ("length", "was"),
    [(100, "incorrect number of fields"), (330, "is an invalid timecode")],
)
def test_an_edl_cut_off_mid_line_is_named_truncated(tmp_path: Path, length: int, was: str) -> None:
    """An EDL cut inside an event line failed in the adapter's words for that line alone."""
    cut = tmp_path / "cut.edl"
    cut.write_bytes(EDL.read_bytes()[:length])
    (tmp_path / "ZZ100_501 (LAY3).mov").touch()
    text = _refusal(cut)
    assert "truncated or damaged" in text and "ends mid-line" in text and was in text


def test_an_edl_of_a_bad_last_line_that_ends_whole_is_not_called_truncated(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.edl"
    path.write_text("TITLE: t\n\n001  AX       V     C        01:00:04:05 01:00:05:12 00:00\n")
    assert "truncated" not in _refusal(path)
