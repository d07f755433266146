"""Where a clip lands: fitting to the canvas or to a template cell, then its own transform."""

from __future__ import annotations

import pytest

from chunking.timeline.model import Cell, Clip, GeneratedSource, Transform
from common.errors import TimelineError
from workers.geometry import Layout, cell_box, layout

W, H = 320, 180


def _clip(cell: Cell | None = None, **transform: float) -> Clip:
    return Clip("c", "v", GeneratedSource(), 0, 10, cell=cell, transform=Transform(**transform))


def test_without_a_cell_the_clip_is_fitted_to_the_canvas() -> None:
    # A square source on a 16:9 canvas: pillarboxed, centred.
    assert layout(100, 100, _clip(), W, H) == Layout(180, 180, 70.0, 0.0)


def test_cells_of_a_grid_share_their_edges() -> None:
    third = 1 / 3
    boxes = [cell_box(_clip(Cell(i * third, 0, third, 1)), W, H) for i in range(3)]
    assert boxes == [(0, 0, 107, 180), (107, 0, 213, 180), (213, 0, 320, 180)]


def test_contain_letterboxes_inside_the_cell_at_its_align() -> None:
    wide = Cell(0, 0, 1, 0.5)  # 320 x 90
    assert layout(100, 100, _clip(wide), W, H) == Layout(90, 90, 115.0, 0.0)
    left = Cell(0, 0, 1, 0.5, align_x=0)
    right = Cell(0, 0, 1, 0.5, align_x=1)
    assert layout(100, 100, _clip(left), W, H).left == 0
    assert layout(100, 100, _clip(right), W, H).left == 320 - 90


def test_cover_fills_the_cell_and_the_align_picks_the_part_kept() -> None:
    # A 320 x 90 cell at y = 90.
    assert layout(100, 100, _clip(Cell(0, 0.5, 1, 0.5, fit="cover")), W, H) == Layout(
        320, 320, 0.0, 90 + (90 - 320) / 2
    )
    top = layout(100, 100, _clip(Cell(0, 0.5, 1, 0.5, fit="cover", align_y=0)), W, H)
    bottom = layout(100, 100, _clip(Cell(0, 0.5, 1, 0.5, fit="cover", align_y=1)), W, H)
    assert top.top == 90 and bottom.top + bottom.height == 180


def test_fill_stretches_to_the_cell() -> None:
    cell = Cell(0.5, 0.5, 0.5, 0.5, fit="fill")
    assert layout(100, 100, _clip(cell), W, H) == Layout(160, 90, 160.0, 90.0)


def test_cell_scale_zooms_about_the_align_point() -> None:
    centred = layout(160, 90, _clip(Cell(0, 0, 0.5, 0.5, scale=2)), W, H)
    assert centred == Layout(320, 180, -80.0, -45.0)  # centre stays at (80, 45)
    corner = layout(160, 90, _clip(Cell(0, 0, 0.5, 0.5, scale=2, align_x=0, align_y=0)), W, H)
    assert (corner.left, corner.top) == (0, 0)


def test_transform_moves_the_clip_from_where_the_cell_put_it() -> None:
    cell = Cell(0.5, 0, 0.5, 0.5)  # 160 x 90 at x = 160, centre (240, 45)
    moved = layout(160, 90, _clip(cell, position_x=10, position_y=-5, scale_x=0.5), W, H)
    # Half as wide about the fitted picture's centre, then 10 px right and 5 px up.
    assert moved == Layout(80, 90, 240 - 40 + 10, 0 - 5)


@pytest.mark.parametrize(
    ("cell", "match"),
    [
        (Cell(0, 0, 1, 1, fit="stretch"), "fit must be contain, cover or fill"),
        (Cell(0, 0, 0, 1), "width, height and scale must be above 0"),
        (Cell(0, 0, 1, 1, scale=0), "width, height and scale must be above 0"),
    ],
)
def test_bad_cells_are_timeline_errors(cell: Cell, match: str) -> None:
    with pytest.raises(TimelineError, match=f"clip 'c': cell {match}"):
        layout(100, 100, _clip(cell), W, H)
