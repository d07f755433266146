"""The editor's directional transitions between two clips are drawn in their direction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.chunking.test_studio_editor_resources import timeline_project


@pytest.mark.parametrize(
    ("transition_id", "params", "kind"),
    [
        ("push", {"direction": "down"}, "slide_down"),
        ("push", {"direction": "right"}, "slide_right"),
        ("push", {}, "slide_left"),
        ("push-up", {}, "slide_up"),
    ],
)
def test_a_push_slides_the_way_it_names(
    tmp_path: Path, transition_id: str, params: dict[str, Any], kind: str
) -> None:
    joined = {"id": "t1", "transitionId": transition_id, "duration": 0.5, "type": "in",
              "customParams": params}  # fmt: skip
    timeline = timeline_project(tmp_path, [{}, {"transitions": [joined]}], {})
    (transition,) = timeline.transitions
    assert (transition.kind, transition.from_clip, transition.to_clip) == (kind, "c0", "c1")
    assert timeline.warnings == (
        "transition 't1': starts clip 'c1' 2 frames before its media (it begins 2 frames early, "
        "source_start 0s); the first frame is held",
    )
