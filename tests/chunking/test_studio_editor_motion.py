"""A Timeline Studio clip's position keyframes (TimelineKeyframe ``{time, property:
"position.x" | "position.y" | "position.width" | "position.height" | "position.rotation" |
"position.scaleX" | "position.scaleY", value, interpolation}``) move, size and turn it as the
editor's KeyframeAnimationService.getValueAtTime computes each property (each keyed alone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.studio_editor_range import clip_to_range
from chunking.timeline.studio_editor_tracks import Parts
from tests.chunking.test_studio_editor_keyframes import key
from tests.chunking.test_studio_editor_picture import editor_clip, frames, project

SMALL = {"x": 0.5, "y": 0.5, "width": 0.2, "height": 0.2, "rotation": 0, "scaleX": 1,
         "scaleY": 1}  # fmt: skip


def red_box(frame: Any) -> tuple[float, float, int, int, int]:
    """The red pixels' centre (x, y), their count, and their box's width and height."""
    ys, xs = np.nonzero(frame[:, :, 0] > 200)
    return (float(xs.mean()) + 0.5, float(ys.mean()) + 0.5, len(xs),
            int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))  # fmt: skip


def test_position_keys_move_the_clip_and_no_warning_is_left(tmp_path: Path) -> None:
    """Was: "animation of 'position.x' (keyframes) is not rendered; the fixed values are"."""
    keys = [key(0, 0.25, prop="position.x"), key(1, 0.75, prop="position.x")]
    timeline = project(tmp_path, editor_clip("c", "red.png", position=SMALL, keyframes=keys))
    assert timeline.warnings == ()
    start, middle, end, after = (red_box(f)[:2] for f in frames(timeline, 0, 5, 10, 15))
    assert start == pytest.approx((80, 90), abs=0.5)  # a quarter of 320 across
    assert middle == pytest.approx((160, 90), abs=0.5)
    assert end == after == pytest.approx((240, 90), abs=0.5)


def test_properties_keyed_apart_each_follow_their_own_keys(tmp_path: Path) -> None:
    keys = [
        key(0, 1.0, "ease-in", prop="position.scaleX"),
        key(1, 2.0, prop="position.scaleX"),
        key(0.5, 0.5, prop="position.y"),
        key(1.5, 0.75, prop="position.y"),
    ]
    timeline = project(tmp_path, editor_clip("c", "red.png", position=SMALL, keyframes=keys))
    assert timeline.warnings == ()
    (tl_clip,) = [c for t in timeline.tracks for c in t.clips]
    # x's ease-in way is split by y's key at 0.5 s: sampled, every sample on its curve.
    for k in tl_clip.transform_keys:
        if k.time <= 1:
            assert k.transform.scale_x == pytest.approx(0.2 * (1 + k.time**2))
    half, one = frames(timeline, 5, 10)
    _, y, _, width, _ = red_box(half)
    assert width == pytest.approx(64 * 1.25, abs=1) and y == pytest.approx(90, abs=0.5)
    _, y, _, width, _ = red_box(one)
    assert width == pytest.approx(128, abs=1) and y == pytest.approx(90 + 0.125 * 180, abs=0.5)


def test_a_rotation_key_turns_the_clip(tmp_path: Path) -> None:
    keys = [key(0, 0, prop="position.rotation"), key(1, 90, prop="position.rotation")]
    wide = {**SMALL, "width": 0.4}
    timeline = project(tmp_path, editor_clip("c", "red.png", position=wide, keyframes=keys))
    first, last = frames(timeline, 0, 10)
    assert red_box(first)[3:] == (128, 36)
    assert red_box(last)[3:] == (36, 128)


def test_a_step_key_jumps_at_the_middle(tmp_path: Path) -> None:
    keys = [key(0, 0.25, "step", prop="position.x"), key(1, 0.75, prop="position.x")]
    timeline = project(tmp_path, editor_clip("c", "red.png", position=SMALL, keyframes=keys))
    xs = [red_box(f)[0] for f in frames(timeline, 0, 4, 5, 9)]
    assert xs == pytest.approx([80, 80, 240, 240], abs=0.5)


def test_an_unusable_key_is_named_and_left_out_others_still_warned(tmp_path: Path) -> None:
    keys = [
        key(0, 0.25, prop="position.x"),
        key(0.5, "left", prop="position.x"),
        key(1, 0.75, "ease", prop="position.x"),
        key(0, 3.0, prop="volume"),
    ]
    timeline = project(tmp_path, editor_clip("c", "red.png", position=SMALL, keyframes=keys))
    assert timeline.warnings == (
        "clip 'c': keyframes[1] (position.x) needs a numeric time and value (time 0.5, value "
        "'left'); left out",
        "clip 'c': keyframes[2] (position.x) interpolation 'ease' is drawn linear",
    )


def test_a_scale_past_the_transforms_range_is_kept_within_it_and_said(tmp_path: Path) -> None:
    keys = [key(0, 1, prop="position.scaleX"), key(1, 1000, prop="position.scaleX")]
    timeline = project(tmp_path, editor_clip("c", "red.png", position=SMALL, keyframes=keys))
    assert timeline.warnings == (
        "clip 'c': keyframes: width * scaleX 200 is outside 0 to 100; drawn at 100",
    )


def test_a_range_cut_moves_the_transform_keys_with_the_clips_first_frame() -> None:
    keys = [{"time": 1.0, "scale_x": 2.0, "easing": "linear"}]
    one = {"id": "c", "start_time": 0.0, "end_time": 4.0, "effects": [], "filters": [],
           "transform_keyframes": keys}  # fmt: skip
    parts = Parts(tracks=[{"id": "v", "effects": [], "filters": [], "clips": [one]}])
    (moved,) = clip_to_range(parts, 0.5, 4.0).tracks[0]["clips"]
    assert moved["transform_keyframes"] == [{"time": 0.5, "scale_x": 2.0, "easing": "linear"}]
