"""Picture fades (Clip.picture_fade_in/out): a clip's opacity ramps from 0 on its first frame to
its own after the fade-in, and back to 0 on its last frame over the fade-out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from chunking.timeline.studio import load_project
from tests.helpers import clip, file_clip
from tests.media import make_image, project, video_track
from workers.compositor import Compositor


def render(doc: dict[str, Any], frames: list[int], base: Path | str = ".") -> list[np.ndarray]:
    comp = Compositor(load_project(doc, str(base)))
    try:
        return [comp.frame(t) for t in frames]
    finally:
        comp.close()


def centre(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return img[h // 2, w // 2].astype(int)


def test_a_flat_clip_fades_in_and_out_over_black() -> None:
    # 10 fps, 2 s: the fade-in spans frames 0..10, the fade-out frames 15..19 (the last).
    fading = clip("red", 0, 2, "#ff0000", picture_fade_in=1.0, picture_fade_out=0.5)
    doc = project([video_track("v", [fading])], fps=10, size=(32, 18))
    frames = [0, 5, 10, 12, 17, 19]
    reds = [int(centre(img)[0]) for img in render(doc, frames)]
    # first frame black, mid-fade half, after the fade full; 2/5 of the way down, then black
    assert reds[0] == 0
    assert abs(reds[1] - 127.5) <= 0.5
    assert reds[2:4] == [255, 255]
    assert abs(reds[4] - 0.4 * 255) <= 0.5
    assert reds[5] == 0


def test_a_fade_scales_the_clips_own_opacity() -> None:
    fading = clip("red", 0, 2, "#ff0000", opacity=0.5, picture_fade_in=1.0)
    doc = project([video_track("v", [fading])], fps=10, size=(32, 18))
    reds = [int(centre(img)[0]) for img in render(doc, [5, 15])]
    assert abs(reds[0] - 0.25 * 255) <= 0.5
    assert abs(reds[1] - 0.5 * 255) <= 0.5


def test_a_fading_opaque_colour_does_not_hide_what_lies_under_it() -> None:
    # An opaque full-canvas colour is the canvas (nothing below is blended) unless it fades.
    doc = project(
        [
            video_track("bg", [clip("blue", 0, 2, "#0000ff")]),
            video_track("fg", [clip("red", 0, 2, "#ff0000", picture_fade_in=1.0)]),
        ],
        fps=10,
        size=(32, 18),
    )
    first, half, full = (centre(img) for img in render(doc, [0, 5, 10]))
    assert first.tolist() == [0, 0, 255]
    assert np.abs(half - [127.5, 0, 127.5]).max() <= 0.5
    assert full.tolist() == [255, 0, 0]


def test_a_still_image_fades_every_frame_from_its_kept_layer(tmp_path: Path) -> None:
    # A still's layer is built once and kept; the fade must dim each frame anew, and the kept
    # layer must stay undimmed (rendered in order, a dimmed keeper would compound).
    png = make_image(tmp_path / "g.png", (32, 18), (0, 200, 0, 255))
    doc = project(
        [video_track("v", [file_clip("g", png, 0, 2, picture_fade_in=1.0, picture_fade_out=1.0)])],
        fps=10,
        size=(32, 18),
    )
    greens = [int(centre(img)[1]) for img in render(doc, list(range(20)), tmp_path)]
    expected = [200 * min(t / 10, (19 - t) / 10, 1) for t in range(20)]
    assert max(abs(g - e) for g, e in zip(greens, expected, strict=True)) <= 0.5
    assert greens[0] == greens[19] == 0 and greens[10] == 200 - 20


def test_a_clip_without_fades_draws_as_before() -> None:
    doc = project([video_track("v", [clip("red", 0, 1, "#ff0000")])], fps=10, size=(32, 18))
    assert all(centre(img).tolist() == [255, 0, 0] for img in render(doc, [0, 9]))
