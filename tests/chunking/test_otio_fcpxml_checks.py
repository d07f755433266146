"""What an FCPXML gets wrong about its formats, references and durations is named, not guessed
(24 fps, 1920x1080, a vanished clip, a Python attribute error)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chunking.timeline.loader import load
from common.errors import TimelineError, ValidationError
from tests.media import make_video

CUT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="r2" name="a" start="0s" duration="10s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="a.mp4"/>
    </asset>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="4s" tcStart="0s">
      <spine>
        <asset-clip name="one" ref="r2" offset="0s" duration="2s" start="0s"/>
        <asset-clip name="two" ref="r2" offset="2s" duration="2s" start="1s"/>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    make_video(tmp_path / "a.mp4", frames=250, fps=25, size=(160, 90))
    return tmp_path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('frameDuration="100/2500s"', 'frameDuration="0s"', "format 'r1': frameDuration '0s'"),
        ('frameDuration="100/2500s"', 'frameDuration="NaNs"', "frameDuration 'NaNs' is not"),
        ('frameDuration="100/2500s"', 'frameDuration="100/0s"', "frameDuration '100/0s'"),
        ('frameDuration="100/2500s"', 'frameDuration="1/99999999999999999999s"', "not the len"),
        ('width="160"', 'width="0"', "format 'r1': width '0' is not 1 to 16384"),
        # int() refuses these although str.isdigit takes them (a ValueError traceback before)
        ('width="160"', f'width="{"9" * 5000}"', "width '99999999999999999999...' is not"),
        ('height="90"', 'height="²"', "format 'r1': height '²' is not 1 to 16384"),
        ('sequence format="r1"', 'sequence format="r9"', "its format 'r9' is not in <resources>"),
        ('name="two" ref="r2"', 'name="two" ref="r99"', "asset-clip 'two': refers to 'r99'"),
        ('duration="2s" start="1s"', 'duration="-3s" start="1s"', "duration '-3s' is not a pos"),
    ],
)
def test_a_wrong_format_reference_or_duration_is_named(
    folder: Path, old: str, new: str, message: str
) -> None:
    path = folder / "cut.fcpxml"
    assert old in CUT
    path.write_text(CUT.replace(old, new))
    with pytest.raises(ValidationError) as refused:
        load(str(path))
    assert any(message in p and str(path) in p for p in refused.value.problems)


@pytest.mark.parametrize(
    ("old", "where"),
    [
        ('offset="2s" duration="2s"', "asset-clip 'two': offset"),
        ('duration="2s" start="1s"', "asset-clip 'two': duration"),
        ('start="1s"', "asset-clip 'two': start"),
        ('frameDuration="100/2500s"', "format 'r1': frameDuration"),
        ('tcStart="0s"', "sequence: tcStart"),
        ('duration="10s"', "asset 'a': duration"),
    ],
)
@pytest.mark.parametrize("digits", [400, 5000])
def test_a_time_of_hundreds_or_thousands_of_digits_is_named(
    folder: Path, old: str, where: str, digits: int
) -> None:
    """5000 digits failed with Python's int() limit message (or a ValueError traceback), 400
    with "integer division result too large for a float": the element and attribute are
    named instead."""
    attribute = where.rsplit(" ", 1)[1]
    huge = f'{attribute}="{"9" * digits}/25s"'
    path = folder / "cut.fcpxml"
    assert old in CUT
    path.write_text(CUT.replace(old, old.replace(old.split(" ")[0], huge, 1), 1))
    with pytest.raises(ValidationError) as refused:
        load(str(path))
    (problem,) = refused.value.problems
    assert where in problem and str(path) in problem and f"of {digits} digits" in problem


def test_two_resources_of_one_id_are_named(folder: Path) -> None:
    """Every ref="r2" played the first asset of that id, the second's file never, without a
    word."""
    make_video(folder / "b.mp4", frames=250, fps=25, size=(160, 90))
    second = (
        '<asset id="r2" name="b" start="0s" duration="10s" hasVideo="1" format="r1">'
        '<media-rep kind="original-media" src="b.mp4"/></asset>'
    )
    path = folder / "cut.fcpxml"
    path.write_text(CUT.replace("</resources>", f"{second}</resources>"))
    with pytest.raises(ValidationError) as refused:
        load(str(path))
    assert refused.value.problems == [
        f"{path}: resources: 2 have the id 'r2' (asset 'a', asset 'b'); each needs its own"
    ]


def test_an_audio_channel_count_int_refuses_is_no_count(folder: Path) -> None:
    """audioChannels="²" or of thousands of digits: read as no count, not a ValueError."""
    for count in ("²", "9" * 5000):
        path = folder / "cut.fcpxml"
        path.write_text(CUT.replace('hasVideo="1"', f'hasVideo="1" audioChannels="{count}"'))
        assert load(str(path)).frames == 100


def test_decimal_times_are_read_as_the_rationals_they_are(folder: Path) -> None:
    """Some generators write "1.5s"; the adapter read such a time as 0."""
    path = folder / "cut.fcpxml"
    path.write_text(CUT.replace('offset="2s" duration="2s" start="1s"', 'offset="2.0s" '
                                'duration="2.0s" start="1.5s"'))  # fmt: skip
    timeline = load(str(path))
    two = next(c for t in timeline.tracks for c in t.clips if c.id.endswith("two"))
    assert (two.start, two.end, two.source_start) == (50, 100, 1.5)


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("FFVideoFormat720p25", (1280, 720)),
        ("FFVideoFormat640x360p25", (640, 360)),
        ("FFVideoFormat2160p25", (3840, 2160)),
    ],
)
def test_a_format_named_but_not_sized_takes_the_size_its_name_says(
    folder: Path, name: str, size: tuple[int, int]
) -> None:
    """Some tools write only the format's name: the sequence was 1920x1080 whatever it said."""
    path = folder / "cut.fcpxml"
    path.write_text(CUT.replace('width="160" height="90"', f'name="{name}"'))
    timeline = load(str(path))
    assert (timeline.width, timeline.height) == size


@pytest.mark.parametrize("length", ['duration="0s"', ""], ids=["zero", "none"])
def test_an_empty_project_is_named(folder: Path, length: str) -> None:
    """An empty project was "timeline.duration: the timeline is empty", naming neither the
    project nor the file."""
    path = folder / "cut.fcpxml"
    spine = CUT[CUT.index("<spine>") : CUT.index("</spine>") + len("</spine>")]
    text = CUT.replace(spine, "<spine/>").replace('duration="4s"', length)
    path.write_text(text.replace('project name="p"', 'project name="Rough cut"'))
    with pytest.raises(TimelineError) as caught:
        load(str(path))
    (line,) = str(caught.value).splitlines()
    assert str(path) in line and "project 'Rough cut' is empty" in line


def test_a_project_of_a_gap_is_black_not_empty(folder: Path) -> None:
    path = folder / "cut.fcpxml"
    spine = CUT[CUT.index("<spine>") : CUT.index("</spine>") + len("</spine>")]
    path.write_text(CUT.replace(spine, '<spine><gap offset="0s" duration="4s"/></spine>'))
    assert load(str(path)).frames == 100
