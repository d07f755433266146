"""Multi-camera layouts (``templates[]``, the editor's built-in ids) put clips into cells; style
templates draw their Text elements as subtitles over the clip that names them."""

from __future__ import annotations

from typing import Any

import pytest

from chunking.timeline.model import Cell, GeneratedSource, Timeline
from chunking.timeline.studio import load_project
from common.errors import ValidationError
from tests.media import project, solid, video_track


def clip(cid: str, **extra: Any) -> dict[str, Any]:
    return {"id": cid, "start_time": 0, "end_time": 2, **solid("#ff0000"), **extra}


def load(tracks: list[dict[str, Any]], **extra: Any) -> Timeline:
    return load_project(project(tracks, **extra), ".")


def serde_cell(index: int, x: float, y: float, w: float, h: float, **extra: Any) -> dict[str, Any]:
    base = {
        "index": index,
        "x": x,
        "y": y,
        "width": w,
        "height": h,
        "fit_mode": "Fit",
        "align_x": "Center",
        "align_y": "Center",
        "scale": None,
    }
    return {**base, **extra}


TEMPLATE = {
    "id": "pip",
    "template_type": "Custom",
    "name": "Picture in picture",
    "screens": 2,
    "cells": [
        serde_cell(0, 0, 0, 100, 100, fit_mode="Fill"),
        serde_cell(1, 65, 5, 30, 30, fit_mode="Stretch", align_x="Right", align_y="Top", scale=1.5),
    ],
    "regions": [],
}


def test_template_cells_are_percent_of_the_canvas() -> None:
    tl = load(
        [
            video_track("main", [clip("m", template_id="pip", template_position=0)]),
            video_track("inset", [clip("i", template_id="pip", template_position=1)]),
        ],
        templates=[TEMPLATE],
    )
    # serde's FitMode: Fill crops to fill the cell, Stretch distorts, Fit letterboxes.
    assert tl.clip("m").cell == Cell(0.0, 0.0, 1.0, 1.0, fit="cover")
    assert tl.clip("i").cell == Cell(
        0.65, 0.05, 0.3, 0.3, fit="fill", align_x=1.0, align_y=0.0, scale=1.5
    )
    assert tl.warnings == ()


def test_a_position_outside_the_cells_or_an_unknown_template_names_the_clip() -> None:
    with pytest.raises(ValidationError) as info:
        load(
            [
                video_track(
                    "v",
                    [
                        clip("a", template_id="pip", template_position=2),
                        {**clip("b", template_id="nope"), "start_time": 2, "end_time": 3},
                    ],
                )
            ],
            templates=[TEMPLATE],
        )
    assert info.value.problems == [
        "clip 'a': template_position 2 is not a cell of template 'pip' (cells 0, 1)",
        "clip 'b': template_id 'nope' is not in templates[] or style_templates[] and is not one of "
        "the editor's built-in layouts",
    ]


@pytest.mark.parametrize(
    ("template_id", "position", "cell"),
    [
        ("split-vertical-landscape", 1, Cell(0.5, 0.0, 0.5, 1.0, fit="cover")),
        ("split-horizontal-3-portrait", 2, Cell(0.0, 2 / 3, 1.0, 1 / 3, fit="cover")),
        ("split-grid-3x2-landscape", 4, Cell(1 / 3, 0.5, 1 / 3, 0.5, fit="cover")),
        ("split-1-3-landscape", 3, Cell(0.5, 0.6667, 0.5, 0.3333, fit="cover")),
    ],
)
def test_the_editors_built_in_layouts(template_id: str, position: int, cell: Cell) -> None:
    tl = load([video_track("v", [clip("a", template_id=template_id, template_cell=position)])])
    assert tl.clip("a").cell == pytest.approx(cell)


def test_a_diagonal_layout_cannot_be_drawn() -> None:
    with pytest.raises(
        ValidationError, match="clip 'a': template 'split-diagonal-landscape' splits"
    ):
        load([video_track("v", [clip("a", template_id="split-diagonal-landscape")])])


def test_without_a_position_each_track_takes_the_next_cell() -> None:
    tracks = [video_track(t, [clip(t, template_id="split-vertical-square")]) for t in ("l", "r")]
    tl = load(tracks)
    cells = [tl.clip(c).cell for c in ("l", "r")]
    assert [c.x if c else None for c in cells] == [0.0, 0.5]


