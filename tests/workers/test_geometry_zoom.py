"""Clips zoomed far past the canvas (scale up to 100): only what shows is resampled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from chunking import memory
from chunking.timeline.studio import load_project
from tests.helpers import clip, file_clip
from tests.media import make_video, project, video_track
from workers.compositor import Compositor


def render(doc: dict[str, Any], frames: list[int], base: Path) -> list[np.ndarray]:
    comp = Compositor(load_project(doc, str(base)))
    try:
        return [comp.frame(t) for t in frames]
    finally:
        comp.close()


def zoomed_doc(src: Path, scale: float, **transform: float) -> dict[str, Any]:
    moved = {"scale_x": scale, "scale_y": scale, **transform}
    return project(
        [
            video_track("bg", [clip("bg", 0, 0.2, "#336699")]),
            video_track("v", [file_clip("z", src, 0, 0.2, transform=moved)]),
        ]
    )


@pytest.mark.parametrize("rotation", [0, 30])
def test_a_video_zoomed_100x_shows_its_centre_enlarged(tmp_path: Path, rotation: int) -> None:
    # Drawn whole, the picture would be 32000 x 18000: FFmpeg refused to scale to it.
    src = make_video(tmp_path / "a.mp4", frames=6, size=(160, 90))
    doc = zoomed_doc(src, 100, rotation=rotation)
    plain = zoomed_doc(src, 1)
    zoomed, whole = render(doc, [3], tmp_path)[0], render(plain, [3], tmp_path)[0]
    # The source's flat middle fills the canvas. Tolerance 1 level: FFmpeg's scaler rounds the
    # whole-size picture's colour conversion, the zoom converts at the source's own size.
    assert np.abs(zoomed.astype(int) - whole[90, 160]).max() <= 1


def test_a_still_zoomed_100x_keeps_its_colour(tmp_path: Path) -> None:
    png = tmp_path / "a.png"
    Image.new("RGBA", (64, 36), (200, 40, 10, 128)).save(png)
    (img,) = render(zoomed_doc(png, 100, rotation=45), [0], tmp_path)
    # Half-transparent (200, 40, 10) over (0x33, 0x66, 0x99): 128/255 of the way, by hand.
    a = 128 / 255
    expected = np.round(np.array([200, 40, 10]) * a + np.array([0x33, 0x66, 0x99]) * (1 - a))
    assert np.abs(img.astype(int) - expected).max() <= 1  # 8-bit rounding of alpha and colour


@pytest.mark.parametrize(
    "transform",
    [
        {"rotation": 0, "position_x": 13.4, "position_y": -7.6},
        {"rotation": 17, "anchor_x": 0.13, "position_x": 40},
        {"rotation": 90, "anchor_y": 0.8},
        {"rotation": -135, "position_x": -900, "position_y": 300},
    ],
)
def test_a_zoom_past_4x_draws_what_resampling_it_whole_draws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, transform: dict[str, float]
) -> None:
    rng = np.random.default_rng(7)
    rgba = rng.integers(0, 256, (45, 80, 4), dtype=np.uint8)
    rgba[..., 3] = np.maximum(rgba[..., 3], 60)
    png = tmp_path / "noise.png"
    Image.fromarray(rgba, "RGBA").save(png)
    doc = zoomed_doc(png, 5.5, **transform)
    windowed = render(doc, [0], tmp_path)[0]
    monkeypatch.setattr(memory, "ZOOMED", 10**9)  # every layout resampled whole
    whole = render(doc, [0], tmp_path)[0]
    # Tolerance 3 levels: Pillow's resize of a box of the source rounds its fixed-point weights
    # from the box's start, 1 level apart from the whole resize at some pixels; a rotation
    # mixes up to two such neighbours and rounds again.
    diff = np.abs(windowed.astype(int) - whole)
    assert diff.max() <= 3
    assert (diff > 1).mean() < 0.02  # and the look is the same: almost all within 1 level
