"""A kept still layer holds its visible parts, not the box around them (workers.compositor)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from chunking.timeline.studio import load_project
from tests.helpers import clip, file_clip
from tests.media import project, video_track
from workers import layer
from workers.compositor import Compositor


def _logo(path: Path) -> Path:
    """A 320x180 overlay: a badge top right and a translucent bar along the bottom, with soft
    and fully transparent pixels around them (a broadcast logo's shape)."""
    rgba = np.zeros((180, 320, 4), dtype=np.uint8)
    rgba[10:40, 250:300] = (240, 240, 240, 235)
    rgba[20:30, 260:270] = (200, 30, 50, 255)
    rgba[140:170, 0:190] = (10, 30, 80, 160)
    rgba[139, 5:180:3] = (255, 255, 0, 7)  # a faint edge row
    Image.fromarray(rgba, "RGBA").save(path)
    return path


def _doc(logo: Path, **extra: Any) -> dict[str, Any]:
    return project(
        [
            video_track("bg", [clip("a", 0, 1, "#336699"), clip("b", 1, 2, "#996633")]),
            video_track("top", [file_clip("logo", logo, 0, 2, **extra)]),
        ]
    )


def _frames(doc: dict[str, Any], base: Path, frames: list[int]) -> tuple[list[Any], Compositor]:
    comp = Compositor(load_project(doc, str(base)))
    try:
        return [comp.frame(t) for t in frames], comp
    finally:
        comp.close()


def test_a_kept_still_holds_its_visible_parts_not_the_box_around_them(tmp_path: Path) -> None:
    _, comp = _frames(_doc(_logo(tmp_path / "logo.png")), tmp_path, [0])
    _, kept = comp._still["logo"]
    pieces = (kept, *kept.more)
    held = sum(p.rgb.shape[0] * p.rgb.shape[1] for p in pieces)
    # The two visible parts: 30 x 50 for the badge, 31 x 190 for the faint row and the bar;
    # their bounding box, 160 x 300, would hold six times that.
    assert held == 30 * 50 + 31 * 190
    assert all(p.alpha is not None and p.alpha.any(axis=1).all() for p in pieces)


@pytest.mark.parametrize("extra", [{}, {"opacity": 0.6}, {"picture_fade_in": 1.0}])
def test_the_pieces_draw_the_frame_the_whole_box_draws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any]
) -> None:
    doc = _doc(_logo(tmp_path / "logo.png"), **extra)
    frames = [0, 12, 45]
    pieces, _ = _frames(doc, tmp_path, frames)
    monkeypatch.setattr(layer, "TRIM_GAP", 10**6)  # one box, as before pieces
    boxed, comp = _frames(doc, tmp_path, frames)
    assert not comp._still["logo"][1].more
    for a, b in zip(pieces, boxed, strict=True):
        assert np.array_equal(a, b)


def test_a_transition_from_a_cut_still_shows_all_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logo = _logo(tmp_path / "logo.png")
    doc = project(
        [video_track("v", [file_clip("a", logo, 0, 1), clip("b", 1, 2, "#0000ff")])],
        transitions=[
            {
                "id": "t",
                "transition_type": "Dissolve",
                "from_clip_id": "a",
                "to_clip_id": "b",
                "duration": 21 / 30,
            }
        ],
    )
    frames = [5, 25, 30, 35]
    pieces, _ = _frames(doc, tmp_path, frames)
    monkeypatch.setattr(layer, "TRIM_GAP", 10**6)
    boxed, _ = _frames(doc, tmp_path, frames)
    for a, b in zip(pieces, boxed, strict=True):
        assert np.array_equal(a, b)