def test_serde_regions_are_pixels() -> None:
    legacy = {
        "id": "old",
        "template_type": "Custom",
        "name": "old",
        "screens": 1,
        "cells": [],
        "regions": [{"x": 10, "y": 20, "width": 160, "height": 90, "padding": 5}],
    }
    tl = load(
        [video_track("v", [clip("a", template_id="old", template_position=0)])], templates=[legacy]
    )
    assert tl.clip("a").cell == Cell(15 / 320, 25 / 180, 0.5, 0.5, fit="fill")


def test_the_frontends_templates_by_type() -> None:
    grid = {"id": "g", "template_type": "Grid", "name": "g", "screens": 5, "cells": []}
    tl = load([video_track("v", [clip("a", template_id="g", template_cell=4)])], templates=[grid])
    assert tl.clip("a").cell == pytest.approx(Cell(1 / 3, 0.5, 1 / 3, 0.5, fit="cover"))


STYLE = {
    "id": "lower-third",
    "name": "Lower third",
    "category": "LowerThird",
    "style": "Modern",
    "duration": 2.0,
    "background_color": "#202840",
    "transitions": [],
    "elements": [
        {
            "id": "name",
            "element_type": "Text",
            "name": "Name",
            "position": {"x": 30, "y": 80},
            "size": {"width": 40, "height": 10},
            "timing": {"in_time": 0.5, "out_time": 1.5, "duration": 1.0},
            "properties": {
                "text": "Ada Lovelace",
                "font_size": 28,
                "text_color": "#FFFFFF",
                "text_align": "Left",
                "font_weight": "SemiBold",
                "rotation": 5.0,
                "custom": {},
            },
            "animations": [
                {
                    "id": "f",
                    "animation_type": "FadeIn",
                    "duration": 0.3,
                    "delay": 0.5,
                    "easing": "EaseOut",
                    "repeat": 1,
                    "direction": "Normal",
                    "properties": {},
                }
            ],
            "content": "",
            "style": None,
        },
        {
            "id": "bar",
            "element_type": "Shape",
            "name": "Bar",
            "position": {"x": 0, "y": 0},
            "size": {"width": 10, "height": 10},
            "timing": {"in_time": 0, "out_time": 2, "duration": 2},
            "properties": {},
            "animations": [],
            "content": "",
            "style": None,
        },
        {
            "id": "bar2",
            "element_type": "Shape",
            "name": "Bar",
            "position": {"x": 0, "y": 0},
            "size": {"width": 10, "height": 10},
            "timing": {"in_time": 0, "out_time": 2, "duration": 2},
            "properties": {},
            "animations": [],
            "content": "",
            "style": None,
        },
    ],
}


def test_style_template_text_becomes_subtitles_over_its_clip() -> None:
    carrier = {
        "id": "c",
        "source_path": "",
        "start_time": 1,
        "end_time": 3,
        "style_template_id": "lower-third",
    }
    tl = load([video_track("v", [carrier])], style_templates=[STYLE])
    (sub,) = tl.subtitles
    assert (sub.id, sub.text, sub.start, sub.end) == ("c/name", "Ada Lovelace", 45, 75)
    # The element's box is 40 % wide around x 30 %: left-aligned text starts at its left edge.
    assert (sub.position, sub.anchor, sub.align, sub.max_width) == (
        pytest.approx((0.1, 0.8)),
        (0.0, 0.5),
        "left",
        0.4,
    )
    assert (sub.font_size, sub.font_weight, sub.color) == (28, 600, (255, 255, 255, 255))
    assert [(a.kind, a.start, a.end, a.easing) for a in sub.animations] == [
        ("fade_in", 45, 54, "ease_out")
    ]
    # A carrier without media shows the template's background colour.
    assert tl.clip("c").source == GeneratedSource(color=(0x20, 0x28, 0x40, 255))
    assert tl.warnings == (
        "style template 'lower-third': rotation of Text elements is not drawn",
        "style template 'lower-third': Shape elements are not drawn (only Text elements are)",
    )


def test_a_template_id_may_name_a_style_template() -> None:
    tl = load([video_track("v", [clip("c", template_id="lower-third")])], style_templates=[STYLE])
    assert [s.id for s in tl.subtitles] == ["c/name"] and tl.clip("c").cell is None
    with pytest.raises(ValidationError, match="style_template_id 'gone' is not in style_templates"):
        load([video_track("v", [clip("c", style_template_id="gone")])])
