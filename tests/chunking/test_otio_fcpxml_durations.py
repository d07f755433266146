"""FCPXML items written without a duration (chunking.timeline.otio_fcpxml_durations): what
Final Cut implies, or one line naming the item."""

from __future__ import annotations

from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import Timeline, TrackKind
from common.errors import ValidationError
from tests.media import make_video

CUT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="r2" name="a" start="0s" duration="10s" hasVideo="1" hasAudio="1" format="r1">
      <media-rep kind="original-media" src="a.mp4"/>
    </asset>
    <asset id="r3" name="b" start="0s" duration="10s" format="r1" KINDS>
      <media-rep kind="original-media" src="b.mp4"/>
    </asset>
    <effect id="r4" name="Basic Title"
            uid=".../Titles.localized/Basic Title.localized/Basic Title.moti"/>
    <media id="r5" name="compound">
      <sequence format="r1" duration="3s">
        <spine><asset-clip ref="r2" offset="0s" duration="3s"/></spine>
      </sequence>
    </media>
  </resources>
  <library><event name="e"><project name="Interview">
    <sequence format="r1" tcStart="0s">
      <spine>
        <asset-clip name="a" ref="r2" offset="0s" start="1s" duration="2s"/>
        SECOND
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""
#: The second item of the spine, from 2 s, without a duration.
B_REST = '<asset-clip name="b" ref="r3" offset="2s" start="6s"/>'


def cut(tmp_path: Path, second: str, kinds: str = 'hasVideo="1" hasAudio="1"') -> Path:
    make_video(tmp_path / "a.mp4", frames=250, fps=25, size=(160, 90), audio_hz=440)
    make_video(tmp_path / "b.mp4", frames=250, fps=25, size=(160, 90), audio_hz=880)
    path = tmp_path / "cut.fcpxml"
    path.write_text(CUT.replace("SECOND", second).replace("KINDS", kinds))
    return path


def spans(timeline: Timeline, kind: TrackKind) -> list[tuple[str, int, int, float]]:
    return [
        (c.id.split(" ")[-1], c.start, c.end, c.source_start)
        for t in timeline.tracks
        if t.kind is kind
        for c in t.clips
    ]


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        # the rest of its asset: from 6 s of 10, four seconds
        (B_REST, ("b", 50, 150, 6.0)),
        ('<video name="b" ref="r3" offset="2s" start="7s"/>', ("b", 50, 125, 7.0)),
        # no start: the whole asset
        ('<asset-clip name="b" ref="r3" offset="2s"/>', ("b", 50, 300, 0.0)),
    ],
    ids=["asset-clip", "video", "no-start"],
)
def test_a_clip_without_a_duration_plays_the_rest_of_its_media(
    tmp_path: Path, second: str, expected: tuple[str, int, int, float]
) -> None:
    """The DTD's implied duration: the adapter dropped the clip, the render ended early."""
    timeline = load(str(cut(tmp_path, second)))
    assert spans(timeline, TrackKind.VIDEO) == [("a", 0, 50, 1.0), expected]
    assert timeline.frames == expected[2]


def test_an_asset_clip_without_a_duration_keeps_its_sound(tmp_path: Path) -> None:
    timeline = load(str(cut(tmp_path, B_REST)))
    assert spans(timeline, TrackKind.AUDIO) == [("a", 0, 50, 1.0), ("b", 50, 150, 6.0)]


def test_a_compound_clip_without_a_duration_is_its_compounds_length(tmp_path: Path) -> None:
    timeline = load(str(cut(tmp_path, '<ref-clip name="c" ref="r5" offset="2s"/>')))
    assert timeline.frames == 50 + 75


@pytest.mark.parametrize(
    ("second", "named"),
    [
        ('<gap name="pause" offset="2s"/>', "gap 'pause' in project 'Interview'"),
        ('<title name="Lower third" ref="r4" offset="2s"/>', "title 'Lower third'"),
        (
            '<clip name="cc" offset="2s"><video ref="r3" offset="0s" duration="1s"/></clip>',
            "clip 'cc' in project 'Interview'",
        ),  # fmt: skip
        # an asset that does not say how long it is either
        ('<asset-clip name="b" ref="r3" offset="2s"/>'.replace("r3", "r6"), "asset-clip 'b'"),
    ],
    ids=["gap", "title", "clip", "asset-without-length"],
)
def test_an_item_without_a_duration_is_named(tmp_path: Path, second: str, named: str) -> None:
    path = cut(tmp_path, second)
    text = path.read_text().replace(
        "</resources>", '<asset id="r6" name="b" hasVideo="1" src="b.mp4"/></resources>'
    )
    path.write_text(text)
    with pytest.raises(ValidationError) as caught:
        load(str(path))
    (line,) = str(caught.value).splitlines()
    assert named in line and "has no duration" in line


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        # no start: the asset's first frame (read as 0 s: an hour before its media, refused)
        ('<asset-clip name="b" ref="r3" offset="2s" duration="1s"/>', ("b", 50, 75, 0.0)),
        ('<video name="b" ref="r3" offset="2s" duration="1s"/>', ("b", 50, 75, 0.0)),
        # neither: the whole asset
        ('<asset-clip name="b" ref="r3" offset="2s"/>', ("b", 50, 300, 0.0)),
        ('<asset-clip name="b" ref="r3" offset="2s" start="3606s"/>', ("b", 50, 150, 6.0)),
    ],
    ids=["asset-clip", "video", "neither", "start-given"],
)
def test_a_clip_without_a_start_starts_at_its_timecoded_media(
    tmp_path: Path, second: str, expected: tuple[str, int, int, float]
) -> None:
    path = cut(tmp_path, second)
    text = path.read_text().replace('id="r3" name="b" start="0s"', 'id="r3" name="b" start="3600s"')
    path.write_text(text)
    assert spans(load(str(path)), TrackKind.VIDEO) == [("a", 0, 50, 1.0), expected]
