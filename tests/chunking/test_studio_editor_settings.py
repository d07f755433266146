"""The frame size of a Timeline Studio project whose aspect ratio the user set to "custom".

The project settings dialog (src/features/project-settings/components/project-settings-modal.tsx)
writes ``resolution: "custom"`` for a custom aspect ratio and keeps the size the user typed in
``aspectRatio.value`` ({width, height, name: "custom"}); ProjectSettings in src/features/
project-settings/types/project.ts. Timeline Studio by Chatman Media, MIT with Commons Clause.
"""

from __future__ import annotations

from typing import Any

import pytest

from chunking.timeline.studio_editor import convert
from common.errors import ValidationError

CUSTOM = {
    "aspectRatio": {
        "label": "custom", "textLabel": "", "description": "User",
        "value": {"width": 1000, "height": 500, "name": "custom"},
    },
    "resolution": "custom", "frameRate": "29.97", "colorSpace": "sdr",
}  # fmt: skip
CLIP = {
    "id": "c", "name": "c", "startTime": 0, "duration": 1, "volume": 1, "effects": [],
    "filters": [], "transitions": [], "mediaFile": {"id": "m", "path": "/media/a.mp4"},
}  # fmt: skip


def tls(settings: dict[str, Any]) -> dict[str, Any]:
    """A camelCase project (.tls ProjectFile) of one clip over ``settings``."""
    return {"name": "p", "settings": settings,
            "timeline": {"tracks": [{"id": "t", "type": "video", "clips": [CLIP]}]}}  # fmt: skip


def tlsp(settings: dict[str, Any], sequence_settings: dict[str, Any]) -> dict[str, Any]:
    """A .tlsp (TimelineStudioProject 2.x) of one sequence of one clip."""
    sequence = {
        "id": "seq", "name": "Main", "type": "main", "settings": sequence_settings,
        "composition": {"tracks": [{"id": "t", "type": "video", "clips": [CLIP]}]},
    }  # fmt: skip
    return {
        "metadata": {"id": "p", "name": "p", "version": "2.0.0"}, "settings": settings,
        "mediaPool": {}, "sequences": {"seq": sequence}, "activeSequenceId": "seq",
    }  # fmt: skip


def converted(doc: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The converted document's ``timeline`` and the conversion's warnings."""
    result = convert(doc, "/", disk=False)
    assert result is not None
    return result.document["timeline"], result.warnings


def test_a_custom_aspect_ratio_renders_the_size_the_user_typed() -> None:
    """Was refused: "settings.resolution: not a frame size: 'custom'"."""
    timeline, warnings = converted(tls(CUSTOM))
    assert timeline["resolution"] == [1000, 500] and timeline["fps"] == "30000/1001"
    assert timeline["aspect_ratio"] == "Custom" and warnings == ()


def test_a_tlsp_sequence_without_a_size_takes_the_projects_custom_one() -> None:
    timeline, warnings = converted(tlsp(CUSTOM, {"frameRate": 25}))
    assert timeline["resolution"] == [1000, 500] and warnings == ()


def test_the_sequences_own_size_still_wins() -> None:
    timeline, _ = converted(tlsp(CUSTOM, {"resolution": {"width": 640, "height": 360}}))
    assert timeline["resolution"] == [640, 360]


def test_custom_with_no_size_anywhere_is_named() -> None:
    settings = {**CUSTOM, "aspectRatio": {"label": "custom"}}
    timeline, warnings = converted(tls(settings))
    assert timeline["resolution"] == [1920, 1080]
    assert warnings == (
        "settings.resolution: a custom size with none in aspectRatio.value; rendered 1920x1080",
    )


@pytest.mark.parametrize("size", ["wide", "1920x"])
def test_a_size_that_is_neither_custom_nor_a_size_is_still_refused(size: str) -> None:
    with pytest.raises(ValidationError, match="not a frame size"):
        converted(tls({**CUSTOM, "resolution": size}))


def test_a_sequence_made_from_a_custom_project_takes_the_projects_size() -> None:
    """createProject (timeline-studio-project-service.ts) splits ``"custom"`` at "x" into
    numbers: NaN, written to JSON as null, and no height. Was refused: "not a frame size"."""
    sequence_settings = {"resolution": {"width": None}, "frameRate": 29.97}
    timeline, warnings = converted(tlsp(CUSTOM, sequence_settings))
    assert timeline["resolution"] == [1000, 500] and timeline["fps"] == "30000/1001"
    assert warnings == ()


def test_half_a_size_is_still_refused() -> None:
    with pytest.raises(ValidationError, match="not a frame size"):
        converted(tlsp(CUSTOM, {"resolution": {"width": 640, "height": None}}))
