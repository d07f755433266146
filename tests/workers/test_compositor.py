"""What a viewer sees: pixels of composited frames for each feature."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from tests.helpers import clip, file_clip
from tests.media import identify, make_image, make_video, project, video_track
from workers.compositor import Compositor


def render(doc: dict[str, Any], frames: list[int], base: Path | str = ".") -> list[np.ndarray]:
    tl = load_project(doc, str(base))
    comp = Compositor(tl)
    try:
        return [comp.frame(t) for t in frames]
    finally:
        comp.close()


def centre(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return img[h // 2, w // 2].astype(int)


def test_half_transparent_red_over_blue_blends() -> None:
    doc = project(
        [
            video_track("bg", [clip("blue", 0, 1, "#0000ff")]),
            video_track("fg", [clip("red", 0, 1, "#ff0000", opacity=0.5)]),
        ]
    )
    (img,) = render(doc, [0])
    assert np.abs(centre(img) - [128, 0, 128]).max() <= 1


def test_later_tracks_draw_on_top_and_gaps_are_black() -> None:
    doc = project(
        [
            video_track("bg", [clip("blue", 0, 1, "#0000ff")]),
            video_track("fg", [clip("red", 0, 0.5, "#ff0000")]),
        ],
        duration=2,
    )
    top, bottom_only, empty = render(doc, [0, 20, 45])
    assert list(centre(top)) == [255, 0, 0]
    assert list(centre(bottom_only)) == [0, 0, 255]
    assert not empty.any()


@pytest.mark.parametrize(
    ("speed", "source_start", "expected"),
    [
        (1.0, 0.0, [0, 1, 5, 9]),
        (2.0, 0.0, [0, 2, 10, 18]),
        (0.5, 0.0, [0, 0, 2, 4]),
        (1.0, 0.5, [15, 16, 20, 24]),
    ],
)
def test_video_frames_are_exact(
    tmp_path: Path, speed: float, source_start: float, expected: list[int]
) -> None:
    src = make_video(tmp_path / "src.mp4", frames=60, gop=7)
    doc = project(
        [video_track("v", [file_clip("c", src, 0, 1, speed=speed, source_start=source_start)])]
    )
    frames = render(doc, [0, 1, 5, 9])
    assert [identify(f) for f in frames] == expected


@pytest.mark.parametrize(
    ("speed", "frames", "expected"),
    [(10.0, [0, 1, 5, 17], [4, 14, 54, 174]), (0.1, [0, 9, 10, 25], [0, 0, 1, 2])],
)
def test_the_editors_fastest_and_slowest_speeds_show_exact_frames(
    tmp_path: Path, speed: float, frames: list[int], expected: list[int]
) -> None:
    """Timeline Studio saves speeds from 0.1 to 10 (its setClipSpeed): a time-lapse shows every
    tenth frame, a slow motion each frame for ten; each the last source frame starting before
    the timeline frame's middle (at 10x frame t spans source frames 10t to 10t + 9: 10t + 4)."""
    src = make_video(tmp_path / "src.mp4", frames=180, gop=7)
    doc = project([video_track("v", [file_clip("c", src, 0, 0.9, speed=speed)])])
    assert [identify(f) for f in render(doc, frames)] == expected


def test_other_frame_rate_and_pixel_format(tmp_path: Path) -> None:
    # A 24 fps 4:4:4 source on a 30000/1001 timeline shows the source frame on screen just
    # before the middle of each output frame (ffmpeg's fps filter's choice).
    src = make_video(tmp_path / "src.mkv", frames=48, fps=24, pix_fmt="yuv444p", size=(128, 96))
    doc = project([video_track("v", [file_clip("c", src, 0, 1.5)])], fps="30000/1001")
    shown = [identify(f) for f in render(doc, [0, 1, 5, 29])]
    assert shown == [
        _fps_filter_frame(t, Fraction(24), Fraction(30000, 1001)) for t in (0, 1, 5, 29)
    ]


def _fps_filter_frame(k: int, source: Fraction, output: Fraction) -> int:
    """The source frame ffmpeg's fps filter shows at output frame k: the last whose time,
    counted in output frames and rounded half up, is at most k."""
    return max(n for n in range(k * 8 + 8) if math.floor(n * output / source + Fraction(1, 2)) <= k)


