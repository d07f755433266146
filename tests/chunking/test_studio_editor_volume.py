"""A Timeline Studio clip's volume keyframes (TimelineKeyframe ``{time, property: "volume",
value, interpolation}`` in its ``keyframes``, KeyframeAnimationService in src/features/timeline/
services/keyframe-animation-service.ts) set its level and sound fades. Timeline Studio by
Chatman Media, MIT with Commons Clause."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.model import VolumeKey
from tests.chunking.test_studio_editor_speed import timeline_project


def volume(*keys: tuple[Any, Any]) -> list[dict[str, Any]]:
    """Volume keyframes at (time, value)."""
    return [{"id": f"k{n}", "time": t, "property": "volume", "value": v,
             "interpolation": "linear"} for n, (t, v) in enumerate(keys)]  # fmt: skip


@pytest.mark.parametrize(
    ("keys", "level", "fades"),
    [
        ([(0, 0.4)], 0.4, (0.0, 0.0)),  # one key: that level throughout
        ([(0, 0), (0.5, 0.8), (2, 0.8)], 0.8, (0.5, 0.0)),  # a rise from silence
        ([(0, 0.6), (1.5, 0.6), (2, 0)], 0.6, (0.0, 0.5)),  # a fall to silence at the end
        ([(-1, 0.3), (5, 0.3)], 0.3, (0.0, 0.0)),  # keys beyond a trimmed clip's edges
    ],
)
def test_volume_keys_set_the_level_and_fades(
    tmp_path: Path, keys: list[tuple[float, float]], level: float, fades: tuple[float, float]
) -> None:
    """Was: "animation of 'volume' (keyframes) is not rendered; the fixed values are": the clip
    played at its volume 1 however the user had keyed it down."""
    timeline = timeline_project(tmp_path, keyframes=volume(*keys))
    clip = timeline.clip("c")
    assert clip.volume == pytest.approx(level)
    assert (clip.fade_in, clip.fade_out) == pytest.approx(fades)
    assert timeline.warnings == ()


def test_a_dip_in_the_middle_is_the_clips_volume_envelope(tmp_path: Path) -> None:
    """Was: played at the keys' average level (0.6) throughout, with a warning."""
    timeline = timeline_project(tmp_path, volume=0.5, keyframes=volume((0, 1), (1, 0.2), (2, 1)))
    clip = timeline.clip("c")
    assert clip.volume == 1.0  # the keys replace the fixed level
    assert clip.volume_keys == (VolumeKey(0, 1), VolumeKey(1, 0.2), VolumeKey(2, 1))
    assert (clip.fade_in, clip.fade_out) == (0, 0)
    assert timeline.warnings == ()


def test_unusable_volume_keys_are_named_and_left_out(tmp_path: Path) -> None:
    keys = [*volume((0, 0.5), (1, 20)), {"time": "x", "property": "volume", "value": 1}]
    timeline = timeline_project(tmp_path, keyframes=keys)
    assert timeline.warnings == (
        "clip 'c': keyframes[1] (volume) value 20 is outside 0 to 10; played at 10",
        "clip 'c': keyframes[2] (volume) needs a numeric time and value (time 'x', value 1); "
        "left out",
    )
    assert timeline.clip("c").volume_keys == (VolumeKey(0, 0.5), VolumeKey(1, 10))


def test_a_keyframe_whose_property_is_no_name_is_named_not_a_traceback(tmp_path: Path) -> None:
    """Was: TypeError: unhashable type: 'list' (the drawn properties' set looked it up)."""
    keys = [{"time": 0, "property": ["volume"], "value": 1, "interpolation": "linear"}]
    timeline = timeline_project(tmp_path, keyframes=keys)
    assert timeline.warnings == (
        "clip 'c': animation of \"['volume']\" (keyframes) is not rendered; the fixed values are",
    )


def test_a_volume_key_interpolation_played_linear_is_named(tmp_path: Path) -> None:
    """Was silent: an eased or stepped dip sounded as a linear one with no word."""
    keys = volume((0, 1), (1, 0.2), (2, 1))
    keys[0]["interpolation"] = "step"
    timeline = timeline_project(tmp_path, keyframes=keys)
    assert timeline.warnings == (
        "clip 'c': keyframes[0] (volume) interpolation 'step' is played linear",
    )
