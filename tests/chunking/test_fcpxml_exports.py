"""Real Final Cut Pro exports (tests/data/nle/fcp: DAWFileKit's test files, FCPXML 1.9 to 1.11)
load at their project's frame rate and length, with every clip inside the program: what the
adapter's reader got wrong on them (rates, nesting, retimes, auditions, generators)."""

from __future__ import annotations

import re
import shutil
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree

import pytest

from chunking.timeline.loader import load
from chunking.timeline.otio_fcpxml_time import fcpxml_time

EXPORTS = Path(__file__).parents[1] / "data" / "nle" / "fcp"


def sequence_of(path: Path) -> tuple[Fraction, Fraction]:
    """The project sequence's frame rate and length in seconds, read from the file itself."""
    root = ElementTree.parse(path).getroot()
    (sequence,) = root.findall(".//project/sequence")
    formats = {f.get("id"): f for f in root.iter("format")}
    frame = fcpxml_time(formats[sequence.get("format")].get("frameDuration"))
    length = fcpxml_time(sequence.get("duration"))
    assert frame and length
    return 1 / frame, length


def with_media(tmp_path: Path, name: str) -> Path:
    """A copy of an export with an empty file of each medium's name beside it (the loader
    checks that media exist; it does not decode them)."""
    export = tmp_path / name
    shutil.copy(EXPORTS / name, export)
    for src in re.findall(r'src="([^"]+)"', export.read_text()):
        (tmp_path / re.split(r"[\\\\/]", src.replace("%20", " "))[-1]).touch()
    return export


@pytest.mark.parametrize("name", sorted(p.name for p in EXPORTS.glob("*.fcpxml")))
def test_a_final_cut_export_keeps_its_rate_length_and_clips(tmp_path: Path, name: str) -> None:
    rate, length = sequence_of(EXPORTS / name)
    timeline = load(str(with_media(tmp_path, name)))
    assert timeline.fps == rate
    assert abs(timeline.frames - length * rate) <= 1
    late = [(c.id, c.end) for t in timeline.tracks for c in t.clips if c.end > timeline.frames]
    assert late == [], f"clips past the program's end ({timeline.frames} frames)"
