"""Final Cut Pro's clip adjustments (chunking.timeline.otio_fcpxml_adjust): level, fades,
opacity and transform reach the rendered clips; what is left out is named once."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import Clip, Timeline, TrackKind
from chunking.timeline.otio_fcpxml_adjust import adjustments, combined
from tests.media import make_video


def _adjusted(children: str, height: int | None = 1080) -> dict[str, Any]:
    return adjustments(ElementTree.fromstring(f"<asset-clip>{children}</asset-clip>"), height)


@pytest.mark.parametrize(
    ("children", "expected"),
    [
        ('<adjust-volume amount="-6dB"/>', {"gain": pytest.approx(10 ** (-6 / 20))}),
        ('<adjust-volume amount="+3.5 dB"/>', {"gain": pytest.approx(10 ** (3.5 / 20))}),
        ('<adjust-volume amount="0dB"/>', {}),
        (
            '<adjust-volume><param name="amount"><fadeIn type="easeIn" duration="1/2s"/>'
            '<fadeOut type="easeOut" duration="3003/1000s"/></param></adjust-volume>',
            {"fade_in": 0.5, "fade_out": 3.003},
        ),
        ('<adjust-panner amount="-100"/>', {"pan": -1.0}),
        ('<adjust-panner mode="stereo left/right" amount="50"/>', {"pan": 0.5}),
        ('<adjust-panner amount="0"/>', {}),
        ('<adjust-blend amount="0.25"/>', {"opacity": 0.25}),
        ('<adjust-blend amount="1"/>', {}),
        # Position: percent of the frame height from the centre, up; pixels down here.
        ('<adjust-transform position="10 -5"/>', {"transform": {"position_x": 108.0,
                                                                "position_y": 54.0}}),
        ('<adjust-transform scale="0.5 0.25"/>', {"transform": {"scale_x": 0.5,
                                                                "scale_y": 0.25}}),
        ('<adjust-transform rotation="30"/>', {"transform": {"rotation": -30.0}}),
        ('<adjust-transform position="0 0" scale="1 1" rotation="0" anchor="0 0"/>', {}),
        ('<adjust-colorConform enabled="1"/><adjust-conform type="fit"/>', {}),
    ],
)  # fmt: skip
def test_each_adjustment_reads_as_the_renderer_means_it(
    children: str, expected: dict[str, Any]
) -> None:
    assert _adjusted(children) == expected


@pytest.mark.parametrize(
    ("children", "part", "says"),
    [
        ('<adjust-volume amount="loud"/>', "sound", "'loud' is not a level in dB"),
        (
            '<adjust-volume amount="-3dB"><param name="amount"><keyframeAnimation>'
            '<keyframe time="0s" value="-3dB"/></keyframeAnimation></param></adjust-volume>',
            "sound",
            "volume keyframes",
        ),
        ('<adjust-panner mode="Create Space" amount="30"/>', "sound", "panning is not rendered"),
        ('<adjust-panner amount="300"/>', "sound", "'300' is not -100 to 100"),
        ('<adjust-blend amount="1.5"/>', "picture", "'1.5' is not 0 to 1"),
        ('<adjust-blend amount="0.5" mode="Screen"/>', "picture", "'Screen' is rendered as"),
        ('<adjust-transform scale="-1 1"/>', "picture", "mirroring"),
        ('<adjust-transform position="1 nan"/>', "picture", "malformed"),
        ('<adjust-transform rotation="1e9"/>', "picture", "rotation '1e9'"),
        ('<adjust-transform anchor="5 5"/>', "picture", "anchor point '5 5'"),
        (
            '<adjust-transform><param name="anchor"><keyframeAnimation/></param>'
            "</adjust-transform>",
            "picture",
            "'anchor' keyframes are not rendered",
        ),
        (
            '<adjust-transform><param name="position"><keyframeAnimation><keyframe time="0s" '
            'value="left"/></keyframeAnimation></param></adjust-transform>',
            "picture",
            "its position keyframe '0s' 'left' is unreadable",
        ),
        ('<adjust-crop mode="trim"><trim-rect left="10"/></adjust-crop>', "picture", "crop"),
    ],
)
def test_what_is_left_out_is_noted_for_the_part_it_concerns(
    children: str, part: str, says: str
) -> None:
    notes = _adjusted(children)["notes"]
    assert len(notes) == 1
    assert notes[0][0] == part and says in notes[0][1]


def test_a_position_without_a_known_frame_height_is_left_out_with_a_note() -> None:
    found = _adjusted('<adjust-transform position="10 10" scale="2 2"/>', height=None)
    assert found["transform"] == {"scale_x": 2.0, "scale_y": 2.0}
    assert "frame height is unknown" in found["notes"][0][1]


def test_a_sync_clips_adjustments_combine_with_its_items() -> None:
    outer = {"gain": 0.5, "transform": {"rotation": 5.0}, "notes": [["sound", "a"]]}
    inner = {"gain": 0.5, "opacity": 0.5, "transform": {"scale_x": 2.0}}
    both = combined(outer, inner)
    assert both["gain"] == 0.25 and both["opacity"] == 0.5
    assert both["transform"] == {"scale_x": 2.0}  # the item's own wins
    assert both["notes"] == [["sound", "a"], ["picture", "its sync clip's transform is left out"]]
    assert combined({"fade_in": 1.0}, {}) == {"fade_in": 1.0}


ADJUSTED = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE fcpxml>
<fcpxml version="1.10">
  <resources>
    <format id="r1" frameDuration="100/2500s" width="160" height="90"/>
    <asset id="r2" name="av" start="0s" duration="10s" hasVideo="1" hasAudio="1" format="r1">
      <media-rep kind="original-media" src="av.mp4"/>
    </asset>
  </resources>
  <library><event name="e"><project name="p">
    <sequence format="r1" duration="6s" tcStart="0s">
      <spine>
        <asset-clip name="main" ref="r2" offset="0s" duration="3s" start="0s">
          <adjust-transform position="0 25" scale="0.5 0.5"/>
          <adjust-panner amount="-50"/>
          <adjust-volume amount="-6dB">
            <param name="amount"><fadeIn type="easeIn" duration="1/2s"/></param>
          </adjust-volume>
          <asset-clip name="over" ref="r2" lane="1" offset="0s" duration="2s" start="4s">
            <adjust-blend amount="0.5" mode="Multiply"/>
          </asset-clip>
        </asset-clip>
        <sync-clip name="synced" offset="3s" duration="3s" start="0s">
          <adjust-volume amount="-6dB"/>
          <asset-clip name="take" ref="r2" offset="0s" duration="5s" start="2s">
            <adjust-volume amount="-6dB"/>
            <adjust-crop mode="trim"><trim-rect left="10"/></adjust-crop>
          </asset-clip>
        </sync-clip>
      </spine>
    </sequence>
  </project></event></library>
</fcpxml>
"""