@pytest.mark.parametrize(
    ("source", "output"),
    [
        (Fraction(30000, 1001), Fraction(30)),
        (Fraction(24000, 1001), Fraction(24)),
        (Fraction(25), Fraction(24)),
        (Fraction(60), Fraction(30)),
        (Fraction(24), Fraction(60)),
    ],
    ids=["29.97 on 30", "23.976 on 24", "25 on 24", "60 on 30", "24 on 60"],
)
def test_footage_at_another_rate_shows_the_frames_ffmpegs_fps_filter_shows(
    tmp_path: Path, source: Fraction, output: Fraction
) -> None:
    """29.97 fps footage on a 30 fps timeline showed its first frame twice and then every frame
    one late (for 33 s, until the rates drift a frame apart); 25 fps on 24 showed frame 12 at
    the middle of frame 13. Each output frame now shows the frame ffmpeg's fps filter (and an
    editor) shows, whichever frame a chunk starts at."""
    frames = 48
    src = make_video(tmp_path / "src.mp4", frames=frames, fps=source, size=(64, 36), gop=12)
    length = int((frames - 1) / source * output)
    doc = project(
        [video_track("v", [file_clip("c", src, 0, float(length / output))])], fps=str(output)
    )
    expected = [_fps_filter_frame(k, source, output) for k in range(length)]
    assert [identify(f) for f in render(doc, list(range(length)), tmp_path)] == expected
    start = length // 2 + 1  # a chunk starting mid-clip: a seek
    chunk = render(doc, list(range(start, length)), tmp_path)
    assert [identify(f) for f in chunk] == expected[start:]


def test_source_is_fitted_inside_the_canvas(tmp_path: Path) -> None:
    # A 4:3 source on a 16:9 canvas is pillarboxed: black bars left and right.
    src = make_video(tmp_path / "src.mp4", frames=5, size=(160, 120))
    (img,) = render(project([video_track("v", [file_clip("c", src, 0, 0.1)])]), [0])
    assert not img[:, :35].any() and not img[:, -35:].any()
    assert img[:, 60:260].mean() > 10


def test_rotation_metadata_is_applied(tmp_path: Path) -> None:
    src = make_video(tmp_path / "rot.mp4", frames=3, size=(160, 90), rotate=90)
    tl = load_project(project([video_track("v", [file_clip("c", src, 0, 0.1)])]), ".")
    comp = Compositor(tl)
    picture = comp._source(tl.clip("c")).picture_at(Fraction(0))
    comp.close()
    assert picture.rgb.shape[:2] == (160, 90)
    # Turned counter-clockwise: the marker bar from the top-left now runs along the bottom.
    assert picture.rgb[159, :20].min() > 200 and picture.rgb[0, :20].max() < 200


def test_still_images_with_alpha(tmp_path: Path) -> None:
    png = make_image(tmp_path / "half.png", (32, 18), (0, 255, 0, 128))
    jpg = make_image(tmp_path / "red.jpg", (32, 18), (255, 0, 0, 255))
    doc = project(
        [
            video_track("bg", [file_clip("j", jpg, 0, 1)]),
            video_track("fg", [file_clip("p", png, 0, 1)]),
        ]
    )
    (img,) = render(doc, [0])
    r, g, b = centre(img)
    assert abs(r - 127) <= 3 and abs(g - 128) <= 3 and b <= 3


def test_transform_scale_position_and_anchor() -> None:
    # Half-size white clip moved 40 px right: covers x in [120, 280), y in [45, 135).
    doc = project(
        [
            video_track(
                "v",
                [
                    clip(
                        "c",
                        0,
                        1,
                        "#ffffff",
                        transform={
                            "scale_x": 0.5,
                            "scale_y": 0.5,
                            "position_x": 40,
                            "position_y": 0,
                        },
                    )
                ],
            )
        ]
    )
    (img,) = render(doc, [0])
    cols = np.where(img[90, :, 0] > 128)[0]
    rows = np.where(img[:, 200, 0] > 128)[0]
    assert (cols[0], cols[-1]) == (120, 279)
    assert (rows[0], rows[-1]) == (45, 134)
    # Anchor at the top-left corner: scaling keeps that corner where it was.
    doc = project(
        [
            video_track(
                "v",
                [
                    clip(
                        "c",
                        0,
                        1,
                        "#ffffff",
                        transform={"scale_x": 0.5, "scale_y": 0.5, "anchor_x": 0, "anchor_y": 0},
                    )
                ],
            )
        ]
    )
    (img,) = render(doc, [0])
    assert img[0, 0, 0] == 255 and img[89, 159, 0] == 255 and img[91, 161, 0] == 0


def test_rotation_turns_the_clip_about_its_anchor() -> None:
    # A wide thin bar rotated 90 degrees becomes a tall thin bar through the centre.
    doc = project(
        [
            video_track(
                "v",
                [
                    clip(
                        "c",
                        0,
                        1,
                        "#ffffff",
                        transform={"scale_x": 0.5, "scale_y": 0.1, "rotation": 90},
                    )
                ],
            )
        ]
    )
    (img,) = render(doc, [0])
    rows = np.where(img[:, 160, 0] > 128)[0]
    cols = np.where(img[90, :, 0] > 128)[0]
    assert rows[-1] - rows[0] + 1 == pytest.approx(160, abs=2)
    assert cols[-1] - cols[0] + 1 == pytest.approx(18, abs=2)


