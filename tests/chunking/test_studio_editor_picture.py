"""A Timeline Studio clip's place in the frame (ClipPosition), its fade curves and its
opacityKeyframes are drawn as the editor shows them; what cannot be drawn is named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from chunking.timeline.loader import load
from chunking.timeline.model import Timeline
from common.errors import ValidationError
from tests.media import make_image
from workers.compositor import Compositor

SIZE = (320, 180)
#: The centre pixel of the frame's top-left quarter and of its bottom-right quarter (row, col).
TOP_LEFT, BOTTOM_RIGHT = (45, 80), (135, 240)


def editor_clip(clip_id: str, image: str, **fields: Any) -> dict[str, Any]:
    """A TimelineClip of a still as createTimelineClip writes it (2 s at 0 s, unmoved)."""
    clip = {
        "id": clip_id, "name": clip_id, "mediaId": clip_id, "trackId": "t",
        "mediaFile": {"id": clip_id, "path": image, "isImage": True},
        "startTime": 0, "duration": 2, "mediaStartTime": 0, "mediaEndTime": 2, "offset": 0,
        "volume": 1, "speed": 1, "playbackRate": 1, "isReversed": False, "opacity": 1,
        "position": {"x": 0.5, "y": 0.5, "width": 1, "height": 1, "rotation": 0,
                     "scaleX": 1, "scaleY": 1},
        "effects": [], "filters": [], "transitions": [], "isSelected": False, "isLocked": False,
    }  # fmt: skip
    clip.update(fields)
    return clip


def project(folder: Path, *clips: dict[str, Any]) -> Timeline:
    """A TimelineProject at 320x180, 10 fps, one video track per clip (later ones on top), its
    red.png and blue.png written beside it; loaded as the CLI loads it."""
    make_image(folder / "red.png", SIZE, (255, 0, 0, 255))
    make_image(folder / "blue.png", SIZE, (0, 0, 255, 255))
    tracks = [
        {"id": f"t{n}", "name": f"V{n}", "type": "video", "clips": [clip], "transitions": [],
         "isLocked": False, "isMuted": False, "isHidden": False, "isSolo": False,
         "volume": 1, "pan": 0, "trackEffects": [], "trackFilters": []}
        for n, clip in enumerate(clips)
    ]  # fmt: skip
    doc = {
        "id": "p", "name": "p", "duration": 2, "fps": 10, "sampleRate": 48000,
        "sections": [{"id": "s", "index": 0, "name": "s", "startTime": 0, "endTime": 2,
                      "duration": 2, "tracks": tracks, "isCollapsed": False}],
        "globalTracks": [], "resources": {},
        "settings": {"resolution": {"width": SIZE[0], "height": SIZE[1]}, "fps": 10},
        "version": "2.0.0",
    }  # fmt: skip
    path = folder / "project.json"
    path.write_text(json.dumps(doc))
    return load(str(path))


def frames(timeline: Timeline, *times: int) -> list[np.ndarray]:
    """The rendered frames at ``times``."""
    comp = Compositor(timeline)
    try:
        return [comp.frame(t) for t in times]
    finally:
        comp.close()


def at(frame: np.ndarray, where: tuple[int, int]) -> list[int]:
    """The RGB of one pixel."""
    return [int(v) for v in frame[where]]


# -- ClipPosition -------------------------------------------------------------------------------


def test_a_clip_placed_in_the_top_left_quarter_is_drawn_there(tmp_path: Path) -> None:
    corner = {"x": 0.25, "y": 0.25, "width": 0.5, "height": 0.5, "rotation": 0,
              "scaleX": 1, "scaleY": 1}  # fmt: skip
    timeline = project(
        tmp_path, editor_clip("bg", "blue.png"), editor_clip("pip", "red.png", position=corner)
    )
    assert timeline.warnings == ()
    (frame,) = frames(timeline, 5)
    assert at(frame, TOP_LEFT) == [255, 0, 0]
    assert at(frame, BOTTOM_RIGHT) == [0, 0, 255]
    assert at(frame, (45, 240)) == [0, 0, 255]  # top-right: not covered


def test_scale_x_and_y_size_the_box_and_x_y_are_its_centre(tmp_path: Path) -> None:
    # A box half the frame wide (scaleX 0.5 of a full width), a quarter high, centred low right.
    box = {"x": 0.75, "y": 0.75, "width": 1, "height": 0.5, "rotation": 0,
           "scaleX": 0.5, "scaleY": 0.5}  # fmt: skip
    timeline = project(
        tmp_path, editor_clip("bg", "blue.png"), editor_clip("pip", "red.png", position=box)
    )
    (frame,) = frames(timeline, 0)
    # The box spans x 160..320 and y 112.5..157.5.
    assert at(frame, (135, 240)) == [255, 0, 0]
    assert at(frame, (100, 240)) == [0, 0, 255]
    assert at(frame, (170, 240)) == [0, 0, 255]
    assert at(frame, (135, 100)) == [0, 0, 255]


def test_a_rotated_clip_leaves_the_frames_corners_uncovered(tmp_path: Path) -> None:
    turned = {"x": 0.5, "y": 0.5, "width": 1, "height": 1, "rotation": 45,
              "scaleX": 1, "scaleY": 1}  # fmt: skip
    timeline = project(
        tmp_path, editor_clip("bg", "blue.png"), editor_clip("pip", "red.png", position=turned)
    )
    (frame,) = frames(timeline, 0)
    assert at(frame, (90, 160)) == [255, 0, 0]
    assert at(frame, (2, 2)) == [0, 0, 255]


def test_the_old_unmoved_position_at_zero_draws_the_whole_frame(tmp_path: Path) -> None:
    old = {"x": 0, "y": 0, "width": 1, "height": 1, "rotation": 0, "scaleX": 1, "scaleY": 1}
    timeline = project(tmp_path, editor_clip("c", "red.png", position=old))
    assert timeline.warnings == ()
    (frame,) = frames(timeline, 0)
    assert at(frame, TOP_LEFT) == at(frame, BOTTOM_RIGHT) == [255, 0, 0]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"x": "left"}, "position.x 'left' is not a number"),
        ({"height": [0.5]}, "position.height a list of 1 is not a number"),
        (
            {"scaleX": -1},
            "position width * scaleX -0.5 is outside 0 to 100 (a negative one mirrors)",
        ),
        ({"rotation": 1e9}, "position.rotation 1e+09 is outside ±3600 degrees"),
        ({"x": 1e9}, "position.x 1e+09 is outside ±5 frames"),
    ],
)
def test_a_position_that_cannot_be_drawn_is_named_and_the_clip_drawn_unmoved(
    tmp_path: Path, change: dict[str, Any], said: str
) -> None:
    position = {"x": 0.25, "y": 0.25, "width": 0.5, "height": 0.5, "rotation": 0,
                "scaleX": 1, "scaleY": 1, **change}  # fmt: skip
    timeline = project(tmp_path, editor_clip("pip", "red.png", position=position))
    (warning,) = timeline.warnings
    assert warning.startswith(f"clip 'pip': {said}") and "drawn unmoved" in warning
    (frame,) = frames(timeline, 0)
    assert at(frame, BOTTOM_RIGHT) == [255, 0, 0]


# -- fade curves and opacity keyframes -----------------------------------------------------------


def reds(timeline: Timeline, *times: int) -> list[float]:
    """The red level at the frame's centre at ``times`` (the clip is red over black)."""
    return [float(f[90, 160, 0]) for f in frames(timeline, *times)]


