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

from tests.chunking.test_studio_editor_picture import editor_clip, project, reds


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


def test_a_montage_clips_crop_and_transitions_are_named(tmp_path: Path) -> None:
    crop = {"x": 0.1, "y": 0.1, "width": 0.8, "height": 0.8}
    joins = [{"transitionId": "fade", "position": "out", "duration": 0.5, "targetClipId": "d"}]
    timeline = project(
        tmp_path, editor_clip("c", "red.png", cropSettings=crop, appliedTransitions=joins)
    )
    assert timeline.warnings == (
        "clip 'c': cropSettings (the montage planner's crop) is not rendered; the whole picture is",
        "clip 'c': appliedTransitions (the montage planner's) are not rendered; the clips cut",
    )
