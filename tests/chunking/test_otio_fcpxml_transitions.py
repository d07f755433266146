"""Where Final Cut Pro's items land: transitions (chunking.timeline.otio_fcpxml_transitions),
which the adapter dropped; connected storylines at their offset and overlapping connected
clips of one lane at their times (otio_fcpxml_nesting); disabled items left out."""

from __future__ import annotations

import wave
from fractions import Fraction
from pathlib import Path

from chunking.timeline.loader import load
from chunking.timeline.model import Timeline, TrackKind
from tests.media import make_video

CUT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="r2" name="a" start="0s" duration="20s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="a.mp4"/>
    </asset>
    <effect id="r3" name="Cross Dissolve" uid="FxPlug:4731E73A-8DAC-4113-9A30-AE85B1761265"/>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="12s" tcStart="3600s">
      <spine>
        <transition name="Cross Dissolve" offset="3600s" duration="1s">
          <filter-video ref="r3" name="Cross Dissolve"/>
        </transition>
        <asset-clip name="one" ref="r2" offset="3600s" duration="4s" start="2s">
          <spine lane="1" offset="5s">
            <asset-clip name="inset" ref="r2" offset="0s" duration="1s" start="10s"/>
          </spine>
        </asset-clip>
        <transition name="Cross Dissolve" offset="3603s" duration="2s">
          <filter-video ref="r3" name="Cross Dissolve"/>
        </transition>
        <asset-clip name="two" ref="r2" offset="3604s" duration="4s" start="12s"/>
        <asset-clip name="three" ref="r2" offset="3608s" duration="4s" start="4s"/>
        <transition name="Fade To Color" offset="3611s" duration="1s"/>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def _silence(path: Path, seconds: int) -> None:
    """A mono 8 kHz WAV of silence."""
    with wave.open(str(path), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(b"\0\0" * 8000 * seconds)


def _loaded(tmp_path: Path) -> Timeline:
    make_video(tmp_path / "a.mp4", frames=500, fps=25, size=(160, 90))
    path = tmp_path / "cut.fcpxml"
    path.write_text(CUT)
    return load(str(path))


def test_transitions_are_read_across_their_cuts(tmp_path: Path) -> None:
    """A fade in at the start, a 2 s dissolve centred a second before the cut at 4 s (from 3 s
    to 5 s: the handles of both clips), a fade out over the last second."""
    timeline = _loaded(tmp_path)
    windows = sorted((t.start, t.end) for t in timeline.transitions)
    assert windows == [(0, 25), (75, 125), (275, 300)]
    names = {c.id.rsplit(" ", 1)[-1] for t in timeline.tracks for c in t.clips}
    assert {"one", "two", "three", "inset"} <= names  # names without the carried marks
    assert not any("\u2063" in c.id for t in timeline.tracks for c in t.clips)
    dissolve = next(t for t in timeline.transitions if t.start == 75)
    assert dissolve.from_clip.endswith("one") and dissolve.to_clip.endswith("two")


def test_a_connected_storyline_starts_at_its_offset(tmp_path: Path) -> None:
    """The storyline's offset 5 s is in its parent's media time, which starts at 2 s: the inset
    plays 3 s into the program (the adapter put it at 0 s)."""
    timeline = _loaded(tmp_path)
    (inset,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips
                if c.id.endswith("inset")]  # fmt: skip
    assert (inset.start, inset.end, inset.source_start) == (75, 100, 10.0)


DISABLED = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="r2" name="a" start="0s" duration="20s" hasVideo="1" hasAudio="1" format="r1">
      <media-rep kind="original-media" src="a.mp4"/>
    </asset>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="6s" tcStart="0s">
      <spine>
        <asset-clip name="shown" ref="r2" offset="0s" duration="2s" start="0s">
          <asset-clip name="hidden cutaway" ref="r2" lane="1" offset="0s" duration="1s"
                      start="5s" enabled="0"/>
        </asset-clip>
        <asset-clip name="hidden" ref="r2" offset="2s" duration="2s" start="2s" enabled="0">
          <adjust-volume amount="-6dB"/>
          <asset-clip name="kept cutaway" ref="r2" lane="1" offset="2s" duration="1s" start="8s"/>
        </asset-clip>
        <asset-clip name="last" ref="r2" offset="4s" duration="2s" start="4s"/>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def test_disabled_items_are_neither_shown_nor_heard(tmp_path: Path) -> None:
    """A disabled spine clip leaves a gap (its connected cutaway still plays, as in Final Cut);
    a disabled connected clip is left out; neither is heard."""
    make_video(tmp_path / "a.mp4", frames=500, fps=25, size=(160, 90), audio_hz=440)
    path = tmp_path / "cut.fcpxml"
    path.write_text(DISABLED)
    timeline = load(str(path))

    def placed(kind: TrackKind) -> list[tuple[int, int]]:
        return sorted((c.start, c.end) for t in timeline.tracks if t.kind is kind for c in t.clips)

    # shown, the kept cutaway, last: nothing of the hidden clip or the hidden cutaway
    assert placed(TrackKind.VIDEO) == [(0, 50), (50, 75), (100, 150)]
    assert placed(TrackKind.AUDIO) == [(0, 50), (50, 75), (100, 150)]


STACKED = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="r2" name="a" start="0s" duration="20s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="a.mp4"/>
    </asset>
    <asset id="r3" name="music" start="0s" duration="20s" hasAudio="1">
      <media-rep kind="original-media" src="music.wav"/>
    </asset>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="8s" tcStart="0s">
      <spine>
        <asset-clip name="one" ref="r2" offset="0s" duration="4s" start="0s">
          <asset-clip name="song" ref="r3" lane="-1" offset="0s" duration="6s" start="0s"/>
        </asset-clip>
        <asset-clip name="two" ref="r2" offset="4s" duration="4s" start="10s">
          <asset-clip name="sting" ref="r3" lane="-1" offset="11s" duration="2s" start="5s"/>
        </asset-clip>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def test_overlapping_connected_clips_of_one_lane_both_play_at_their_times(tmp_path: Path) -> None:
    """The song connected to the first clip runs to 6 s; the sting connected to the second
    starts at 5 s on the same lane (Final Cut stacks them): it plays at 5 s, not after 6 s."""
    make_video(tmp_path / "a.mp4", frames=500, fps=25, size=(160, 90))
    _silence(tmp_path / "music.wav", seconds=20)
    path = tmp_path / "cut.fcpxml"
    path.write_text(STACKED)
    timeline = load(str(path))
    sound = sorted((c.start, c.end, c.source_start) for t in timeline.tracks
                   if t.kind is TrackKind.AUDIO for c in t.clips)  # fmt: skip
    assert sound == [(0, 150, 0.0), (125, 175, 5.0)]


def test_a_clip_conformed_frame_for_frame_plays_at_the_sequences_rate(tmp_path: Path) -> None:
    """23.98 fps footage in a 24 fps project (``conform-rate``) plays each of its frames once:
    0.1 % faster; one Final Cut samples (``scaleEnabled="0"``) plays at its own speed."""
    text = STACKED.replace('frameDuration="100/2500s"', 'frameDuration="100/2400s"')
    text = text.replace(
        '<asset-clip name="song" ref="r3" lane="-1" offset="0s" duration="6s" start="0s"/>',
        '<conform-rate srcFrameRate="23.98"/>',
    ).replace(
        '<asset-clip name="sting" ref="r3" lane="-1" offset="11s" duration="2s" start="5s"/>',
        '<conform-rate scaleEnabled="0" srcFrameRate="23.98"/>',
    )
    make_video(tmp_path / "a.mp4", frames=500, fps=Fraction(24000, 1001), size=(160, 90))
    path = tmp_path / "cut.fcpxml"
    path.write_text(text)
    timeline = load(str(path))
    speeds = sorted((c.start, c.speed) for t in timeline.tracks for c in t.clips)
    assert speeds == [(0, 1.001), (96, 1.0)]


def test_a_storylines_clips_are_heard_where_they_are_shown(tmp_path: Path) -> None:
    make_video(tmp_path / "a.mp4", frames=500, fps=25, size=(160, 90), audio_hz=440)
    path = tmp_path / "cut.fcpxml"
    path.write_text(
        CUT.replace('hasVideo="1" format="r1"', 'hasVideo="1" hasAudio="1" format="r1"')
    )
    timeline = load(str(path))
    (picture,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips
                  if c.id.endswith("inset")]  # fmt: skip
    (sound,) = [c for t in timeline.tracks if t.kind is TrackKind.AUDIO for c in t.clips
                if c.id.endswith("inset")]  # fmt: skip
    assert (sound.start, sound.end, sound.source_start) == (75, 100, 10.0)
    assert (picture.start, picture.end, picture.source_start) == (75, 100, 10.0)


def test_a_retimed_clips_connected_items_keep_their_place(tmp_path: Path) -> None:
    """A clip played at twice its speed from media 10 s: its own time is rewritten to media
    time, and the sting connected 1 s into it still starts 1 s into it (5 s)."""
    retimed = STACKED.replace(
        '<asset-clip name="two" ref="r2" offset="4s" duration="4s" start="10s">',
        '<asset-clip name="two" ref="r2" offset="4s" duration="4s" start="10s">'
        '<timeMap><timept time="0s" value="0s"/><timept time="20s" value="40s"/></timeMap>',
    )
    make_video(tmp_path / "a.mp4", frames=1500, fps=25, size=(160, 90))
    _silence(tmp_path / "music.wav", seconds=20)
    path = tmp_path / "cut.fcpxml"
    path.write_text(retimed)
    timeline = load(str(path))
    (two,) = [c for t in timeline.tracks for c in t.clips if c.id.endswith("two")]
    assert (two.start, two.source_start, two.speed) == (100, 20.0, 2.0)
    sound = sorted((c.start, c.end) for t in timeline.tracks if t.kind is TrackKind.AUDIO
                   for c in t.clips)  # fmt: skip
    assert sound == [(0, 150), (125, 175)]


#: Two clips joined as DaVinci Resolve's FCPXML 1.11 export writes a "Dip To Color Dissolve"
#: (FCPCafe's immersive.md quotes such an export: the effect, the transition and its colour
#: parameter are copied from it) and Final Cut's own "Fade To Color" with a colour of white.
DIPS = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.11">
  <resources>
    <format id="r0" frameDuration="1/25s" width="160" height="90"/>
    <effect name="Fade To Color" id="r2" uid="FxPlug:F779C565-486D-4633-8035-0374B4DB8F5C"/>
    <asset format="r0" start="0/1s" hasVideo="1" name="a" id="r1" duration="20s">
      <media-rep kind="original-media" src="a.mp4"/>
    </asset>
  </resources>
  <library><event name="Timeline 1 (Resolve)"><project name="Timeline 1 (Resolve)">
    <sequence format="r0" tcStart="0/1s" tcFormat="NDF" duration="12s">
      <spine>
        <clip offset="0/1s" format="r0" start="0/1s" name="one" enabled="1" duration="4s">
          <video offset="0/1s" ref="r1" start="0/1s" duration="20s"/>
        </clip>
        <transition offset="3s" name="Dip To Color Dissolve" duration="2s">
          <filter-video ref="r2" name="Transition">
            <param value="0 0 1 1" name="color" key="3"/>
          </filter-video>
        </transition>
        <clip offset="4s" format="r0" start="6s" name="two" enabled="1" duration="4s">
          <video offset="0/1s" ref="r1" start="0/1s" duration="20s"/>
        </clip>
        <transition offset="7s" name="Fade To Color" duration="2s">
          <filter-video ref="r2" name="Fade To Color">
            <param value="1 1 1" name="color" key="3"/>
          </filter-video>
        </transition>
        <clip offset="8s" format="r0" start="12s" name="three" enabled="1" duration="4s">
          <video offset="0/1s" ref="r1" start="0/1s" duration="20s"/>
        </clip>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def test_a_dip_to_colour_dips_through_its_colour_not_a_cross_dissolve(tmp_path: Path) -> None:
    """Both were drawn as cross dissolves without a word ("Fade To Color" and "Dip To Color
    Dissolve" hold "fade" and "dissolve"). Resolve's colour "0 0 1 1" is of an encoding not
    known (Resolve showed the dip black): it dips through black, with a warning naming it."""
    make_video(tmp_path / "a.mp4", frames=500, fps=25, size=(160, 90))
    (tmp_path / "dips.fcpxml").write_text(DIPS)
    timeline = load(str(tmp_path / "dips.fcpxml"))
    kinds = sorted((t.start, t.end, t.kind) for t in timeline.transitions)
    assert kinds == [(75, 125, "fade_black"), (175, 225, "fade_white")]
    dips = [w for w in timeline.warnings if "dip colour" in w]
    assert dips == [
        "track '0' transition 'Dip To Color Dissolve': its dip colour '0 0 1 1' is not read "
        "(its encoding is not known): it dips through black"
    ]