@pytest.mark.parametrize(
    ("curve", "half"),
    [("linear", 0.5), ("ease-in", 0.25), ("exponential", 0.25), ("ease-out", 0.75),
     ("logarithmic", 0.75), ("cosine", 0.5), ("ease-in-out", 0.5)],
)  # fmt: skip
def test_a_fade_in_follows_its_curve(tmp_path: Path, curve: str, half: float) -> None:
    fade = {"duration": 1, "type": curve}
    timeline = project(tmp_path, editor_clip("c", "red.png", fadeIn=fade))
    assert timeline.warnings == ()
    first, middle, quarter, done = reds(timeline, 0, 5, 3, 10)
    assert first == 0 and done == 255
    assert abs(middle - 255 * half) <= 0.5
    cosine = (1 - np.cos(0.3 * np.pi)) / 2
    expected = {"ease-in": 0.09, "exponential": 0.09, "ease-out": 0.51, "logarithmic": 0.51,
                "cosine": cosine, "ease-in-out": 0.18, "linear": 0.3}  # fmt: skip
    assert abs(quarter - 255 * expected[curve]) <= 0.5


def test_a_fade_out_is_its_curve_played_backwards(tmp_path: Path) -> None:
    # 1 s ease-in fade-out over the last 10 frames (10..19): 3 frames from the end it is at 0.09.
    fade = {"duration": 1, "type": "ease-in"}
    timeline = project(tmp_path, editor_clip("c", "red.png", fadeOut=fade))
    late, last = reds(timeline, 16, 19)
    assert abs(late - 255 * 0.09) <= 0.5 and last == 0


