"""What a multicam angle shows over a multicam clip's span (chunking.timeline.otio_fcpxml_multicam):
clips among gaps are placed; a title or a retimed clip is not."""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import TrackKind
from chunking.timeline.otio_fcpxml_multicam import Shown, angle_cuts

CLIP = '<asset-clip ref="a" offset="10s" start="100s" duration="20s"/>'


@pytest.mark.parametrize(
    ("items", "start", "duration", "cuts"),
    [
        # A camera that started 10 s late: nothing, then its clip from its first frame.
        ('<gap offset="0s" duration="10s"/>' + CLIP, 0, 40, [Shown("a", Fraction(100), 10, 20)]),
        # The span inside the clip: all of it, from the media time there.
        (CLIP, 15, 5, [Shown("a", Fraction(105), 0, 5)]),
        # Past the clip's end: it shows until it ends.
        (CLIP, 25, 10, [Shown("a", Fraction(115), 0, 5)]),
        # Only gaps: nothing.
        ('<gap offset="0s" duration="10s"/>', 0, 8, []),
        # A cut between two clips inside the span: each where it shows.
        (
            CLIP + '<asset-clip ref="b" offset="30s" start="7s" duration="5s"/>',
            12,
            20,
            [Shown("a", Fraction(102), 0, 18), Shown("b", Fraction(7), 18, 2)],
        ),
        # Items that overlap: no storyline of one angle.
        (CLIP + '<asset-clip ref="b" offset="20s" duration="5s"/>', 0, 40, None),
        # A title, a conformed clip: not placed here.
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
def test_what_an_angle_shows(
    items: str, start: int, duration: int, cuts: list[Shown] | None
) -> None:
    angle = ElementTree.fromstring(f"<mc-angle>{items}</mc-angle>")
    assert angle_cuts(angle, Fraction(start), Fraction(duration)) == cuts


@pytest.mark.parametrize(
    ("items", "cuts"),
    [
        # A clip of a video and its sound as a component (Final Cut's for a clip with roles
        # of its own): the video's media, from where the clip's own time shows it.
        (
            '<clip offset="10s" start="2s" duration="20s"><video ref="v" offset="1s" start="50s" '
            'duration="30s"><audio ref="v" lane="-1" offset="1s" duration="30s"/></video></clip>',
            [Shown("v", Fraction(56), 0, 5)],
        ),
        # Two assets in one clip, or a clip of a clip: not one clip's media.
        (
            '<clip offset="10s" duration="20s"><video ref="v" offset="0s" duration="30s">'
            '<audio ref="w" lane="-1" offset="0s" duration="30s"/></video></clip>',
            None,
        ),
        ('<clip offset="10s" duration="20s"><clip offset="0s" duration="20s"/></clip>', None),
    ],
    ids=["video-and-sound", "two-assets", "nested"],
)
def test_a_clip_of_one_asset_in_an_angle(items: str, cuts: list[Shown] | None) -> None:
    angle = ElementTree.fromstring(f"<mc-angle>{items}</mc-angle>")
    assert angle_cuts(angle, Fraction(15), Fraction(5)) == cuts


def test_final_cuts_multicam_of_clips_with_roles_shows_its_angle(tmp_path: Path) -> None:
    """``MulticamMarkers2.fcpxml`` (swift-fcpxml's test export, MIT licence: see
    tests/data/README.md): angle B is a ``<clip>`` of a video with its sound, after a 5.21 s
    gap; the multicam clip shows it from multicam 13.05 s, its sound the music angle's. It
    was not drawn at all (a silent black program)."""
    export = tmp_path / "MulticamMarkers2.fcpxml"
    shutil.copy(Path(__file__).parents[1] / "data" / "nle" / "fcp" / export.name, export)
    for name in ("Cam 2.mp4", "Music Track.wav"):
        (tmp_path / name).touch()  # the loader checks that media exist, it does not decode
    timeline = load(str(export))
    shown = [
        (t.kind, c.start, c.end, round(c.source_start, 4), Path(str(c.source.path)).name)
        for t in timeline.tracks
        for c in t.clips
    ]
    start = 25065040 / 1920000  # the multicam clip's start in the multicam's time
    assert shown == [
        (TrackKind.VIDEO, 0, 240, round(start - 125125 / 24000, 4), "Cam 2.mp4"),
        (TrackKind.AUDIO, 0, 240, round(start, 4), "Music Track.wav"),
    ]
    assert not [w for w in timeline.warnings if "multicam" in w]


def test_a_connected_multicam_clip_of_a_clip_with_roles_shows_its_angle(tmp_path: Path) -> None:
    """The same multicam clip connected above a gap, inside angle B's clip: it was not drawn
    (only an angle's <asset-clip> was read there)."""
    export = tmp_path / "MulticamMarkers2.fcpxml"
    text = (Path(__file__).parents[1] / "data" / "nle" / "fcp" / export.name).read_text()
    start = 'name="MC" start="25065040/1920000s"'
    spine = text[text.index("<spine>") : text.index("</spine>") + len("</spine>")]
    clip = spine[spine.index("<mc-clip") : spine.index("</mc-clip>") + len("</mc-clip>")]
    connected = clip.replace('offset="6918912000/1920000s"', 'lane="1" offset="0s"')
    gap = f'<gap offset="6918912000/1920000s" duration="19219200/1920000s">{connected}</gap>'
    export.write_text(text.replace(spine, f"<spine>{gap}</spine>"))
    assert start in connected
    for name in ("Cam 2.mp4", "Music Track.wav"):
        (tmp_path / name).touch()
    timeline = load(str(export))
    pictures = [
        (c.start, c.end, round(c.source_start, 4))
        for t in timeline.tracks
        if t.kind is TrackKind.VIDEO
        for c in t.clips
    ]
    assert pictures == [(0, 240, round(25065040 / 1920000 - 125125 / 24000, 4))]
    assert not [w for w in timeline.warnings if "multicam" in w]


CONNECTED = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="ra" name="a" start="0s" duration="10s" hasVideo="1" hasAudio="1" format="r1">
      <media-rep kind="original-media" src="a.mp4"/>
    </asset>
    <asset id="rb" name="b" start="0s" duration="10s" hasVideo="1" hasAudio="1" format="r1">
      <media-rep kind="original-media" src="b.mp4"/>
    </asset>
    <media id="rm" name="Interview">
      <multicam format="r1" tcStart="0s">
        <mc-angle name="B" angleID="B">
          <asset-clip ref="rb" offset="1s" duration="4s" start="2s"/>
          <asset-clip ref="rb" offset="5s" duration="5s" start="0s"/>
        </mc-angle>
      </multicam>
    </media>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="4s" tcStart="0s">
      <spine>
        <asset-clip name="base" ref="ra" offset="0s" duration="4s" start="0s">
          <mc-clip name="cutaway" ref="rm" lane="1" offset="1s" duration="2s" start="4s">
            <mc-source angleID="B" srcEnable="all"/>
          </mc-clip>
        </asset-clip>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def test_a_connected_multicam_clip_whose_angle_cuts_shows_each_clip(tmp_path: Path) -> None:
    """Connected above a clip, a multicam clip across its angle's cut (multicam 4 s to 6 s: b
    from 5 s, then b from 0 s) shows and plays each clip in turn; it was not drawn."""
    for name in ("a.mp4", "b.mp4"):
        (tmp_path / name).touch()
    export = tmp_path / "cut.fcpxml"
    export.write_text(CONNECTED)
    timeline = load(str(export))
    shown = {
        t.id: [(c.start, c.end, c.source_start, Path(str(c.source.path)).name) for c in t.clips]
        for t in timeline.tracks
    }
    across = [(25, 50, 5.0, "b.mp4"), (50, 75, 0.0, "b.mp4")]
    assert shown["0"] == [(0, 100, 0.0, "a.mp4")]
    assert shown["1"] == across
    assert (
        sorted(c for t, clips in shown.items() if t.startswith("sound 1") for c in clips) == across
    )
    assert not [w for w in timeline.warnings if "multicam" in w]
