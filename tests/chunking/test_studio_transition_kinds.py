"""The editor's catalogue transition types (src/features/transitions/data/transitions.json)
load as the kinds the compositor draws; those it does not draw still dissolve with a warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.chunking.test_studio_editor_resources import timeline_project
from tests.chunking.test_studio_transitions import clip, load, serde_transition


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"transition_type": "iris"}, "iris"),
        ({"transition_type": "radial-wipe"}, "radial_wipe"),
        ({"transition_type": "RadialWipe"}, "radial_wipe"),
        ({"transition_type": "wipe-diagonal"}, "wipe_tl"),
        ({"transition_type": "wipe-diagonal", "parameters": {"direction": "topleft"}}, "wipe_tl"),
        ({"transition_type": "WipeDiagonal", "direction": "bottom-right"}, "wipe_br"),
        ({"transition_type": "wipe-diagonal", "direction": "topright"}, "wipe_tr"),
        ({"transition_type": "wipe-diagonal", "direction": "bottomleft"}, "wipe_bl"),
        ({"transition_type": "pixelize"}, "pixelize"),
        ({"transition_type": "blinds", "parameters": {"direction": "horizontal"}}, "hblur"),
        ({"transition_type": "zoom", "direction": "center"}, "zoom"),
        ({"transition_type": "flip", "direction": "left"}, "flip"),
        ({"transition_type": "squeeze"}, "squeeze"),
        ({"transition_type": "Rotate"}, "rotate"),
        ({"transition_type": "diagonal", "direction": "up"}, "diagonal"),
        ({"transition_type": "burn"}, "burn"),
        ({"transition_type": "kaleidoscope"}, "kaleidoscope"),
        ({"transition_type": "cube-3d", "parameters": {"direction": "horizontal"}}, "cube"),
    ],
)
def test_the_editors_types_load_as_drawn_kinds(fields: dict[str, Any], kind: str) -> None:
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(**fields)])
    assert [t.kind for t in tl.transitions] == [kind] and tl.warnings == ()


def test_a_diagonal_wipe_with_a_side_for_direction_names_the_corners() -> None:
    fields = {"transition_type": "wipe-diagonal", "direction": "left"}
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(**fields)])
    assert [t.kind for t in tl.transitions] == ["wipe_tl"]
    assert tl.warnings == (
        "transition 't': direction 'left' isn't topleft, topright, bottomleft or bottomright; "
        "wipe_tl drawn",
    )


@pytest.mark.parametrize("name", ["page-turn", "ripple", "glitch", "tv-static", "shatter", "morph"])
def test_types_not_drawn_still_dissolve_with_a_warning(name: str) -> None:
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(transition_type=name)])
    assert [t.kind for t in tl.transitions] == ["dissolve"]
    assert any("rendered as a dissolve" in w for w in tl.warnings)


def test_an_editor_type_not_drawn_says_why_rather_than_unknown() -> None:
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(transition_type="ripple")])
    assert tl.warnings == (
        "transition 't': the editor's transition type 'ripple' is not drawn "
        "by its export (its export asks ffmpeg's xfade for a transition xfade does not have); "
        "its preview scales it to 1.1 and blurs it as it fades out, not drawn here: rendered as "
        "a dissolve",
    )


@pytest.mark.parametrize("name", ["zoom-blur", "ZoomBlur", "zoom_blur"])
def test_zoom_blur_is_drawn_as_its_previews_zoom_and_names_the_blur_left_out(name: str) -> None:
    # Its preview (transition-preview.tsx) scales the outgoing clip to 2 as it fades, as zoom's
    # does, and blurs it 20px; it was a plain dissolve, its warning saying the preview had no
    # case for it.
    tl = load([clip("a", 0, 1), clip("b", 1, 2)], [serde_transition(transition_type=name)])
    assert [t.kind for t in tl.transitions] == ["zoom"]
    assert tl.warnings == (
        "transition 't': the editor's transition type 'zoomblur' is drawn as its preview's zoom "
        "without its 20px blur of the outgoing clip (no transition here draws it)",
    )


def test_an_editor_type_not_drawn_names_the_clips_it_joins(tmp_path: Path) -> None:
    # The warning named the transition's id alone (an id the user never sees in the editor).
    joined = {"id": "t1", "transitionId": "page-turn", "duration": 0.5, "type": "in"}
    timeline = timeline_project(tmp_path, [{}, {"transitions": [joined]}], {})
    assert [t.kind for t in timeline.transitions] == ["dissolve"]
    assert timeline.warnings[0] == (
        "transition 't1' between clips 'c0' and 'c1': the editor's transition type 'pageturn' "
        "is not drawn by its export (its export's page curl shader is not "
        "implemented here); its preview turns it over about its right edge (rotateY(-180deg)) "
        "as it fades out, not drawn here: rendered as a dissolve"
    )
