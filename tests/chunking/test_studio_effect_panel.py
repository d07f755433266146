"""Values the editor's effect panel sets past the strength an effect is drawn at (its sliders:
intensity 0 to 100, and Reset sets 50) are drawn at that strength, not refused; a value past
the slider's own range still is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from common.errors import ValidationError
from tests.chunking.test_studio_editor_applied import params_of, timeline_project
from tests.chunking.test_studio_effect_catalogue import effects_of, entry


@pytest.mark.parametrize(
    ("effect", "set_to", "drawn", "warning"),
    [
        # CSS sepia() and invert() stop at 1, as the drawing does: nothing to say.
        ("sepia", {"intensity": 50}, {"intensity": 1.0}, None),
        ("invert", {"intensity": 100}, {"intensity": 1.0}, None),
        ("brightness", {"intensity": 50}, {"value": 4.0},
         "intensity 50 (the effect panel's 0 to 100) is drawn at 4, the most this renderer draws"),
        ("glow", {"intensity": 50}, {"intensity": 1.0},
         "intensity 50 (the effect panel's 0 to 100) is drawn at 1, the most this renderer draws"),
        ("vignette", {"intensity": 0.5, "radius": 30}, {"intensity": 0.5, "radius": 10.0},
         "radius 30 (the effect panel's 0 to 50) is drawn at 10, the most this renderer draws"),
        ("blur", {"radius": 50}, {"radius": 50}, None),  # drawn as set
    ],
)  # fmt: skip
def test_a_panel_value_past_the_drawn_strength_is_drawn_at_it(
    tmp_path: Path, effect: str, set_to: dict[str, Any], drawn: dict[str, Any], warning: str | None
) -> None:
    timeline = timeline_project(
        tmp_path, [{"effects": [{"effectId": effect, "customParams": set_to}]}]
    )
    assert params_of(timeline) == [drawn]
    expected = () if warning is None else (f"clip 'c0' effect {effect!r}: {warning}",)
    assert timeline.warnings == expected


def test_a_value_past_the_panels_own_range_is_refused(tmp_path: Path) -> None:
    applied = {"effectId": "sepia", "customParams": {"intensity": 500}}
    with pytest.raises(ValidationError, match="intensity must be between 0 and 1, not 500"):
        timeline_project(tmp_path, [{"effects": [applied]}])


def test_the_editors_converted_project_is_fitted_too(tmp_path: Path) -> None:
    """timelineToProjectSchema's entry (typed by category, intensity as value) of a glow whose
    intensity the panel set to 60."""
    found, warnings = effects_of(tmp_path, [entry("glow", "Creative", {"value": 60}, None)])
    assert found == [("glow", {"intensity": 1.0})]
    assert warnings == (
        "clip 'c' effect 'glow': intensity 60 (the effect panel's 0 to 100) is drawn at 1, the "
        "most this renderer draws",
    )
