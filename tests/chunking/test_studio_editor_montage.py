"""Clips the editor's AI montage planner puts on the timeline carry their adjustments in fields
of their own: ``appliedEffects`` (``{effectId, enabled, customParams}``), ``fadeInDuration`` and
``fadeOutDuration`` (seconds), ``cropSettings`` (``{x, y, width, height}``, fractions of the
picture: CropRegion) and ``appliedTransitions``; each is rendered or named, none dropped without
a word.

createTimelineClips in src/features/montage-planner/services/timeline-integration-service.ts and
CropRegion in src-tauri/src/montage_planner/types.rs of Timeline Studio (Chatman Media, MIT with
Commons Clause).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chunking.timeline.loader import load_document
from chunking.timeline.model import Timeline
from tests.chunking.test_studio_editor_picture import editor_clip, project, reds
from tests.media import make_image


def test_a_montage_clips_applied_effects_are_rendered(tmp_path: Path) -> None:
    """Was silently dropped: the planner's effects never reached the render."""
    applied = [{"effectId": "grayscale", "enabled": True, "customParams": {}}]
    timeline = project(tmp_path, editor_clip("c", "red.png", appliedEffects=applied))
    assert [e.kind for e in timeline.clip("c").effects] == ["grayscale"]


def test_a_montage_clips_stabilization_is_named_not_dropped(tmp_path: Path) -> None:
    applied = [{"effectId": "stabilization", "enabled": True, "customParams": {}}]
    timeline = project(tmp_path, editor_clip("c", "red.png", appliedEffects=applied))
    assert any("stabilization" in w for w in timeline.warnings)


def test_a_montage_clips_fade_durations_fade_its_picture(tmp_path: Path) -> None:
    timeline = project(tmp_path, editor_clip("c", "red.png", fadeInDuration=1, fadeOutDuration=0.5))
    clip = timeline.clip("c")
    assert (clip.picture_fade_in, clip.picture_fade_out) == (1, 0.5)
    assert abs(reds(timeline, 5)[0] - 127.5) <= 0.5
    assert timeline.warnings == ()


def test_a_montage_clips_crop_is_named(tmp_path: Path) -> None:
    crop = {"x": 0.1, "y": 0.1, "width": 0.8, "height": 0.8}
    timeline = project(tmp_path, editor_clip("c", "red.png", cropSettings=crop))
    assert timeline.warnings == (
        "clip 'c': cropSettings (the montage planner's crop) is not rendered; the whole picture is",
    )


def montage(folder: Path, joins: list[dict[str, Any]], later: float = 1.75) -> Timeline:
    """Two montage clips on one track, the second moved back by half a 0.5 s transition as
    applyTransitionsToClips moves it, the first carrying ``joins``."""
    make_image(folder / "red.png", (32, 18), (255, 0, 0, 255))
    make_image(folder / "blue.png", (32, 18), (0, 0, 255, 255))
    clips = [
        editor_clip("montage_clip_a_0", "red.png", appliedTransitions=joins),
        editor_clip("montage_clip_b_1", "blue.png", startTime=later),
    ]
    doc = {
        "id": "p", "name": "p", "sections": [{"id": "s", "tracks": [
            {"id": "t", "type": "video", "clips": clips}]}],
        "settings": {"resolution": {"width": 32, "height": 18}, "fps": 10},
    }  # fmt: skip
    return load_document(doc, str(folder))[1]


def test_a_montage_transition_joins_the_clips_it_overlaps(tmp_path: Path) -> None:
    """Was: "appliedTransitions ... are not rendered; the clips cut", and the overlap the
    planner leaves refused the whole project ("clips ... overlap by 2 frames")."""
    joins = [{"transitionId": "fade", "position": "out", "duration": 0.5,
              "targetClipId": "montage_clip_b_1", "customParams": {}}]  # fmt: skip
    timeline = montage(tmp_path, joins)
    (transition,) = timeline.transitions
    assert (transition.from_clip, transition.to_clip) == ("montage_clip_a_0", "montage_clip_b_1")
    assert (transition.start, transition.end) == (18, 20)  # the overlap
    assert timeline.warnings == ()


@pytest.mark.parametrize(
    ("target", "said"),
    [
        ("gone", "its targetClipId 'gone' is no other clip of the track; not rendered"),
        (None, "its targetClipId None is no other clip of the track; not rendered"),
    ],
)
def test_a_montage_transition_to_no_clip_is_named(tmp_path: Path, target: Any, said: str) -> None:
    joins = [{"transitionId": "fade", "position": "out", "duration": 0.5, "targetClipId": target}]
    timeline = montage(tmp_path, joins, later=2.0)
    assert timeline.transitions == ()
    assert timeline.warnings == (f"clip 'montage_clip_a_0' appliedTransitions[0]: {said}",)