def test_an_unknown_fade_curve_is_named_and_drawn_linear(tmp_path: Path) -> None:
    fade = {"duration": 1, "type": "bounce"}
    timeline = project(tmp_path, editor_clip("c", "red.png", fadeIn=fade))
    (warning,) = timeline.warnings
    assert warning.startswith("clip 'c': the picture's fadeIn curve 'bounce' is not one")
    assert abs(reds(timeline, 5)[0] - 127.5) <= 0.5


def test_opacity_keyframes_replace_the_clips_opacity_over_time(tmp_path: Path) -> None:
    keys = [{"time": 0.5, "opacity": 0.2}, {"time": 1.5, "opacity": 1, "easing": "linear"}]
    timeline = project(tmp_path, editor_clip("c", "red.png", opacity=0.5, opacityKeyframes=keys))
    assert timeline.warnings == ()
    before, start, middle, end, after = reds(timeline, 0, 5, 10, 15, 19)
    assert abs(before - 0.2 * 255) <= 0.5 and abs(start - 0.2 * 255) <= 0.5
    assert abs(middle - 0.6 * 255) <= 0.5
    assert end == after == 255


def test_an_opacity_keyframes_easing_shapes_the_way_to_the_next(tmp_path: Path) -> None:
    keys = [{"time": 0, "opacity": 0, "easing": "ease-in"}, {"time": 1, "opacity": 1}]
    timeline = project(tmp_path, editor_clip("c", "red.png", opacityKeyframes=keys))
    assert abs(reds(timeline, 5)[0] - 0.25 * 255) <= 0.5


def test_the_keys_an_applied_fade_wrote_are_not_drawn_twice(tmp_path: Path) -> None:
    # applyFadeIn writes the fade's samples into opacityKeyframes too: drawn once, by the fade.
    samples = [{"time": i / 10, "opacity": i / 10, "easing": "linear"} for i in range(11)]
    timeline = project(
        tmp_path,
        editor_clip("c", "red.png", fadeIn={"duration": 1, "type": "linear",
                                             "keyframes": samples}, opacityKeyframes=samples),
    )  # fmt: skip
    assert abs(reds(timeline, 5)[0] - 127.5) <= 0.5


def test_an_unusable_opacity_keyframe_is_named_and_left_out(tmp_path: Path) -> None:
    keys = [{"time": 0, "opacity": 0}, {"time": "soon", "opacity": 1}, {"time": 1, "opacity": 2}]
    timeline = project(tmp_path, editor_clip("c", "red.png", opacityKeyframes=keys))
    assert timeline.warnings == (
        "clip 'c': opacityKeyframes[1] needs a time within a day of the clip's start and a "
        "numeric opacity (time 'soon', opacity 1); left out",
        "clip 'c': opacityKeyframes[2].opacity 2 is outside 0 to 1; drawn at 1",
    )
    assert abs(reds(timeline, 5)[0] - 127.5) <= 0.5


def test_a_key_or_fade_beyond_a_day_is_named_by_its_editor_property(tmp_path: Path) -> None:
    keys = [{"time": 0, "opacity": 0}, {"time": 1e12, "opacity": 1}]
    timeline = project(tmp_path, editor_clip("c", "red.png", opacityKeyframes=keys))
    assert timeline.warnings == (
        "clip 'c': opacityKeyframes[1] needs a time within a day of the clip's start and a "
        "numeric opacity (time 1000000000000.0, opacity 1); left out",
    )
    with pytest.raises(ValidationError) as info:
        project(tmp_path, editor_clip("c", "red.png", fadeIn={"duration": 1e12}))
    assert info.value.problems == [
        "clip 'c': fadeIn.duration 1e+12 s is longer than a day (86400 s)"
    ]


def test_a_fade_written_as_a_number_of_seconds_fades(tmp_path: Path) -> None:
    # Silently dropped before (only {"duration": ...} was read).
    timeline = project(tmp_path, editor_clip("c", "red.png", fadeIn=1, fadeOut=0.5))
    assert timeline.warnings == ()
    assert (timeline.clip("c").picture_fade_in, timeline.clip("c").picture_fade_out) == (1, 0.5)
    assert abs(reds(timeline, 5)[0] - 127.5) <= 0.5


def test_a_fade_that_is_not_a_number_of_seconds_is_named(tmp_path: Path) -> None:
    timeline = project(tmp_path, editor_clip("c", "red.png", fadeIn="slow",
                                             fadeOut={"duration": "long"}))  # fmt: skip
    assert timeline.warnings == (
        "clip 'c': fadeIn 'slow' is not a number of seconds; not rendered",
        "clip 'c': fadeOut 'long' is not a number of seconds; not rendered",
    )


