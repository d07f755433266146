"""An FCP 7 XML frame number or rate the reader cannot convert is named with its clip, not
reported in Python's words."""

from __future__ import annotations

from pathlib import Path

import pytest

from chunking.timeline.loader import load
from common.errors import TimelineError, ValidationError

EXPORT = Path(__file__).parents[1] / "data" / "nle" / "premiere_example.xml"


@pytest.mark.parametrize("value", ["nan", "inf", "9" * 400, "9" * 5000, "", "1e3"])
@pytest.mark.parametrize(
    ("old", "where"),
    [
        ("<start>536</start>", "clipitem 'sc01_sh010_anim.mov': <start>"),
        ("<in>0</in>", "clipitem 'sc01_sh010_anim.mov': <in>"),
        ("<timebase>15</timebase>", "clipitem 'sc01_sh010_anim.mov': <rate><timebase>"),
    ],
)
def test_a_number_the_reader_cannot_convert_is_named_with_its_clip(
    tmp_path: Path, old: str, where: str, value: str
) -> None:
    """ "invalid literal for int() with base 10: 'nan'", the int() digit limit or "its reader
    fails on a line it does not expect there" before, naming neither clip nor element."""
    text = EXPORT.read_text()
    assert text.count(old) >= 1
    tag = old[1 : old.index(">")]
    path = tmp_path / "cut.xml"
    path.write_text(text.replace(old, f"<{tag}>{value}</{tag}>", 1))
    with pytest.raises(ValidationError) as refused:
        load(str(path))
    (problem,) = refused.value.problems
    assert problem.startswith(f"{path}: {where} ") and "is not a" in problem
    assert "int()" not in problem and len(problem) < 200


def test_negative_and_fractional_frames_as_exports_write_them_still_load(tmp_path: Path) -> None:
    """-1 (a clip beside a transition) and a decimal ``<in>`` are numbers the reader takes."""
    text = EXPORT.read_text().replace("<in>0</in>", "<in>0.0</in>", 1)
    path = tmp_path / "cut.xml"
    path.write_text(text)
    with pytest.raises(ValidationError) as refused:
        load(str(path))
    assert not any("is not a" in p for p in refused.value.problems)  # only its media missing


def test_elements_nested_thousands_deep_are_refused_naming_the_depth(tmp_path: Path) -> None:
    """Its reader recursed into them: "its reader fails on a line it does not expect there"."""
    text = EXPORT.read_text()
    deep = "<clipitem>" * 3000 + "</clipitem>" * 3000
    path = tmp_path / "cut.xml"
    path.write_text(text.replace("<media>", "<media>" + deep, 1))
    with pytest.raises(TimelineError) as refused:
        load(str(path))
    message = str(refused.value)
    assert message.startswith(f"{path}: its elements nest 30") and "at most 200" in message


def test_a_multicam_clip_is_refused_naming_it(tmp_path: Path) -> None:
    """Premiere's multicam clip (a <multiclip> in a clipitem, its sound items referring to it)
    failed "on a line it does not expect there", naming neither the clip nor why."""
    rate = "<rate><timebase>25</timebase><ntsc>FALSE</ntsc></rate>"
    angle = (
        f"<angle><name>Cam 1</name><clip id='cam1'><name>Cam 1</name>{rate}<media><video>"
        f"<track><clipitem id='a'><name>A.mov</name>{rate}<start>0</start><end>50</end>"
        "<in>0</in><out>50</out><file id='fa'><name>A.mov</name>"
        "<pathurl>file:///A.mov</pathurl></file></clipitem></track></video></media></clip>"
        "</angle>"
    )
    picture = (
        f"<clipitem id='mc-v'><name>Interview MC</name>{rate}<start>0</start><end>50</end>"
        f"<in>0</in><out>50</out><multiclip id='m1'><name>Interview MC</name>{angle}"
        "</multiclip></clipitem>"
    )
    sound = (
        f"<clipitem id='mc-a'><name>Interview MC</name>{rate}<start>0</start><end>50</end>"
        "<in>0</in><out>50</out><multiclip id='m1'/></clipitem>"
    )
    path = tmp_path / "edit.xml"
    path.write_text(
        f"<?xml version='1.0'?>\n<!DOCTYPE xmeml>\n<xmeml version='4'><sequence id='s'>"
        f"<name>Main</name>{rate}<media><video><track>{picture}</track></video>"
        f"<audio><track>{sound}</track></audio></media></sequence></xmeml>"
    )
    with pytest.raises(ValidationError) as refused:
        load(str(path))
    assert refused.value.problems == [
        f"{path}: clipitem 'Interview MC' is a multicam clip, which is not read: flatten it in "
        "the editor before exporting (Premiere: Multi-Camera > Flatten) so that it names the "
        "angle it shows"
    ]
