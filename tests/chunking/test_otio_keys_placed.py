"""A clip's keyframes (transform, opacity) stay on the media frames the editor set them on when
the importer places the clip earlier or later than its first frame in the export: a
transition's handle lengthens it at its head, a trimmed compound clip cuts its head off. They
were timed from the placed clip's start, so the animation ran early or late by that much. Its
fades, likewise, are those of its ends as the editor placed them: a compound that shows the
clip's middle does not fade it in and out at its own cut."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import Clip, Timeline, TrackKind
from tests.media import make_video

RATE = "<rate><timebase>25</timebase><ntsc>FALSE</ntsc></rate>"
FPS = Fraction(25)


def _clip(timeline: Timeline, name: str) -> Clip:
    (clip,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips
               if c.id == name]  # fmt: skip
    return clip


def _media_frame(clip: Clip, t: int) -> Fraction:
    """The media frame the clip shows at timeline frame t."""
    return Fraction(clip.source_start) * FPS + (t - clip.start) * Fraction(clip.speed)


def _fcp7(folder: Path, transition: bool) -> Timeline:
    """Premiere's FCP 7 XML: clip A (0-25) then clip B (25-50, media frames 10-35) whose scale
    is keyed 50 % at media frame 10 and 100 % at 30; a centred 10-frame dissolve between them."""
    make_video(folder / "a.mp4", frames=60, size=(160, 90))
    keys = "".join(
        f"<keyframe><when>{w}</when><value>{v}</value></keyframe>" for w, v in ((10, 50), (30, 100))
    )
    motion = (
        "<filter><effect><name>Basic Motion</name><effectid>basic</effectid>"
        "<effectcategory>motion</effectcategory><effecttype>motion</effecttype>"
        '<mediatype>video</mediatype><parameter authoringApp="PremierePro">'
        f"<parameterid>scale</parameterid>{keys}</parameter></effect></filter>"
    )
    dissolve = (
        f"<transitionitem><start>20</start><end>30</end><alignment>center</alignment>{RATE}"
        "<effect><name>Cross Dissolve</name><effectid>Cross Dissolve</effectid>"
        "<effectcategory>Dissolve</effectcategory><effecttype>transition</effecttype>"
        "<mediatype>video</mediatype></effect></transitionitem>"
    )
    media = (
        f'<file id="f"><name>a.mp4</name><pathurl>a.mp4</pathurl>{RATE}<duration>60</duration>'
        "</file>"
    )
    path = folder / "edit.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE xmeml>\n<xmeml version="4">'
        f'<sequence id="s"><name>S</name><duration>50</duration>{RATE}<media><video><format>'
        "<samplecharacteristics><width>160</width><height>90</height></samplecharacteristics>"
        '</format><track><clipitem id="a"><name>A</name><enabled>TRUE</enabled>'
        f"<duration>60</duration>{RATE}<start>0</start><end>25</end><in>0</in><out>25</out>"
        f"{media}</clipitem>{dissolve if transition else ''}"
        '<clipitem id="b"><name>B</name><enabled>TRUE</enabled><duration>60</duration>'
        f'{RATE}<start>25</start><end>50</end><in>10</in><out>35</out><file id="f"/>{motion}'
        "</clipitem></track></video></media></sequence></xmeml>\n"
    )
    return load(str(path))


@pytest.mark.parametrize("transition", [False, True])
def test_keys_stay_on_their_media_frames_under_a_transition(
    tmp_path: Path, transition: bool
) -> None:
    """With the dissolve B starts 5 frames early (frame 20, media frame 5); its 50 % is still
    at media frame 10 and its 100 % at 30 (they were at media frames 5 and 25)."""
    clip = _clip(_fcp7(tmp_path, transition), "B")
    assert clip.start == (20 if transition else 25)
    for t in range(clip.start, clip.end):
        media = _media_frame(clip, t)
        expected = 0.5 + 0.5 * min(max((media - 10) / 20, 0), 1)
        assert clip.transform_at(t, FPS).scale_x == pytest.approx(float(expected)), t


COMPOUND = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="r2" name="av" start="0s" duration="10s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="av.mp4"/>
    </asset>
    <media id="c1" name="compound"><sequence format="r1" duration="4s"><spine>
      <asset-clip name="B" ref="r2" offset="0s" duration="4s" start="4s"><adjust-transform>
        <param name="scale"><keyframeAnimation><keyframe time="4s" value="0.5 0.5"/>
          <keyframe time="6s" value="1 1"/></keyframeAnimation></param>
      </adjust-transform></asset-clip>
    </spine></sequence></media>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="3s" tcStart="0s">
      <spine><ref-clip name="C" ref="c1" offset="0s" duration="3s" start="{start}"/></spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


@pytest.mark.parametrize("start", ["0s", "1s"])
def test_keys_of_a_clip_in_a_compound_trimmed_at_its_head(tmp_path: Path, start: str) -> None:
    """Final Cut's compound clip starting 1 s into its content: B shows from media 5 s, where its
    zoom (50 % at 4 s, 100 % at 6 s) is half way (it started over at 50 %)."""
    make_video(tmp_path / "av.mp4", frames=250, fps=25, size=(160, 90))
    path = tmp_path / "cut.fcpxml"
    path.write_text(COMPOUND.format(start=start))
    clip = _clip(load(str(path)), "B")
    for t in range(clip.start, clip.end):
        media = _media_frame(clip, t) / FPS
        expected = 0.5 + 0.5 * min(max((media - 4) / 2, 0), 1)
        assert clip.transform_at(t, FPS).scale_x == pytest.approx(float(expected)), t


FADED = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="r2" name="av" start="0s" duration="10s" hasVideo="1" hasAudio="1" format="r1">
      <media-rep kind="original-media" src="av.mp4"/>
    </asset>
    <media id="c1" name="compound"><sequence format="r1" duration="6s"><spine>
      <asset-clip name="B" ref="r2" offset="0s" duration="6s" start="0s">
        <adjust-volume amount="0dB"><param name="amount"><fadeIn type="linear" duration="2s"/>
          <fadeOut type="linear" duration="2s"/></param></adjust-volume>
      </asset-clip>
    </spine></sequence></media>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="2s" tcStart="0s">
      <spine><ref-clip name="C" ref="c1" offset="0s" duration="2s" start="{start}"/></spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


@pytest.mark.parametrize(
    ("start", "fades"),
    [
        ("0s", (2.0, 0.0)),  # its head: the whole fade in, the fade out (4-6 s) not shown
        ("4s", (0.0, 2.0)),  # its tail
        ("3s", (0.0, 1.0)),  # 3-5 s: no fade in; the fade out's first second, ending at 5 s
        ("1s", (1.0, 0.0)),  # 1-3 s: the fade in's last second
    ],
)
def test_fades_of_a_clip_in_a_trimmed_compound(
    tmp_path: Path, start: str, fades: tuple[float, float]
) -> None:
    """B (6 s) fades in over its first 2 s and out over its last 2; the compound shows 2 s of
    it. Its fades were played at the compound's cuts wherever it started: showing 3-5 s, a 2 s
    fade in from silence where B plays at full level and silence at 5 s."""
    make_video(tmp_path / "av.mp4", frames=250, fps=25, size=(160, 90), audio_hz=440)
    path = tmp_path / "cut.fcpxml"
    path.write_text(FADED.format(start=start))
    timeline = load(str(path))
    (sound,) = [c for t in timeline.tracks if t.kind is TrackKind.AUDIO for c in t.clips]
    assert (sound.start, sound.end) == (0, 50)
    assert (sound.fade_in, sound.fade_out) == pytest.approx(fades)
