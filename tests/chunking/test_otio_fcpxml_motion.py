"""Final Cut Pro's keyframed ``<adjust-transform>`` (position, scale, rotation) animates the
clip's transform (its transform_keyframes), where it used to be left still with a warning."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree

import pytest

from chunking.timeline.loader import load
from chunking.timeline.model import TrackKind
from chunking.timeline.otio_fcpxml_adjust import adjustments
from tests.chunking.test_otio_fcpxml_adjust import ADJUSTED
from tests.media import make_video


def _param(name: str, *keys: str) -> str:
    return f'<param name="{name}"><keyframeAnimation>{"".join(keys)}</keyframeAnimation></param>'


def test_position_keys_in_the_clips_own_time_move_it() -> None:
    """A Ken Burns-style pan: keys at the clip's start (its media's 1 h timecode) and 2 s on."""
    position = _param(
        "position",
        '<keyframe time="3600s" value="-10 0"/>',
        '<keyframe time="3602s" value="10 5" interp="easeIn"/>',
    )
    clip = f'<asset-clip start="3600s" duration="10s"><adjust-transform scale="0.5 0.5">{position}</adjust-transform></asset-clip>'  # noqa: E501
    found = adjustments(ElementTree.fromstring(clip), 1080)
    assert found["transform"] == {"scale_x": 0.5, "scale_y": 0.5}
    assert found["transform_keyframes"] == [
        {"time": 0, "position_x": -108, "position_y": 0, "easing": "linear"},
        {"time": 2, "position_x": 108, "position_y": -54, "easing": "linear"},
    ]
    assert "notes" not in found


def test_scale_and_rotation_keyed_apart_merge_and_conform_scales_the_keys() -> None:
    keys = _param(
        "scale",
        '<keyframe time="0s" value="1 1" interp="ease"/>',
        '<keyframe time="2s" value="2 2"/>',
    ) + _param("rotation", '<keyframe time="1s" value="0"/>', '<keyframe time="2s" value="90"/>')
    clip = (
        f'<asset-clip start="0s" duration="4s"><adjust-conform type="fill"/>'
        f"<adjust-transform>{keys}</adjust-transform></asset-clip>"
    )
    found = adjustments(ElementTree.fromstring(clip), 90, ((160, 90), (120, 90)))
    keyed = found["transform_keyframes"]
    # The scale's eased way (0 to 2 s) is split by the rotation's key at 1 s: sampled.
    assert [k["time"] for k in keyed][:3] == [0, 0.125, 0.25] and keyed[-1]["time"] == 2
    assert keyed[-1]["scale_x"] == pytest.approx(2 * 4 / 3)  # under the fill's 4/3
    assert keyed[-1]["rotation"] == -90  # Final Cut turns counter-clockwise
    assert all(k["rotation"] == 0 for k in keyed if k["time"] <= 1)


def test_a_keyed_clip_loads_moving(tmp_path: Path) -> None:
    make_video(tmp_path / "av.mp4", frames=250, fps=25, size=(160, 90), audio_hz=440)
    position = _param(
        "position", '<keyframe time="0s" value="0 0"/>', '<keyframe time="2s" value="0 50"/>'
    )
    text = ADJUSTED.replace(
        '<adjust-transform position="0 25" scale="0.5 0.5"/>',
        f'<adjust-transform scale="0.5 0.5">{position}</adjust-transform>',
    )
    path = tmp_path / "cut.fcpxml"
    path.write_text(text)
    timeline = load(str(path))
    (main,) = [c for t in timeline.tracks if t.kind is TrackKind.VIDEO for c in t.clips
               if c.id.endswith("main")]  # fmt: skip
    fps = Fraction(25)
    assert main.transform_at(0, fps).position_y == 0
    assert main.transform_at(25, fps).position_y == pytest.approx(-22.5)  # half way up
    assert main.transform_at(50, fps).position_y == pytest.approx(-45)
    assert main.transform_at(50, fps).scale_x == 0.5
    assert not any("keyframes" in w for w in timeline.warnings)
