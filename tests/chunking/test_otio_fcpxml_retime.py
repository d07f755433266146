"""Final Cut's clips played backwards (a ``<timeMap>`` whose values run back): a whole clip
reversed at one speed (Reverse Clip) plays its span backwards; a rewind (back over part of the
clip) or a reversed compound or sync clip is refused, naming it. All played forwards with only a
warning once."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from chunking.timeline.loader import load
from chunking.timeline.otio_fcpxml import fcpxml_amended
from common.errors import ValidationError
from tests.media import make_video

DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="320" height="180"/>
    <asset id="r2" name="a" start="0s" duration="20s" hasVideo="1" format="r1">
      <media-rep kind="original-media" src="{media}"/>
    </asset>
    <media id="r3" name="Compound">
      <sequence format="r1" duration="2s" tcStart="0s"><spine>{compound}</spine></sequence>
    </media>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="6s" tcStart="0s">
      <spine>
        <asset-clip name="first" ref="r2" offset="0s" duration="2s" start="0s"/>
        {item}
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def clip(name: str, points: str, extra: str = "") -> str:
    """A 2 s asset-clip at 2 s whose timeMap holds ``points`` ((time, value) in seconds)."""
    pairs = [p.split(":") for p in points.split()]
    timepts = "".join(f'<timept time="{t}s" value="{v}s" interp="smooth2"/>' for t, v in pairs)
    return (
        f'<asset-clip name="{name}" ref="r2" offset="2s" duration="2s" start="0s"{extra}>'
        f"<timeMap>{timepts}</timeMap></asset-clip>"
    )


def written(tmp_path: Path, item: str, compound: str = "", media: str = "") -> Path:
    """DOCUMENT with ``item`` after its first clip and ``compound`` in its unused media."""
    path = tmp_path / "cut.fcpxml"
    text = DOCUMENT.format(media=media or "file:///Volumes/Media/a.mp4", item=item,
                           compound=compound or '<gap offset="0s" duration="2s"/>')  # fmt: skip
    path.write_text(text)
    return path


@pytest.mark.parametrize(("points", "span", "speed"), [("0:2 2:0", 0, 1), ("0:3 2:2", 2, 0.5)])
def test_a_reversed_clip_plays_its_span_backwards(
    tmp_path: Path, points: str, span: float, speed: float
) -> None:
    """Final Cut's Reverse Clip (media 2 s to 0 s over the clip's 2 s) loaded and played
    forwards at 100 %, then was refused; it now plays media [0 s, 2 s) backwards (at half
    speed, [2 s, 3 s))."""
    make_video(tmp_path / "a.mp4", frames=500, fps=25, size=(320, 180))
    path = written(tmp_path, clip("backwards", points), media=(tmp_path / "a.mp4").as_uri())
    tl = load(str(path))
    back = [c for t in tl.tracks for c in t.clips if c.id.endswith("backwards")]
    assert back and all(c.reverse and c.speed == speed for c in back)
    assert all(c.source_start == pytest.approx(span) for c in back)
    assert all((c.start, c.end) == (50, 100) for c in back)
    # The same clip played forwards at half speed plays forwards.
    path = written(tmp_path, clip("backwards", "0:0 2:1"), media=(tmp_path / "a.mp4").as_uri())
    slow = [c for t in load(str(path)).tracks for c in t.clips if c.id.endswith("backwards")]
    assert slow and all(c.speed == 0.5 and not c.reverse for c in slow)


@pytest.mark.parametrize(
    ("points", "speed"), [("0:0 2:20", 10), ("0:0 2:0.2", 0.1), ("0:0 2:6", 3)]
)
def test_the_editors_whole_speed_range_plays_with_its_pitch_kept(
    tmp_path: Path, points: str, speed: float
) -> None:
    """A time-lapse at 10x or a slow motion at 0.1x (Timeline Studio's own range) plays at its
    speed, its pitch kept (Final Cut's default) by shifts the renderer takes (0.25 to 4 each:
    two in a row beyond); both were played at 100 % with a warning."""
    make_video(tmp_path / "a.mp4", frames=500, fps=25, size=(320, 180))
    path = written(tmp_path, clip("retimed", points), media=(tmp_path / "a.mp4").as_uri())
    tl = load(str(path))
    (retimed,) = [c for t in tl.tracks for c in t.clips if c.id.endswith("retimed")]
    assert retimed.speed == pytest.approx(speed)
    assert (retimed.start, retimed.end) == (50, 100)
    ratios = [e.params["ratio"] for e in retimed.effects if e.kind == "audiopitch"]
    assert all(0.25 <= r <= 4 for r in ratios)
    assert math.prod(ratios) == pytest.approx(1 / speed)
    assert not tl.warnings


#: A sync clip played backwards around a clip played forwards.
SYNC = (
    '<sync-clip name="synced" offset="2s" duration="2s" start="0s">'
    + clip("inner", "0:0 2:2").replace('offset="2s"', 'offset="0s"')
    + '<timeMap><timept time="0s" value="2s"/><timept time="2s" value="0s"/></timeMap></sync-clip>'
)


@pytest.mark.parametrize(
    ("points", "speed", "said"), [("0:0 2:24", 10, "12x"), ("0:0 2:0.1", 0.1, "0.05x")]
)
def test_a_speed_past_the_range_plays_at_its_nearest_end_with_a_warning(
    tmp_path: Path, points: str, speed: float, said: str
) -> None:
    """A 12x time-lapse or a 5 % slow motion played at 100 % ("play at their own speed"),
    unlike the same retime in an OTIO, AAF or EDL export (otio_place: 10x or 0.1x)."""
    make_video(tmp_path / "a.mp4", frames=500, fps=25, size=(320, 180))
    path = written(tmp_path, clip("retimed", points), media=(tmp_path / "a.mp4").as_uri())
    tl = load(str(path))
    (retimed,) = [c for t in tl.tracks for c in t.clips if c.id.endswith("retimed")]
    assert (retimed.speed, retimed.source_start, retimed.start, retimed.end) == (
        pytest.approx(speed), 0, 50, 100)  # fmt: skip
    ratios = [e.params["ratio"] for e in retimed.effects if e.kind == "audiopitch"]
    assert math.prod(ratios) == pytest.approx(1 / speed)  # the pitch of the speed played
    (warning,) = tl.warnings
    assert f"'retimed' at 2s ({said}) play at the nearest speed of 0.1x to 10x" in warning


@pytest.mark.parametrize(
    ("item", "refused"),
    [
        (clip("ahead", "0:0 2:1"), False),  # 50 %
        (clip("held", "0:1 2:1"), False),  # a freeze frame
        (clip("ramp", "0:0 1:1 2:3"), False),  # a ramp: a warning, not a refusal
        (clip("rewind", "0:0 1:2 1.5:1 2:2"), True),  # Final Cut's Rewind: back in the middle
        (clip("back", "0:2 2:0"), False),  # Reverse Clip: played backwards
        (clip("fast back", "0:9 2:0"), False),  # backwards at 4.5x: within 0.1x to 10x
        (clip("too fast", "0:22 2:0"), False),  # backwards at 11x: played at 10x
        (clip("unordered", "2:0 0:2"), True),  # points in any order: time decides
        (clip("off", "0:2 2:0", ' enabled="0"'), False),  # disabled: not played
        (
            f'<audition offset="2s">{clip("pick", "0:0 2:1")}{clip("alt", "0:2 2:0")}</audition>',
            False,
        ),  # only the first clip of an audition plays  # fmt: skip
        (f'<audition offset="2s">{clip("pick", "0:2 0.5:1.5 2:0")}</audition>', True),
        (SYNC, True),  # a reversed sync clip: its timeMap went with its flattening, unchecked
        (
            '<ref-clip ref="r3" offset="2s" name="Compound" duration="2s"><timeMap>'
            '<timept time="0s" value="2s"/><timept time="2s" value="0s"/></timeMap></ref-clip>',
            True,
        ),  # a compound played backwards: its own items' order would run back too
    ],
)
def test_only_clips_played_backwards_are_refused(tmp_path: Path, item: str, refused: bool) -> None:
    path = written(tmp_path, item)
    if refused:
        with pytest.raises(ValidationError, match="reverse playback"):
            fcpxml_amended(str(path))
    else:
        fcpxml_amended(str(path))


def test_a_reversed_clip_in_a_compound_is_refused_only_where_it_is_used(tmp_path: Path) -> None:
    """A compound clip's media is played where a ``<ref-clip>`` shows it; unused, it is not."""
    inside = clip("inside", "0:0 1:2 2:0").replace('offset="2s"', 'offset="0s"')
    fcpxml_amended(str(written(tmp_path, "", compound=inside)))
    used = '<ref-clip ref="r3" offset="2s" name="Compound" duration="2s"/>'
    with pytest.raises(ValidationError, match=r"asset-clip 'inside'.*reverse playback"):
        fcpxml_amended(str(written(tmp_path, used, compound=inside)))