def _clips(timeline: Timeline, kind: TrackKind) -> dict[str, Clip]:
    return {c.id.rsplit(" ", 1)[-1]: c for t in timeline.tracks if t.kind is kind for c in t.clips}


@pytest.fixture
def adjusted(tmp_path: Path) -> Timeline:
    make_video(tmp_path / "av.mp4", frames=250, fps=25, size=(160, 90), audio_hz=440)
    path = tmp_path / "cut.fcpxml"
    path.write_text(ADJUSTED)
    return load(str(path))


def test_an_exports_adjustments_reach_its_picture_and_its_sound(adjusted: Timeline) -> None:
    picture, sound = _clips(adjusted, TrackKind.VIDEO), _clips(adjusted, TrackKind.AUDIO)
    assert set(picture) == {"main", "over", "take"}  # names without the carried marks
    main = picture["main"].transform
    assert (main.scale_x, main.scale_y, main.position_x, main.position_y) == (0.5, 0.5, 0, -22.5)
    assert picture["over"].opacity == 0.5
    assert sound["main"].volume == pytest.approx(10 ** (-6 / 20))
    assert sound["main"].fade_in == 0.5
    assert [(e.kind, dict(e.params)) for e in sound["main"].effects] == [
        ("audiopan", {"pan": -0.5})
    ]
    # The sync clip's -6 dB and its take's own -6 dB: -12 dB on the take's sound.
    assert sound["take"].volume == pytest.approx(10 ** (-12 / 20))
    assert sound["take"].transform.is_identity()
    # Each left-out adjustment is named once, for the picture it concerns.
    assert sorted(adjusted.warnings) == [
        "clip '0#1 take': its crop is not rendered",
        "clip '1#0 over': its blend mode 'Multiply' is rendered as normal",
    ]


