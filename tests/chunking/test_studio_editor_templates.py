"""The editor's multi-camera layouts as its preview draws them: grids by their ``gridConfig``,
a moved divider, custom ``cellLayouts``; and a clip placed in such a layout's cell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load
from chunking.timeline.studio_editor_templates import template_entry
from tests.chunking.test_studio_editor import DATA, make_media


def boxes(raw: dict[str, Any]) -> list[tuple[float, float, float, float]]:
    entry = template_entry(raw)
    assert entry is not None
    return [
        (round(c["x"], 2), round(c["y"], 2), round(c["width"], 2), round(c["height"], 2))
        for c in entry["cells"]
    ]


#: split-1-3-landscape's cellLayouts as the editor's config writes them (CSS, either edge)
ONE_THREE = [
    {"position": "absolute", "top": "0", "left": "0", "width": "50%", "height": "100%"},
    {"position": "absolute", "top": "0", "right": "0", "width": "50%", "height": "33.33%"},
    {"position": "absolute", "top": "33.33%", "right": "0", "width": "50%", "height": "33.33%"},
    {"position": "absolute", "bottom": "0", "right": "0", "width": "50%", "height": "33.33%"},
]


def grid(columns: int, rows: int) -> dict[str, Any]:
    return {"columns": columns, "rows": rows}


@pytest.mark.parametrize(
    ("raw", "first_cells"),
    [
        # A 2x3 portrait grid has 2 columns and 3 rows (a square guess made it 3x2).
        (
            {"id": "split-grid-2x3-portrait", "split": "grid", "screens": 6,
             "gridConfig": grid(2, 3)},
            [(0, 0, 50, 33.33), (50, 0, 50, 33.33), (0, 33.33, 50, 33.33)],
        ),
        (
            {"id": "my-grid", "split": "grid", "screens": 10, "gridConfig": grid(5, 2)},
            [(0, 0, 20, 50), (20, 0, 20, 50), (40, 0, 20, 50)],
        ),
        # No gridConfig: the built-in layout of that id, else the square guess.
        (
            {"id": "split-grid-3x4-portrait", "split": "grid", "screens": 12},
            [(0, 0, 33.33, 25), (33.33, 0, 33.33, 25), (66.67, 0, 33.33, 25)],
        ),
        (
            {"id": "unknown-grid", "split": "grid", "screens": 4},
            [(0, 0, 50, 50), (50, 0, 50, 50), (0, 50, 50, 50)],
        ),
        # The divider dragged to 30 %.
        (
            {"id": "split-vertical-landscape", "split": "vertical", "screens": 2,
             "splitPosition": 30},
            [(0, 0, 30, 100), (30, 0, 70, 100)],
        ),
        (
            {"id": "split-horizontal-square", "split": "horizontal", "screens": 2,
             "splitPosition": 65},
            [(0, 0, 100, 65), (0, 65, 100, 35)],
        ),
        (
            {"id": "split-vertical-3-square", "split": "vertical", "screens": 3},
            [(0, 0, 33.33, 100), (33.33, 0, 33.33, 100), (66.67, 0, 33.33, 100)],
        ),
        # Custom layouts: CSS offsets from either edge.
        (
            {"id": "split-1-3-landscape", "split": "custom", "screens": 4,
             "cellLayouts": ONE_THREE},
            [(0, 0, 50, 100), (50, 0, 50, 33.33), (50, 33.33, 50, 33.33)],
        ),
        # Unreadable cellLayouts (pixels): the built-in layout of the id.
        (
            {"id": "split-3-1-landscape", "split": "custom", "screens": 4,
             "cellLayouts": [{"top": "0", "left": "0", "width": "320px", "height": "10px"}]},
            [(0, 0, 50, 33.33), (0, 33.33, 50, 33.33), (0, 66.67, 50, 33.33)],
        ),
    ],
)  # fmt: skip
def test_layouts_are_drawn_as_the_editor_previews_them(
    raw: dict[str, Any], first_cells: list[tuple[float, float, float, float]]
) -> None:
    assert boxes(raw)[: len(first_cells)] == first_cells


def test_a_custom_layout_nobody_can_read_has_no_cells_and_a_diagonal_is_left_to_the_table() -> None:
    entry = template_entry({"id": "mine", "split": "custom", "screens": 2, "cellLayouts": "x"})
    assert entry is not None and entry["cells"] == []
    assert (
        template_entry({"id": "split-diagonal-square", "split": "diagonal", "screens": 2}) is None
    )


@pytest.mark.timeout(30)
def test_a_cell_size_of_a_long_run_of_blanks_is_refused_at_once() -> None:
    """A width of "1", 200,000 blanks and "x" took minutes to refuse (20,000: over a second)."""
    cell = {"width": "1" + " " * 200_000 + "x", "height": "50%", "left": "0%", "top": "0%"}
    entry = template_entry({"id": "mine", "split": "custom", "screens": 1, "cellLayouts": [cell]})
    assert entry is not None and entry["cells"] == []


def test_a_clip_in_a_custom_layout_of_the_documents_resources_is_placed_in_its_cell(
    tmp_path: Path,
) -> None:
    make_media(tmp_path / "media", ["beach.mp4", "dinner.mp4", "narration.wav"])
    doc = json.loads((DATA / "timeline-project.json").read_text())
    doc["resources"]["templates"] = [
        {
            "id": "split-1-3-landscape",
            "split": "custom",
            "screens": 4,
            "cellLayouts": ONE_THREE,
        }
    ]  # fmt: skip
    beach = doc["sections"][0]["tracks"][0]["clips"][0]
    beach["templateId"], beach["templateCell"] = "split-1-3-landscape", 3
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc))
    clip = load(str(path)).tracks[0].clips[0]
    assert clip.cell is not None
    assert (clip.cell.x, round(clip.cell.y, 4), clip.cell.width) == (0.5, 0.6667, 0.5)
