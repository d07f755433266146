"""The core invariant: any frame range, rendered on its own, equals those frames of a full render.

Each feature gets a small timeline; the full render and several range renders go through a
lossless file, so the test also proves lossless output decodes to exactly the composited frames.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.export_overrides import with_overrides
from chunking.timeline.model import Timeline
from chunking.timeline.studio import load_project
from tests.helpers import clip, file_clip
from tests.media import decode_rgb, make_image, make_interlaced, make_video, project, video_track
from workers.compositor import Compositor
from workers.render import render_to_file

FPS = 30


def video_speed(tmp: Path) -> dict[str, Any]:
    src = make_video(tmp / "a.mp4", frames=90, gop=12)
    other = make_video(tmp / "b.mkv", frames=40, fps=24, pix_fmt="yuv422p", size=(128, 96))
    return project(
        [
            video_track(
                "v",
                [
                    file_clip("slow", src, 0, 0.5, speed=0.5, source_start=0.3),
                    file_clip("fast", src, 0.5, 1.0, speed=2.0),
                    file_clip("x24", other, 1.0, 1.6),
                ],
            )
        ]
    )


def reverse(tmp: Path) -> dict[str, Any]:
    """Clips played backwards at 1x, 0.5x and 2x (GOPs of 12), with a dissolve between two."""
    src = make_video(tmp / "a.mp4", frames=90, gop=12)
    back = {"reverse": True}
    return project(
        [
            video_track(
                "v",
                [
                    file_clip("back", src, 0, 1.0, source_start=0.2, **back),
                    file_clip("slow", src, 1.0, 1.6, speed=0.5, source_start=1.1, **back),
                    file_clip("fast", src, 1.6, 2.0, speed=2.0, **back),
                ],
            )
        ],
        transitions=[
            {
                "id": "d",
                "transition_type": "Dissolve",
                "from_clip_id": "back",
                "to_clip_id": "slow",
                "duration": 0.2,
            },
        ],  # fmt: skip
    )


def images_and_generated(tmp: Path) -> dict[str, Any]:
    png = make_image(tmp / "a.png", (64, 36), (0, 255, 0, 100))
    jpg = make_image(tmp / "b.jpg", (80, 60), (200, 10, 10, 255))
    pattern = {
        "source": "Generated",
        "properties": {"custom_metadata": {"generator": {"type": "pattern", "pattern": "bars"}}},
    }
    return project(
        [
            video_track(
                "bg",
                [
                    {"id": "bars", "start_time": 0, "end_time": 1, **pattern},
                    file_clip("jpg", jpg, 1, 1.5),
                ],
            ),
            video_track("fg", [file_clip("png", png, 0.2, 1.2)]),
        ]
    )


def geometry_and_color(tmp: Path) -> dict[str, Any]:
    src = make_video(tmp / "a.mp4", frames=60, gop=9)
    return project(
        [
            video_track("bg", [clip("grey", 0, 1.5, "#336699")]),
            video_track(
                "fg",
                [
                    file_clip(
                        "v",
                        src,
                        0,
                        1.5,
                        opacity=0.7,
                        transform={
                            "scale_x": 0.6,
                            "scale_y": 0.5,
                            "position_x": -20,
                            "position_y": 10,
                            "rotation": 17,
                            "anchor_x": 0.3,
                            "anchor_y": 0.6,
                        },
                        crop={"left": 10, "top": 5, "right": 20, "bottom": 0},
                        color_correction={
                            "brightness": 0.1,
                            "contrast": 1.3,
                            "saturation": 0.5,
                            "hue": 30,
                            "gamma": 1.2,
                        },
                    )
                ],
            ),
        ]
    )


def effects(tmp: Path) -> dict[str, Any]:
    kinds = [
        "Blur",
        "Brightness",
        "Contrast",
        "Saturation",
        "HueRotate",
        "Grayscale",
        "Sepia",
        "Invert",
        "Vignette",
        "Sharpen",
        "FilmGrain",
    ]
    specs = [
        {"id": f"e{i}", "effect_type": k, "start_time": i * 0.1, "end_time": i * 0.1 + 0.3}
        for i, k in enumerate(kinds)
    ]
    specs.append({"id": "grain", "effect_type": "FilmGrain", "params": {"amount": 0.2}})
    pattern = {
        "source": "Generated",
        "properties": {"custom_metadata": {"generator": {"type": "pattern", "pattern": "checker"}}},
    }
    return project(
        [
            video_track(
                "v",
                [
                    {
                        "id": "p",
                        "start_time": 0,
                        "end_time": 1.5,
                        "effects": [s["id"] for s in specs],
                        **pattern,
                    }
                ],
            )
        ],
        effects=specs,
    )


def transitions(tmp: Path) -> dict[str, Any]:
    kinds = [
        ("Dissolve", None),
        ("FadeThroughBlack", None),
        ("Wipe", "left"),
        ("Wipe", "up"),
        ("Slide", "right"),
        ("Slide", "down"),
        ("Wipe", "down"),
    ]
    colors = [
        "#ff0000",
        "#00ff00",
        "#0000ff",
        "#ffff00",
        "#00ffff",
        "#ff00ff",
        "#ffffff",
        "#808080",
    ]
    clips = [clip(f"c{i}", i * 0.4, (i + 1) * 0.4, c) for i, c in enumerate(colors)]
    trs = [
        {
            "id": f"t{i}",
            "transition_type": k,
            "direction": d,
            "from_clip_id": f"c{i}",
            "to_clip_id": f"c{i + 1}",
            "duration": 0.3,
        }
        for i, (k, d) in enumerate(kinds)
    ]
    return project([video_track("v", clips)], transitions=trs)


def subtitles(tmp: Path) -> dict[str, Any]:
    return project(
        [video_track("v", [clip("c", 0, 1.2, "#224466")])],
        subtitles=[
            {"id": "s1", "text": "First line\nsecond", "start_time": 0.2, "end_time": 0.7},
            {
                "id": "s2",
                "text": "Top",
                "start_time": 0.5,
                "end_time": 1.1,
                "style": {
                    "position": "top",
                    "color": "#ffff00",
                    "font_size": 30,
                    "background_color": "#00000080",
                },
            },
        ],
    )


def ntsc(tmp: Path) -> dict[str, Any]:
    src = make_video(tmp / "a.mp4", frames=50, fps=25)
    return project([video_track("v", [file_clip("v", src, 0, 1.3, speed=1.5)])], fps="24000/1001")


def interlaced(tmp: Path) -> dict[str, Any]:
    # 25 fps on a 25 fps timeline: frame n shows source frame n (keyframes 0, 6, 12, 18).
    src = make_interlaced(tmp / "i.mp4", frames=20, gop=6)
    mpeg2 = make_interlaced(tmp / "i.mpg", frames=12, codec="mpeg2video", gop=5)
    return project(
        [video_track("v", [file_clip("i", src, 0, 0.8), file_clip("m", mpeg2, 0.8, 1.28)])],
        fps=25,
    )


def zoomed(tmp: Path) -> dict[str, Any]:
    # Scale 60: resampled only where it shows (workers.geometry.place_within), turned and moving.
    src = make_video(tmp / "a.mp4", frames=40, gop=9)
    turned = {"scale_x": 60, "scale_y": 60, "rotation": 21, "anchor_x": 0.3, "position_x": 7.5}
    return project([video_track("v", [file_clip("z", src, 0, 1.2, transform=turned)])])


def fades(tmp: Path) -> dict[str, Any]:
    # A video fading in and out over an opaque colour, a still fading in over both along a
    # curve, then dimmed by opacity keys.
    src = make_video(tmp / "a.mp4", frames=45, gop=9)
    png = make_image(tmp / "a.png", (64, 36), (0, 255, 0, 160))
    keys = [{"time": 0.6, "opacity": 1}, {"time": 0.9, "opacity": 0.3, "easing": "cosine"}]
    curved_out = {"picture_fade_out": 0.3, "picture_fade_out_curve": "exponential"}
    curved_in = {"picture_fade_in": 0.5, "picture_fade_in_curve": "ease-in-out"}
    return project(
        [
            video_track("bg", [clip("grey", 0, 1.5, "#336699")]),
            video_track("v", [file_clip("v", src, 0.1, 1.4, picture_fade_in=0.4, **curved_out)]),
            video_track(
                "fg", [file_clip("png", png, 0.5, 1.5, opacity_keyframes=keys, **curved_in)]
            ),
        ]
    )


def motion(tmp: Path) -> dict[str, Any]:
    # A 15 fps video on a 30 fps timeline (each source frame shown twice) moving, growing and
    # turning along transform keys over a still that slides in.
    src = make_video(tmp / "a.mp4", frames=30, fps=15)
    keys = [
        {"time": 0.1, "scale": 0.4, "position_x": -80},
        {"time": 0.6, "scale": 1.3, "rotation": 40, "easing": "ease-in-out"},
        {"time": 1.0, "scale": 0.6, "position_y": 30, "rotation": 90},
    ]
    png = make_image(tmp / "a.png", (64, 36), (0, 255, 0, 160))
    slide = [{"time": 0, "position_x": -300}, {"time": 0.5, "position_x": 0, "easing": "cosine"}]
    return project(
        [
            video_track("v", [file_clip("m", src, 0, 1.2, transform_keyframes=keys)]),
            video_track("fg", [file_clip("png", png, 0.2, 1.2, transform_keyframes=slide)]),
        ]
    )


FEATURES: dict[str, tuple[Callable[[Path], dict[str, Any]], list[tuple[int, int]]]] = {
    # name: (timeline, ranges: mid-clip, across a speed change, a single frame, ...)
    "video_speed": (video_speed, [(7, 22), (14, 16), (29, 31), (40, 41)]),
    "reverse": (reverse, [(5, 9), (13, 14), (25, 33), (29, 31), (40, 47), (50, 51), (59, 60)]),
    "images_generated": (images_and_generated, [(5, 9), (29, 33), (44, 45)]),
    "geometry_color": (geometry_and_color, [(11, 17), (44, 45)]),
    "effects": (effects, [(2, 8), (13, 14), (20, 31)]),
    "transitions": (transitions, [(9, 14), (20, 27), (37, 38), (58, 70)]),
    "subtitles": (subtitles, [(4, 8), (14, 16), (20, 21)]),
    "ntsc": (ntsc, [(3, 9), (25, 26)]),
    "zoomed": (zoomed, [(5, 12), (20, 21)]),
    # inside a fade, across its end, one frame mid-fade, the fade-out to the last frame
    "fades": (fades, [(3, 9), (10, 20), (22, 23), (30, 42), (41, 42)]),
    # at keyframes, just after them, one frame, the last of a file and of the timeline
    # mid-move, a frame that repeats a source frame, across keys, past the last key
    "motion": (motion, [(3, 9), (5, 6), (15, 22), (29, 36)]),
    "interlaced": (interlaced, [(6, 11), (7, 8), (12, 13), (13, 20), (19, 21), (25, 32), (31, 32)]),
}


def lossless(tl: Timeline) -> Timeline:
    from dataclasses import replace

    return replace(tl, export=with_overrides(tl.export, container="mkv", lossless=True))


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_ranges_equal_the_full_render(tmp_path: Path, feature: str) -> None:
    build, ranges = FEATURES[feature]
    tl = lossless(load_project(build(tmp_path), str(tmp_path)))
    # Given the full lossless render
    full_path = tmp_path / "full.mkv"
    render_to_file(tl, str(full_path), audio=False)
    full = decode_rgb(full_path)
    assert len(full) == tl.frames
    # Then it decodes to exactly the composited frames
    comp = Compositor(tl)
    try:
        for t in sorted({0, tl.frames // 2, tl.frames - 1}):
            assert np.array_equal(full[t], comp.frame(t)), f"frame {t} differs after encoding"
    finally:
        comp.close()
    # And every range rendered on its own equals the same frames of the full render
    for start, end in ranges:
        part_path = tmp_path / f"part-{start}-{end}.mkv"
        render_to_file(tl, str(part_path), start=start, end=end, audio=False)
        part = decode_rgb(part_path)
        assert len(part) == end - start
        for offset, frame in enumerate(part):
            assert np.array_equal(frame, full[start + offset]), (
                f"{feature}: frame {start + offset} differs when rendering [{start}, {end})"
            )


def test_frames_do_not_depend_on_what_was_rendered_before(tmp_path: Path) -> None:
    tl = load_project(video_speed(tmp_path), str(tmp_path))
    forward = Compositor(tl)
    backward = Compositor(tl)
    try:
        order = list(range(tl.frames))
        a = {t: forward.frame(t) for t in order}
        b = {t: backward.frame(t) for t in reversed(order[::3])}
        for t, img in b.items():
            assert np.array_equal(img, a[t]), f"frame {t} depends on decode history"
    finally:
        forward.close()
        backward.close()
