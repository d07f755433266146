"""What a multicam angle shows over a multicam clip's span (chunking.timeline.otio_fcpxml_multicam):
one clip among gaps is placed; a cut between clips, a title or a retimed clip is not."""

from __future__ import annotations

from fractions import Fraction
from xml.etree import ElementTree

import pytest

from chunking.timeline.otio_fcpxml_multicam import Shown, angle_shown

CLIP = '<asset-clip ref="a" offset="10s" start="100s" duration="20s"/>'


@pytest.mark.parametrize(
    ("items", "start", "duration", "shown"),
    [
        # A camera that started 10 s late: nothing, then its clip from its first frame.
        ('<gap offset="0s" duration="10s"/>' + CLIP, 0, 40, Shown("a", Fraction(100), 10, 20)),
        # The span inside the clip: all of it, from the media time there.
        (CLIP, 15, 5, Shown("a", Fraction(105), 0, 5)),
        # Past the clip's end: it shows until it ends.
        (CLIP, 25, 10, Shown("a", Fraction(115), 0, 5)),
        # Only gaps: nothing, for the whole span.
        ('<gap offset="0s" duration="10s"/>', 0, 8, Shown(None, Fraction(0), 8, 0)),
        # A cut between two clips, a title, a conformed clip: not placed here.
        (CLIP + '<asset-clip ref="b" offset="30s" duration="5s"/>', 0, 40, None),
        ('<title ref="t" offset="0s" duration="10s"/>' + CLIP, 0, 40, None),
        (
            '<asset-clip ref="a" offset="0s" duration="9s"><conform-rate srcFrameRate="25"/>'
            "</asset-clip>",
            0,
            5,
            None,
        ),  # fmt: skip
    ],
)
def test_what_an_angle_shows(items: str, start: int, duration: int, shown: Shown | None) -> None:
    angle = ElementTree.fromstring(f"<mc-angle>{items}</mc-angle>")
    assert angle_shown(angle, Fraction(start), Fraction(duration)) == shown
