"""Final Cut Pro's solid-colour generators (chunking/timeline/otio_fcpxml_solids.py): drawn in
their colour, in the storyline or connected, instead of left out as gaps."""

from __future__ import annotations

from pathlib import Path

from chunking.timeline.loader import load
from chunking.timeline.model import FileSource, GeneratedSource

CUSTOM = ".../Generators.localized/Solids.localized/Custom.localized/Custom.motn"


def fcpxml(tmp_path: Path, spine: str) -> str:
    """A 25 fps project of ``spine``'s items, with a Custom solid as effect r2 and a.mp4 as r3."""
    (tmp_path / "a.mp4").write_bytes(b"")  # the loader checks it exists; nothing decodes it
    path = tmp_path / "cut.fcpxml"
    path.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="320" height="180"/>
    <effect id="r2" name="Custom" uid="{CUSTOM}"/>
    <asset id="r3" name="a" start="0s" duration="10s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="a.mp4"/>
    </asset>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="4s" tcStart="0s" tcFormat="NDF">
      <spine>{spine}</spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""
    )
    return str(path)


def test_a_custom_solid_in_the_storyline_is_drawn_in_its_colour(tmp_path: Path) -> None:
    """It was a gap: black where Final Cut shows red, with a warning that it is not drawn."""
    path = fcpxml(
        tmp_path,
        """<video ref="r2" offset="0s" name="Red BG" duration="2s" start="3600s">
             <param name="Color" key="9999/10003/10004/2/113" value="1 0 0 1"/>
           </video>
           <asset-clip ref="r3" offset="2s" name="shot" start="0s" duration="2s"/>""",
    )
    timeline = load(path)
    clips = [c for t in timeline.tracks for c in t.clips]
    assert [(c.id, c.start, c.end) for c in clips] == [("Red BG", 0, 50), ("shot", 50, 100)]
    assert clips[0].source == GeneratedSource(color=(255, 0, 0, 255))
    assert isinstance(clips[1].source, FileSource)
    assert not [w for w in timeline.warnings if "not drawn" in w]


def test_a_connected_solid_is_drawn_above_and_a_cropped_one_is_left_out(tmp_path: Path) -> None:
    path = fcpxml(
        tmp_path,
        """<asset-clip ref="r3" offset="0s" name="shot" start="0s" duration="4s">
             <video ref="r2" lane="1" offset="1s" name="Blue" duration="1s" start="3600s">
               <param name="Color" key="9999/10003/10004/2/113" value="0 0 1"/>
             </video>
             <video ref="r2" lane="2" offset="2s" name="Bar" duration="1s" start="3600s">
               <param name="Color" key="9999/10003/10004/2/113" value="0 1 0 1"/>
               <adjust-crop mode="trim"><trim-rect top="80" bottom="5"/></adjust-crop>
             </video>
           </asset-clip>""",
    )
    timeline = load(path)
    drawn = {c.id: (c.start, c.end, c.source) for t in timeline.tracks for c in t.clips}
    assert drawn["Blue"] == (25, 50, GeneratedSource(color=(0, 0, 255, 255)))
    assert "Bar" not in drawn  # drawn whole, a cropped bar would cover the frame
    assert [i for i, t in enumerate(timeline.tracks) if any(c.id == "Blue" for c in t.clips)] > [
        i for i, t in enumerate(timeline.tracks) if any(c.id == "shot" for c in t.clips)
    ]
    (said,) = [w for w in timeline.warnings if "not drawn" in w]
    assert "'Bar'" in said and "'Blue'" not in said
