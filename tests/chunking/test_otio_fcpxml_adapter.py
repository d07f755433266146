"""Corrections to the FCPXML adapter's reader (chunking.timeline.otio_fcpxml_adapter): exact
frame rates and times where it counted whole frames of whole rates."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import TrackKind
from chunking.timeline.otio_fcpxml_adapter import correct
from tests.media import make_video

MIXED_RATES = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.11">
  <resources>
    <format id="r1" name="FFVideoFormat1080p30" frameDuration="100/3000s" width="320"
            height="180"/>
    <format id="r2" name="FFVideoFormat1080p2398" frameDuration="1001/24000s" width="320"
            height="180"/>
    <asset id="r3" name="film" start="0s" duration="240240/24000s" hasVideo="1" format="r2">
      <media-rep kind="original-media" src="film.mp4"/>
    </asset>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="5s" tcStart="0s">
      <spine>
        <asset-clip name="one" ref="r3" offset="0s" duration="2s" start="24024/24000s"
                    format="r2"/>
        <asset-clip name="two" ref="r3" offset="2s" duration="1001/1000s" start="120120/24000s"
                    format="r2"/>
        <gap name="Gap" offset="3003/1000s" duration="1997/1000s" start="0s">
          <asset-clip name="over" ref="r3" lane="1" offset="1s" duration="1s" start="0s"
                      format="r2"/>
        </gap>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def test_a_30_fps_sequence_of_23_976_media_keeps_its_rate_and_its_cuts(tmp_path: Path) -> None:
    """The adapter read this project at int(23.976) = 23 fps with truncated times; corrected:
    30 fps, and every cut on its frame of the sequence, every source time exact."""
    if not correct():
        pytest.skip("another release of otio-fcpx-xml-adapter than the corrections are for")
    make_video(tmp_path / "film.mp4", frames=240, fps=Fraction(24000, 1001), size=(320, 180))
    path = tmp_path / "cut.fcpxml"
    path.write_text(MIXED_RATES)
    timeline = load(str(path))
    assert timeline.fps == 30 and timeline.frames == 150
    placed = [
        (c.start, c.end, c.source_start)
        for t in timeline.tracks
        if t.kind is TrackKind.VIDEO
        for c in t.clips
    ]
    # "over": the gap sits at 3.003 s; its clip 1 s into the gap's own time (start 0)
    assert sorted(placed) == [
        (0, 60, pytest.approx(1.001)),
        (60, 90, pytest.approx(5.005)),
        (120, 150, 0.0),
    ]
