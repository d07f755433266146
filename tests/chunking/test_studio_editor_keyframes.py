"""A Timeline Studio clip's opacity keyframes (TimelineKeyframe ``{id, time, property:
"opacity", value, interpolation}``) animate its opacity as the editor computes it.

The editor's KeyframeAnimationService (src/features/timeline/services/
keyframe-animation-service.ts; TimelineKeyframe in src/features/timeline/types/timeline.ts;
Timeline Studio by Chatman Media, MIT with Commons Clause) keeps ``time`` in seconds from the
clip's start and gives, by getValueAtTime: the first key's value before it, the last's after
it, and between two keys the first's ``interpolation`` applied to the way there (linear;
ease-in p²; ease-out 1-(1-p)²; ease-in-out the quadratic pair; step the next value from the
middle on; bezier, lacking its control points, linear). Other properties stay warned of.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.chunking.test_studio_editor_picture import editor_clip, project, reds


def key(time: float, value: Any, interpolation: str = "linear", prop: str = "opacity") -> dict:
    """A TimelineKeyframe as addKeyframe writes it."""
    return {"id": f"kf_{time}", "time": time, "property": prop, "value": value,
            "interpolation": interpolation}  # fmt: skip


def test_opacity_keyframes_animate_the_clips_opacity(tmp_path: Path) -> None:
    """Was: "animation of 'opacity' (keyframes) is not rendered; the fixed values are"."""
    keys = [key(0.5, 0.2), key(1.5, 1.0)]
    timeline = project(tmp_path, editor_clip("c", "red.png", opacity=0.5, keyframes=keys))
    assert timeline.warnings == ()
    before, start, middle, end, after = reds(timeline, 0, 5, 10, 15, 19)
    assert abs(before - 0.2 * 255) <= 0.5 and abs(start - 0.2 * 255) <= 0.5
    assert abs(middle - 0.6 * 255) <= 0.5
    assert end == after == 255


def test_an_ease_in_key_shapes_the_way_to_the_next(tmp_path: Path) -> None:
    keys = [key(0, 0.0, "ease-in"), key(1, 1.0)]
    timeline = project(tmp_path, editor_clip("c", "red.png", keyframes=keys))
    assert abs(reds(timeline, 5)[0] - 0.25 * 255) <= 0.5


def test_a_step_key_holds_its_value_to_the_middle(tmp_path: Path) -> None:
    """applyEasing's step: the first value until halfway, then the next."""
    keys = [key(0, 0.0, "step"), key(1, 1.0)]
    timeline = project(tmp_path, editor_clip("c", "red.png", keyframes=keys))
    assert timeline.warnings == ()
    assert reds(timeline, 0, 4, 5, 9) == [0, 0, 255, 255]


def test_other_properties_are_still_named_and_opacity_no_longer(tmp_path: Path) -> None:
    keys = [key(0, 0.0), key(1, 1.0), key(0, 1.0, prop="speed"), key(1, 2.0, prop="volume")]
    timeline = project(tmp_path, editor_clip("c", "red.png", keyframes=keys))
    assert timeline.warnings == (
        "clip 'c': animation of 'speed' (keyframes) is not rendered; the fixed values are",
    )
    assert abs(reds(timeline, 5)[0] - 127.5) <= 0.5
    assert timeline.clip("c").volume == 2.0  # its one volume key (studio_editor_volume)


def test_an_unusable_opacity_key_is_named_and_left_out(tmp_path: Path) -> None:
    keys = [key(0, 0.0), key(0.5, "half"), key(1, 2.0), key(2, 1.0, "ease")]
    timeline = project(tmp_path, editor_clip("c", "red.png", keyframes=keys))
    assert timeline.warnings == (
        "clip 'c': keyframes[1] (opacity) needs a numeric time and value (time 0.5, value "
        "'half'); left out",
        "clip 'c': keyframes[2] (opacity) value 2 is outside 0 to 1; drawn at 1",
        "clip 'c': keyframes[3] (opacity) interpolation 'ease' is drawn linear",
    )
    assert abs(reds(timeline, 5)[0] - 127.5) <= 0.5


def test_the_fade_services_opacity_keys_win_over_timeline_keys(tmp_path: Path) -> None:
    own = [{"time": 0, "opacity": 1.0}, {"time": 1, "opacity": 1.0}]
    keys = [key(0, 0.0), key(1, 1.0)]
    timeline = project(tmp_path, editor_clip("c", "red.png", opacityKeyframes=own, keyframes=keys))
    assert timeline.warnings == (
        "clip 'c': animation of 'opacity' (keyframes) is not rendered: its opacityKeyframes are",
    )
    assert reds(timeline, 5)[0] == 255


def test_a_fade_curve_or_easing_that_is_no_name_is_named_not_a_traceback(tmp_path: Path) -> None:
    """Was: TypeError: unhashable type: 'list' (the curves' table looked the value up)."""
    clip = editor_clip(
        "c",
        "red.png",
        fadeIn={"duration": 0.5, "type": ["ease-in"]},
        opacityKeyframes=[{"time": 1.0, "opacity": 0.5, "easing": {"name": "linear"}}],
    )
    timeline = project(tmp_path, clip)
    assert [w.split(" is not")[0] for w in timeline.warnings] == [
        "clip 'c': the picture's fadeIn curve a list of 1",
        "clip 'c': opacityKeyframes[0].easing a dict of 1",
    ]
