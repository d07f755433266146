"""FCPXML split edits (chunking.timeline.otio_fcpxml_split): J and L cuts play their sound
over its own span."""

from __future__ import annotations

from pathlib import Path

from chunking.timeline.model import TrackKind
from tests.chunking.test_otio_fcpxml_components import media, placed, read

__all__ = ["media"]  # the fixture, used by name


def test_an_l_cut_and_a_j_cut(media: Path) -> None:
    """A's sound runs 0.4 s under D's picture (an L cut), D's starts 0.4 s before it (a J
    cut, stacked beside A's), each from its own media time: both cut with the picture."""
    timeline = read(
        media,
        '<asset-clip ref="r2" name="A" offset="0s" duration="2s" audioDuration="12/5s"/>'
        '<asset-clip ref="r3" name="D" offset="2s" start="1s" duration="2s"'
        ' audioStart="3/5s" audioDuration="12/5s"/>'
        '<asset-clip ref="r2" name="A" offset="4s" start="3s" duration="2s"/>',
    )
    assert placed(timeline, TrackKind.VIDEO) == [
        ("a.mp4", 0, 50, 0.0),
        ("d.mp4", 50, 100, 1.0),
        ("a.mp4", 100, 150, 3.0),
    ]
    assert placed(timeline, TrackKind.AUDIO) == [
        ("a.mp4", 0, 60, 0.0),  # to 2.4 s
        ("d.mp4", 40, 100, 0.6),  # from 1.6 s
        ("a.mp4", 100, 150, 3.0),
    ]
    assert not [w for w in timeline.warnings if "split" in w]


def test_split_edits_of_footage_of_another_rate_play_over_their_span(media: Path) -> None:
    """30 fps footage in a 25 fps project plays at its own speed (Final Cut does not conform
    that pair), though it carries a ``<conform-rate>``: its J and L cuts were named as not
    rendered and cut with the picture. They play over their span now; a clip Final Cut does
    conform (24 fps footage, played at 25) is still named."""
    rated = '<conform-rate srcFrameRate="30"/></asset-clip>'
    timeline = read(
        media,
        '<asset-clip ref="r2" name="A" offset="0s" duration="2s" audioDuration="12/5s">'
        + rated
        + '<asset-clip ref="r3" name="D" offset="2s" start="1s" duration="2s"'
        ' audioStart="3/5s" audioDuration="12/5s">'
        + rated
        + '<asset-clip ref="r2" name="C" offset="4s" start="3s" duration="2s"'
        ' audioDuration="12/5s"><conform-rate srcFrameRate="24"/></asset-clip>',
    )
    assert placed(timeline, TrackKind.AUDIO)[:2] == [
        ("a.mp4", 0, 60, 0.0),  # to 2.4 s
        ("d.mp4", 40, 100, 0.6),  # from 1.6 s
    ]
    named = [w for w in timeline.warnings if "split edit" in w]
    assert len(named) == 1 and "'C'" in named[0] and "'A'" not in named[0]


def test_split_edits_of_other_items_are_named(media: Path) -> None:
    """A split edit on a clip of another kind or on a retimed clip is named in a warning,
    not silently cut."""
    timeline = read(
        media,
        '<clip name="C" offset="0s" duration="3s" audioDuration="4s">'
        '<video ref="r2" offset="0s" duration="3s"/></clip>'
        '<asset-clip ref="r3" name="R" offset="3s" duration="3s" audioDuration="4s">'
        '<timeMap><timept time="0s" value="0s"/><timept time="6s" value="3s"/></timeMap>'
        "</asset-clip>",
    )
    assert any("split edit" in w and "'C'" in w and "'R'" in w for w in timeline.warnings)