def test_crop_removes_source_pixels(tmp_path: Path) -> None:
    src = make_video(tmp_path / "src.mp4", frames=3, size=(160, 90))
    doc = project(
        [
            video_track(
                "v",
                [
                    file_clip(
                        "c", src, 0, 0.1, crop={"left": 80, "top": 0, "right": 0, "bottom": 45}
                    )
                ],
            )
        ]
    )
    (img,) = render(doc, [0])
    # 80x45 remains (16:9), fitted to the whole canvas: the marker bar at x=0 is cropped away.
    assert img[:40, :].max() < 200


def test_color_correction_and_effect_windows() -> None:
    effects = [{"id": "inv", "effect_type": "Invert", "start_time": 0.5, "end_time": 0.6}]
    doc = project(
        [
            video_track(
                "v",
                [clip("c", 0, 1, "#808080", effects=["inv"], color_correction={"brightness": 0.2})],
            )
        ],
        effects=effects,
    )
    before, inside, after = render(doc, [10, 16, 20])
    assert centre(before)[0] == pytest.approx(128 + 51, abs=2)
    assert centre(inside)[0] == pytest.approx(255 - 179, abs=2)
    assert np.array_equal(before, after)


@pytest.mark.parametrize(
    ("kind", "direction"),
    [("Dissolve", None), ("FadeThroughBlack", None), ("Wipe", "right"), ("Slide", "left")],
)
def test_transitions_show_both_clips(kind: str, direction: str | None) -> None:
    # Red then blue with a 31-frame transition centred on the cut at frame 30: frames 15..45.
    tr: dict[str, Any] = {
        "id": "t",
        "transition_type": kind,
        "from_clip_id": "a",
        "to_clip_id": "b",
        "duration": 31 / 30,
    }
    if direction:
        tr["direction"] = direction
    doc = project(
        [video_track("v", [clip("a", 0, 1, "#ff0000"), clip("b", 1, 2, "#0000ff")])],
        transitions=[tr],
    )
    before, mid, after = render(doc, [14, 30, 46])
    assert list(centre(before)) == [255, 0, 0] and list(centre(after)) == [0, 0, 255]
    if kind == "Dissolve":
        assert np.abs(mid[90].astype(int) - [128, 0, 128]).max() <= 1
    elif kind == "FadeThroughBlack":
        assert mid.max() <= 1
    elif kind == "Wipe":
        # p = (15 + 0.5) / 31 = 0.5: columns < 160 show the incoming clip.
        assert list(mid[90, 159]) == [0, 0, 255] and list(mid[90, 160]) == [255, 0, 0]
    else:
        assert list(mid[90, 159]) == [255, 0, 0] and list(mid[90, 160]) == [0, 0, 255]


def test_subtitle_changes_pixels_only_inside_its_window() -> None:
    doc = project(
        [video_track("v", [clip("c", 0, 2, "#000000")])],
        subtitles=[
            {
                "id": "s",
                "text": "Hello",
                "start_time": 0.5,
                "end_time": 1.0,
                "style": {"font_size": 40, "color": "#ffffff"},
            }
        ],
    )
    before, inside, last, after = render(doc, [14, 15, 29, 30])
    assert not before.any() and not after.any()
    assert inside.any() and np.array_equal(inside, last)
    rows = np.where(inside.max(axis=(1, 2)) > 0)[0]
    assert rows.min() > 90  # at the bottom


def test_ntsc_timeline_frame_count() -> None:
    doc = project([video_track("v", [clip("c", 0, 10.01)])], fps=29.97)
    tl: Timeline = load_project(doc, ".")
    assert tl.frames == 300


def test_clips_showing_the_same_footage_at_once_decode_it_once(tmp_path: Path) -> None:
    src = make_video(tmp_path / "src.mp4", frames=60, gop=7)
    doc = project(
        [
            video_track("bottom", [file_clip("under", src, 0, 1)]),
            video_track("top", [file_clip("over", src, 0, 1, opacity=0.5)]),
        ]
    )
    comp = Compositor(load_project(doc, "."))
    try:
        assert [identify(comp.frame(t)) for t in (0, 1, 5, 9)] == [0, 1, 5, 9]
        # The top clip took every frame the bottom one had decoded: its own decoder never ran.
        assert comp.sources["over"]._last_pts is None
    finally:
        comp.close()


@pytest.mark.parametrize("speeds", [(1.0, 2.0), (2.0, 1.0)])
def test_clips_of_one_file_that_meet_and_part_each_show_their_own_frame(
    tmp_path: Path, speeds: tuple[float, float]
) -> None:
    # Both start on frame 0 (one decode for both), then one runs ahead: each must still show
    # its own frame, the one behind decoding for itself from where it last was or a keyframe.
    src = make_video(tmp_path / "src.mp4", frames=60, gop=7)
    under, over = speeds
    doc = project(
        [
            video_track("bottom", [file_clip("under", src, 0, 1, speed=under)]),
            video_track("top", [file_clip("over", src, 0, 1, speed=over)]),
        ]
    )
    shown = [identify(f) for f in render(doc, [0, 1, 2, 3, 9, 10])]
    assert shown == [int(t * over) for t in (0, 1, 2, 3, 9, 10)]