def test_timeline_keyframes_of_other_properties_are_still_named(tmp_path: Path) -> None:
    """The editor's export (convertClip) drops a clip's TimelineKeyframes, and so does ours:
    the warning names each property they animate, so the user knows what stays still."""
    keyed = [
        {"id": f"k{i}", "time": i, "property": prop, "value": 2, "interpolation": "linear"}
        for i, prop in enumerate(["scale", "speed", "scale", "rotation"])
    ]
    timeline = project(tmp_path, editor_clip("c", "red.png", keyframes=keyed))
    assert timeline.warnings == (
        "clip 'c': animation of 'scale', 'speed', 'rotation' (keyframes) is not rendered; "
        "the fixed values are",
    )
    many = [{"time": i, "property": f"p{i}", "value": 1} for i in range(8)]
    (warning,) = project(tmp_path, editor_clip("c", "red.png", keyframes=many)).warnings
    assert "'p0', 'p1', 'p2', 'p3', 'p4' and 3 more (keyframes)" in warning


# -- vibrance, clarity, dehaze -------------------------------------------------------------------


def filtered(folder: Path, params: dict[str, float], image: str = "red.png") -> np.ndarray:
    """Frame 0 of a still under an editor filter (resources.filters) of ``params``."""
    filters = [{"id": "look", "name": "look", "category": "color-correction", "params": params}]
    applied = [{"id": "af", "filterId": "look", "isEnabled": True, "order": 0}]
    doc_clip = editor_clip("c", image, filters=applied)
    timeline = project_with(folder, [doc_clip], {"filters": filters})
    assert timeline.warnings == ()
    (frame,) = frames(timeline, 0)
    return frame


def project_with(folder: Path, clips: list[dict[str, Any]], resources: dict[str, Any]) -> Timeline:
    """``project`` with these ``resources``; a mid-grey-ish pink and an edge image beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    make_image(folder / "pink.png", SIZE, (200, 120, 110, 255))
    edge = np.zeros((SIZE[1], SIZE[0], 3), np.uint8)
    edge[:, SIZE[0] // 2 :] = 160
    edge[:, : SIZE[0] // 2] = 90
    Image.fromarray(edge).save(folder / "edge.png")
    path = folder / "project.json"
    project(folder, *clips)
    doc = json.loads(path.read_text())
    doc["resources"] = resources
    path.write_text(json.dumps(doc))
    return load(str(path))


@pytest.mark.parametrize(
    ("params", "same_as", "image"),
    [
        # generateFFmpegFilter: vibrance v is eq=saturation=1+0.5v
        ({"vibrance": 0.8}, {"saturation": 1.4}, "pink.png"),
        ({"vibrance": -1}, {"saturation": 0.5}, "pink.png"),
        # clarity c above 0 is unsharp=5:5:5c, the sharpen filter's amount
        ({"clarity": 0.3}, {"sharpen": 1.5}, "edge.png"),
    ],
)
def test_vibrance_clarity_and_dehaze_draw_what_the_editors_ffmpeg_filters_draw(
    tmp_path: Path, params: dict[str, float], same_as: dict[str, float], image: str
) -> None:
    plain = filtered(tmp_path / "plain", {"brightness": 0.0}, image)
    got = filtered(tmp_path / "look", params, image)
    expected = filtered(tmp_path / "same", same_as, image)
    assert np.array_equal(got, expected)
    assert not np.array_equal(got, plain)


def test_dehaze_is_the_editors_eq_contrast_then_brightness(tmp_path: Path) -> None:
    # generateFFmpegFilter: dehaze d is eq=contrast=1+0.3d:brightness=0.1d; eq scales around
    # mid-grey, then adds the brightness.
    frame = filtered(tmp_path, {"dehaze": 0.5}, "pink.png")
    expected = [round(255 * ((v / 255 - 0.5) * 1.15 + 0.5 + 0.05)) for v in (200, 120, 110)]
    assert max(abs(a - b) for a, b in zip(at(frame, (90, 160)), expected, strict=True)) <= 1


def test_a_negative_clarity_softens_an_edge(tmp_path: Path) -> None:
    plain = filtered(tmp_path / "plain", {"brightness": 0.0}, "edge.png")
    soft = filtered(tmp_path / "soft", {"clarity": -1}, "edge.png")
    row = SIZE[1] // 2
    assert at(plain, (row, 159)) == [90, 90, 90] and at(plain, (row, 160)) == [160, 160, 160]
    assert 90 < soft[row, 159, 0] < soft[row, 160, 0] < 160
    assert at(soft, (row, 20)) == [90, 90, 90]  # far from the edge: unchanged


def test_a_vibrance_the_saturation_cannot_take_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        filtered(tmp_path, {"vibrance": 9})
    assert info.value.problems == [
        "clip 'c' filter 'look': parameter 'vibrance' 9 makes saturation 5.5, which must be "
        "between 0 and 4, not 5.5"
    ]
