"""Keyframed transforms drawn: a clip moves, grows and turns frame by frame, and every frame is
the same whatever was drawn before it (a chunk renders like the whole)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.studio import load_project
from tests.helpers import clip, file_clip
from tests.media import make_video, project, video_track
from workers.compositor import Compositor

#: A red box a tenth of the 320x180 canvas (32x18), moving from 100 px left of the centre to
#: 100 px right of it over the clip's first second, at 10 fps.
MOVING = [
    {"time": 0, "position_x": -100},
    {"time": 1, "position_x": 100},
]


def red_box(frame: Any) -> tuple[float, float, int]:
    """The centre (x, y) and pixel count of the red pixels of a frame."""
    red = (frame[:, :, 0] > 200) & (frame[:, :, 1] < 60) & (frame[:, :, 2] < 60)
    ys, xs = np.nonzero(red)
    return float(xs.mean()) + 0.5, float(ys.mean()) + 0.5, int(red.sum())


def frames(doc: dict[str, Any], base: Path, wanted: list[int]) -> list[Any]:
    """The composited frames ``wanted``, drawn in that order by one compositor."""
    comp = Compositor(load_project(doc, str(base)))
    try:
        return [comp.frame(t) for t in wanted]
    finally:
        comp.close()


@pytest.mark.parametrize(("t", "x"), [(0, 60), (5, 160), (10, 260), (15, 260), (19, 260)])
def test_a_keyed_clip_moves_across_the_canvas(tmp_path: Path, t: int, x: float) -> None:
    box = clip("r", 0, 2, "#ff0000", transform={"scale": 0.1}, transform_keyframes=MOVING)
    doc = project([video_track("v", [box])], fps=10)
    (frame,) = frames(doc, tmp_path, [t])
    cx, cy, count = red_box(frame)
    assert (cx, cy) == pytest.approx((x, 90), abs=0.5)
    assert count == pytest.approx(32 * 18, rel=0.1)


def test_scale_and_rotation_follow_the_keys(tmp_path: Path) -> None:
    keys = [{"time": 0, "scale": 0.1}, {"time": 1, "scale": 0.3, "rotation": 90}]
    box = clip("r", 0, 2, "#ff0000", transform_keyframes=keys)
    doc = project([video_track("v", [box])], fps=10)
    first, middle, last = frames(doc, tmp_path, [0, 5, 10])
    assert red_box(first)[2] == pytest.approx(32 * 18, rel=0.1)
    assert red_box(middle)[2] == pytest.approx(64 * 36, rel=0.1)  # scale 0.2, turned 45
    # A quarter turn at scale 0.3: 96x54 stood on end, centred.
    ys, xs = np.nonzero(last[:, :, 0] > 200)
    assert (xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) == (54, 96)


def test_frames_do_not_depend_on_the_frames_drawn_before(tmp_path: Path) -> None:
    # A 15 fps video on a 30 fps timeline shows each source frame twice while the clip grows
    # and turns: a repeated source frame must still be drawn at this frame's size.
    src = make_video(tmp_path / "a.mp4", frames=30, fps=15, size=(160, 90))
    keys = [
        {"time": 0, "scale": 0.3, "position_x": -60},
        {"time": 0.5, "scale": 0.8, "rotation": 30, "easing": "ease-in-out"},
        {"time": 0.9, "scale": 0.5, "position_y": 20, "rotation": 90},
    ]
    still = clip("bg", 0, 1.2, "#204060")
    moving = file_clip("m", src, 0, 1.2, transform_keyframes=keys)
    doc = project([video_track("bg", [still]), video_track("v", [moving])], fps=30)
    order = list(range(36))
    whole = frames(doc, tmp_path, order)
    assert not np.array_equal(whole[3], whole[4])  # the same source frame, moved
    for start, end in [(4, 9), (13, 14), (15, 27), (27, 36)]:
        part = frames(doc, tmp_path, list(range(start, end)))
        for t, frame in zip(range(start, end), part, strict=True):
            assert np.array_equal(frame, whole[t]), f"frame {t} differs from [{start}, {end})"