def test_a_transform_moves_the_rendered_picture(adjusted: Timeline) -> None:
    """Half size, raised by a quarter of the frame height: at 2.2 s (past the overlay) the
    picture fills the top half's middle (rows 0 to 45, columns 40 to 120), black around."""
    from workers.compositor import Compositor

    compositor = Compositor(adjusted)
    try:
        compositor.open_range(55, 56)
        frame = compositor.frame(55).astype(int)
    finally:
        compositor.close()
    assert frame.shape == (90, 160, 3)
    inside, below, beside = frame[5:40, 45:115], frame[50:, :], frame[:, :35]
    assert inside.min() > 0 and inside.mean() > 20  # make_video's level(55) and its bar
    assert below.max() == 0 and beside.max() == 0


FRAME, SQUARE = (160, 90), (120, 90)


@pytest.mark.parametrize(
    ("children", "sizes", "expected"),
    [
        ('<adjust-conform type="fit"/>', (FRAME, SQUARE), {}),
        # fill: 4:3 in 16:9 covers the width (160x120, top and bottom cropped)
        ('<adjust-conform type="fill"/>', (FRAME, SQUARE), {"scale": 4 / 3}),
        # none: the media's own pixels (a 320x180 picture, fitted at half its size, doubles)
        ('<adjust-conform type="none"/>', (FRAME, (320, 180)), {"scale": 2.0}),
        # under the clip's own scale
        ('<adjust-conform type="fill"/><adjust-transform scale="0.5 0.5"/>', (FRAME, SQUARE),
         {"scale": 2 / 3}),
    ],
)  # fmt: skip
def test_a_spatial_conform_scales_the_fitted_picture(
    children: str, sizes: Any, expected: dict[str, float]
) -> None:
    item = ElementTree.fromstring(f"<asset-clip>{children}</asset-clip>")
    transform = adjustments(item, 90, sizes).get("transform", {})
    scale = expected.get("scale")
    assert transform == ({} if scale is None else {"scale_x": scale, "scale_y": scale})


@pytest.mark.parametrize(
    ("conform", "sizes", "note"),
    [
        ("fill", (FRAME, None), "its spatial conform 'fill' is fitted: its size is unknown"),
        ("stretch", (FRAME, SQUARE), "its spatial conform 'stretch' is not known: fitted"),
    ],
)
def test_a_spatial_conform_that_cannot_be_drawn_is_noted(
    conform: str, sizes: Any, note: str
) -> None:
    item = ElementTree.fromstring(f'<asset-clip><adjust-conform type="{conform}"/></asset-clip>')
    found = adjustments(item, 90, sizes)
    assert "transform" not in found and found["notes"][0][1].startswith(note)


def test_a_filled_clip_covers_the_rendered_frame(tmp_path: Path) -> None:
    """A 4:3 picture set to Fill in a 16:9 project reaches both edges (fit leaves bars)."""
    from workers.compositor import Compositor

    make_video(tmp_path / "sq.mp4", frames=25, fps=25, size=SQUARE)
    text = (
        ADJUSTED.replace(
            '<format id="r1"', '<format id="r3" width="120" height="90"/><format id="r1"'
        )
        .replace('hasAudio="1" format="r1"', 'hasAudio="1" format="r3"')
        .replace("av.mp4", "sq.mp4")
    )
    spine = text[text.index("<spine>") : text.index("</spine>") + len("</spine>")]
    filled = (
        '<spine><asset-clip name="sq" ref="r2" offset="0s" duration="1s" start="0s">'
        '<adjust-conform type="fill"/></asset-clip></spine>'
    )
    path = tmp_path / "cut.fcpxml"
    path.write_text(text.replace(spine, filled))
    compositor = Compositor(load(str(path)))
    try:
        compositor.open_range(10, 11)
        frame = compositor.frame(10).astype(int)
    finally:
        compositor.close()
    assert frame[:, :10].max() > 0 and frame[:, -10:].max() > 0


def _keyed(start: str, *keys: tuple[str, str]) -> str:
    frames = "".join(f'<keyframe time="{t}" value="{v}"/>' for t, v in keys)
    return (
        f'<asset-clip start="{start}" duration="10s"><adjust-volume><param name="amount">'
        f"<keyframeAnimation>{frames}</keyframeAnimation></param></adjust-volume></asset-clip>"
    )


