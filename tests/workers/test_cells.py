"""Multi-camera templates: clips fitted into cells of the canvas, and never drawn outside them."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chunking.timeline.model import (
    Cell,
    Clip,
    Effect,
    FileSource,
    GeneratedSource,
    Timeline,
    Track,
    TrackKind,
    Transform,
)
from tests.media import make_video
from workers.compositor import Compositor

W, H = 320, 180
RED, GREEN, BLUE, YELLOW, WHITE = (
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (255, 255, 0),
    (255, 255, 255),
)


def _solid(cid: str, rgb: tuple[int, int, int], **fields: object) -> Clip:
    return Clip(cid, cid, GeneratedSource(color=(*rgb, 255)), 0, 10, **fields)  # type: ignore[arg-type]


def _frame(*clips: Clip, t: int = 0) -> np.ndarray:
    """Frame t of a timeline with each clip on its own track, the first at the bottom."""
    tracks = tuple(Track(c.track_id, TrackKind.VIDEO, clips=(c,)) for c in clips)
    comp = Compositor(Timeline(Fraction(30), W, H, 10, tracks=tracks))
    try:
        return comp.frame(t)
    finally:
        comp.close()


@pytest.fixture(scope="module")
def two_tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A square picture: red top half, blue bottom half."""
    pixels = np.zeros((100, 100, 3), np.uint8)
    pixels[:50] = RED
    pixels[50:] = BLUE
    path = tmp_path_factory.mktemp("cells") / "two_tone.png"
    Image.fromarray(pixels).save(path)
    return path


def _picture(path: Path, cell: Cell, **fields: object) -> Clip:
    return Clip("p", "p", FileSource(str(path)), 0, 10, cell=cell, **fields)  # type: ignore[arg-type]


def _is(pixels: np.ndarray, rgb: tuple[int, int, int]) -> bool:
    return bool(np.all(np.abs(pixels.astype(int) - rgb) <= 1))


def test_a_2x2_template_puts_four_clips_in_the_four_quadrants() -> None:
    colours = [RED, GREEN, BLUE, YELLOW]
    clips = [
        _solid(f"c{i}", rgb, cell=Cell((i % 2) / 2, (i // 2) / 2, 0.5, 0.5, fit="cover"))
        for i, rgb in enumerate(colours)
    ]
    img = _frame(*clips)
    quadrants = [img[:90, :160], img[:90, 160:], img[90:, :160], img[90:, 160:]]
    for quadrant, rgb in zip(quadrants, colours, strict=True):
        assert _is(quadrant, rgb)


def test_contain_letterboxes_the_picture_inside_its_cell(two_tone: Path) -> None:
    img = _frame(_solid("bg", WHITE), _picture(two_tone, Cell(0, 0, 1, 0.5)))
    # A 90 x 90 picture centred in the 320 x 90 cell; white shows beside it and below the cell.
    assert _is(img[:43, 116:204], RED) and _is(img[47:90, 116:204], BLUE)
    assert _is(img[:90, :114], WHITE) and _is(img[:90, 206:], WHITE)
    assert _is(img[90:], WHITE)


def test_cover_fills_the_cell_and_crops_the_overflow(two_tone: Path) -> None:
    img = _frame(_solid("bg", WHITE), _picture(two_tone, Cell(0, 0, 1, 0.5, fit="cover")))
    # Scaled to 320 x 320, its middle 90 rows show: red above the middle of the cell, blue below.
    assert _is(img[:40], RED) and _is(img[50:90], BLUE)
    assert _is(img[90:], WHITE)  # the overflow is cut at the cell's edge
    kept_top = _frame(_picture(two_tone, Cell(0, 0, 1, 0.5, fit="cover", align_y=0)))
    kept_bottom = _frame(_picture(two_tone, Cell(0, 0, 1, 0.5, fit="cover", align_y=1)))
    assert _is(kept_top[:90], RED) and _is(kept_bottom[:90], BLUE)


def test_fill_stretches_the_picture_to_the_cell(two_tone: Path) -> None:
    img = _frame(_solid("bg", WHITE), _picture(two_tone, Cell(0, 0.5, 1, 0.5, fit="fill")))
    assert _is(img[90:132], RED) and _is(img[138:], BLUE)  # full width, halves of the cell
    assert _is(img[:90], WHITE)


def test_contain_cover_and_fill_differ(two_tone: Path) -> None:
    frames = [
        _frame(_picture(two_tone, Cell(0.25, 0, 0.75, 1, fit=fit)))
        for fit in ("contain", "cover", "fill")
    ]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.array_equal(frames[i], frames[j])


def test_zoom_and_transform_stay_inside_the_cell(two_tone: Path) -> None:
    cell = Cell(0.5, 0.5, 0.5, 0.5, fit="cover", scale=3)
    moved = _picture(two_tone, cell, transform=Transform(position_x=-60, rotation=30))
    img = _frame(_solid("bg", WHITE), moved)
    assert _is(img[:90], WHITE) and _is(img[:, :160], WHITE)
    inside = img[90:, 160:]
    assert not _is(inside, WHITE)


def test_a_blurred_clip_does_not_bleed_out_of_its_cell() -> None:
    blur = Effect("b", "blur", {"radius": 8})
    # Covering the 160 x 180 cell, the 320 x 180 picture overflows it by 80 px on each side.
    cell = Cell(0, 0, 0.5, 1, fit="cover")
    img = _frame(_solid("bg", WHITE), _solid("r", RED, cell=cell, effects=(blur,)))
    assert _is(img[:, 160:], WHITE)
    assert _is(img[60:120, 40:120], RED)


def test_a_cell_partly_off_the_canvas_shows_its_visible_part() -> None:
    img = _frame(_solid("r", RED, cell=Cell(-0.25, 0, 0.5, 1, fit="fill")))
    assert _is(img[:, :80], RED) and not img[:, 80:].any()


def test_a_picture_moved_out_of_its_cell_draws_nothing() -> None:
    far = _solid("r", RED, cell=Cell(0, 0, 0.5, 0.5), transform=Transform(position_x=200))
    assert not _frame(far).any()


def test_video_in_a_cell_keeps_its_frames(tmp_path: Path) -> None:
    # The marker bar of frame i sits at source column 3 i: with a 160 x 90 source filling a
    # 160 x 90 cell at x = 160, frame 5's bar is at canvas column 175.
    src = make_video(tmp_path / "v.mp4", frames=10, size=(160, 90))
    clip = Clip("v", "v", FileSource(str(src)), 0, 10, cell=Cell(0.5, 0, 0.5, 0.5))
    img = _frame(clip, t=5)
    assert img[5, 175].min() > 200 and img[5, 170].max() < 200
    assert not img[90:].any() and not img[:, :160].any()


def test_without_a_cell_the_clip_covers_the_canvas() -> None:
    assert _is(_frame(_solid("r", RED)), RED)