@pytest.mark.parametrize(
    ("clip", "expected"),
    [
        # A music bed keyed down to -20 dB (no amount once keyed) played at 0 dB.
        (_keyed("3600s", ("3600s", "-20dB"), ("3610s", "-20dB")), {"gain": pytest.approx(0.1)}),
        # Keys in the clip's own time (its start is the media's 1 h timecode): a 1 s fade in.
        (_keyed("3600s", ("3600s", "-96dB"), ("3601s", "0dB")), {"fade_in": pytest.approx(1)}),
        # In and out around -6 dB, the keys counted from the clip's start.
        (
            _keyed("0s", ("0s", "-96dB"), ("1/2s", "-6dB"), ("9s", "-6dB"), ("10s", "-96dB")),
            {"gain": pytest.approx(10 ** (-6 / 20)), "fade_in": pytest.approx(0.5),
             "fade_out": pytest.approx(1)},
        ),
    ],
)  # fmt: skip
def test_volume_keyframes_that_draw_a_level_and_fades_are_rendered_as_such(
    clip: str, expected: dict[str, Any]
) -> None:
    assert adjustments(ElementTree.fromstring(clip), 1080) == expected


@pytest.mark.parametrize("start", ["0s", "3600s"])
def test_volume_keyframes_of_another_shape_are_the_clips_envelope_in_db(start: str) -> None:
    """A dip to -20 dB and back in a 10 s clip: was played at its average level with a note,
    now as keys interpolated in dB (as Final Cut draws them), counted from the clip's start."""
    at = float(start[:-1])
    times = [f"{at + t:g}s" for t in (0, 4, 5, 6)]
    dip = _keyed(start, *zip(times, ("0dB", "0dB", "-20dB", "0dB"), strict=True))
    found = adjustments(ElementTree.fromstring(dip), 1080)
    assert "gain" not in found and "notes" not in found
    assert found["volume_keyframes"] == [
        {"time": 0.0, "volume": 1.0, "interpolation": "db"},
        {"time": 4.0, "volume": 1.0, "interpolation": "db"},
        {"time": 5.0, "volume": pytest.approx(0.1), "interpolation": "db"},
        {"time": 6.0, "volume": 1.0, "interpolation": "db"},
    ]


def test_a_keyed_clips_level_and_fade_reach_its_sound(tmp_path: Path) -> None:
    make_video(tmp_path / "av.mp4", frames=250, fps=25, size=(160, 90), audio_hz=440)
    keyed = (
        '<adjust-volume><param name="amount"><keyframeAnimation>'
        '<keyframe time="0s" value="-96dB"/><keyframe time="1s" value="-12dB"/>'
        '<keyframe time="3s" value="-12dB"/></keyframeAnimation></param></adjust-volume>'
    )
    text = ADJUSTED.replace(
        '<adjust-volume amount="-6dB">\n'
        '            <param name="amount"><fadeIn type="easeIn" duration="1/2s"/></param>\n'
        "          </adjust-volume>",
        keyed,
    )
    assert keyed in text
    path = tmp_path / "cut.fcpxml"
    path.write_text(text)
    main = _clips(load(str(path)), TrackKind.AUDIO)["main"]
    assert main.volume == pytest.approx(10 ** (-12 / 20)) and main.fade_in == pytest.approx(1)


def test_a_keyed_dip_reaches_the_clips_volume_envelope(tmp_path: Path) -> None:
    """Was: the clip played at the dip's average level throughout, with a note."""
    make_video(tmp_path / "av.mp4", frames=250, fps=25, size=(160, 90), audio_hz=440)
    keyed = (
        '<adjust-volume><param name="amount"><keyframeAnimation>'
        '<keyframe time="0s" value="0dB"/><keyframe time="1s" value="-20dB"/>'
        '<keyframe time="2s" value="0dB"/></keyframeAnimation></param></adjust-volume>'
    )
    text = ADJUSTED.replace(
        '<adjust-volume amount="-6dB">\n'
        '            <param name="amount"><fadeIn type="easeIn" duration="1/2s"/></param>\n'
        "          </adjust-volume>",
        keyed,
    )
    assert keyed in text
    path = tmp_path / "cut.fcpxml"
    path.write_text(text)
    timeline = load(str(path))
    main = _clips(timeline, TrackKind.AUDIO)["main"]
    assert main.volume == 1 and (main.fade_in, main.fade_out) == (0, 0)
    assert [(k.time, k.interpolation) for k in main.volume_keys] == [
        (0, "db"),
        (1, "db"),
        (2, "db"),
    ]
    assert [k.volume for k in main.volume_keys] == pytest.approx([1, 0.1, 1])
    assert not any("volume keyframes" in w for w in timeline.warnings)
