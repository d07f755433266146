"""A cropped video clip is cut in its frame's planes and scaled once: it draws exactly what a
video of only the part kept draws, fixed or keyframed, with no cropped-away pixel at its edges;
a crop off the chroma grid is cut from the full-size picture as before; every frame is the
same whatever range is rendered."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from chunking.timeline.model import Timeline
from chunking.timeline.placement import Crop
from chunking.timeline.studio import load_project
from common.errors import TimelineError
from tests.helpers import clip, file_clip
from tests.media import project, video_track
from tests.workers.test_hdr import PQ_BARS, hdr_frame
from workers import frame_crop, geometry
from workers.compositor import Compositor
from workers.frame_crop import cropped_picture
from workers.frame_picture import frame_picture
from workers.geometry import crop
from workers.sources import Picture, resize
from workers.video_source import VideoSource

#: Even margins (on the 4:2:0 chroma grid): the 320x180 frame less these is 256x144.
CROP = {"left": 32, "top": 18, "right": 32, "bottom": 18}
FRAMES = 12


def planes(width: int, height: int, n: int) -> tuple[Any, Any, Any]:
    """Frame n's Y, U and V planes: detail (a checker and noise) inside CROP, black outside."""
    rng = np.random.default_rng(n)
    y_, x_ = np.mgrid[0:height, 0:width]
    luma = ((x_ + 2 * n) // 5 + y_ // 5) % 2 * 150 + 40 + rng.integers(0, 30, (height, width))
    u = 128 + rng.integers(-60, 60, (height // 2, width // 2))
    v = 128 + ((np.arange(width // 2)[None, :] * 3 + n * 7) % 120 - 60) + 0 * u
    top, left = CROP["top"], CROP["left"]
    bottom, right = height - CROP["bottom"], width - CROP["right"]
    luma[:top], luma[bottom:], luma[:, :left], luma[:, right:] = 16, 16, 16, 16
    return luma.astype(np.uint8), u.astype(np.uint8), v.astype(np.uint8)


def lossless(path: Path, cut: bool) -> Path:
    """A lossless 320x180 4:2:0 H.264 video (``cut``: only its CROP part, 256x144) at 15 fps."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=15)
        width, height = (256, 144) if cut else (320, 180)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"qp": "0", "preset": "ultrafast", "g": "5"}
        for n in range(FRAMES):
            y, u, v = planes(320, 180, n)
            if cut:
                y = y[18:162, 32:288]
                u, v = u[9:81, 16:144], v[9:81, 16:144]
            packed = np.concatenate([y.ravel(), u.ravel(), v.ravel()])
            frame = av.VideoFrame.from_ndarray(packed.reshape(-1, width), "yuv420p")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def timeline(source: Path, base: Path, **extra: Any) -> Timeline:
    """A 160x90 timeline at 30 fps: a grey background and a clip of ``source``."""
    top = file_clip("c", source, 0, 0.8, **extra)
    doc = project(
        [video_track("bg", [clip("bg", 0, 0.8, "#808080")]), video_track("v", [top])],
        fps=30, size=(160, 90),
    )  # fmt: skip
    return load_project(doc, str(base))


def render(tl: Timeline, wanted: list[int]) -> list[Any]:
    """The frames ``wanted``, drawn in that order by one compositor."""
    comp = Compositor(tl)
    try:
        return [np.asarray(comp.frame(t)).astype(np.int16) for t in wanted]
    finally:
        comp.close()


ZOOM = [
    {"time": 0, "scale": 0.4, "position_x": -20},
    {"time": 0.4, "scale": 0.9, "rotation": 12, "easing": "ease-in-out"},
    {"time": 0.7, "scale": 1.6, "position_y": 10, "rotation": 0},
]


@pytest.mark.parametrize(
    "shape",
    [
        {"transform": {"scale": 1}},  # 256x144 down to 160x90
        {"transform": {"scale": 0.53, "position_x": 9}},
        {"transform": {"scale": 1.8, "rotation": 17}},  # enlarged past the kept part
        {"transform": {"scale": 0.625}},  # 1:1
        {"transform_keyframes": ZOOM},
        {"transform_keyframes": ZOOM, "reverse": True},
    ],
)
def test_a_cropped_video_draws_what_a_video_of_the_kept_part_draws(
    tmp_path: Path, shape: dict[str, Any]
) -> None:
    whole, part = lossless(tmp_path / "whole.mp4", False), lossless(tmp_path / "part.mp4", True)
    frames = [0, 5, 11, 12, 17, 23]
    cropped = render(timeline(whole, tmp_path, crop=CROP, **shape), frames)
    kept = render(timeline(part, tmp_path, **shape), frames)
    for t, a, b in zip(frames, cropped, kept, strict=True):
        assert np.array_equal(a, b), (t, int(np.abs(a - b).max()))


def test_a_crop_off_the_chroma_grid_is_cut_from_the_full_picture(tmp_path: Path) -> None:
    odd = {"left": 31, "top": 17, "right": 33, "bottom": 19}
    whole = lossless(tmp_path / "whole.mp4", False)
    tl = timeline(whole, tmp_path, crop=odd)
    (drawn,) = render(tl, [3])
    source = VideoSource(str(whole), "c")
    try:
        full = source.picture_at(Fraction(3, 30))
    finally:
        source.close()
    expected = resize(crop(full, tl.clip("c")), 160, 90).rgb
    assert np.array_equal(drawn, expected)


def test_a_cropped_video_is_not_resampled_after_it_is_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resampled: list[tuple[int, int]] = []
    original = geometry.resize

    def spied(picture: Picture, out_w: int, out_h: int) -> Picture:
        if picture.rgb.shape[:2] != (out_h, out_w):
            resampled.append(picture.rgb.shape[:2])
        return original(picture, out_w, out_h)

    monkeypatch.setattr(geometry, "resize", spied)
    whole = lossless(tmp_path / "whole.mp4", False)
    render(timeline(whole, tmp_path, crop=CROP, transform_keyframes=ZOOM), list(range(0, 24, 3)))
    assert resampled == []  # decoded at each frame's size, the crop taken off first


@pytest.mark.parametrize("extra", [{}, {"reverse": True}, {"effects": ["k"]}])
def test_cropped_keyframed_frames_do_not_depend_on_the_range_rendered(
    tmp_path: Path, extra: dict[str, Any]
) -> None:
    # A 15 fps source on 30 fps: each source frame is drawn on two frames at two sizes. The
    # key (a window of it) switches the clip between the cut-first and the key-first path.
    whole = lossless(tmp_path / "whole.mp4", False)
    moving = file_clip("c", whole, 0, 0.8, crop=CROP, transform_keyframes=ZOOM, **extra)
    key = {"id": "k", "effect_type": "ChromaKey", "start_time": 0.2, "end_time": 0.5,
           "parameters": {"color": "#000000", "similarity": 0.2}}  # fmt: skip
    doc = project(
        [video_track("bg", [clip("bg", 0, 0.8, "#808080")]), video_track("v", [moving])],
        fps=30, size=(160, 90), effects=[key],
    )  # fmt: skip
    tl = load_project(doc, str(tmp_path))
    full = render(tl, list(range(24)))
    assert not np.array_equal(full[8], full[9])
    for start, end in [(1, 4), (5, 8), (9, 15), (15, 24)]:
        part = render(tl, list(range(start, end)))
        for t, frame in zip(range(start, end), part, strict=True):
            assert np.array_equal(frame, full[t]), f"frame {t} differs from [{start}, {end})"


def test_a_crop_that_removes_the_whole_frame_names_the_clip(tmp_path: Path) -> None:
    whole = lossless(tmp_path / "whole.mp4", False)
    tl = timeline(whole, tmp_path, crop={"left": 200, "right": 120})
    with pytest.raises(TimelineError, match="clip 'c': crop 200,0,120,0 removes the whole"):
        render(tl, [0])


def test_a_fixed_crop_is_kept_with_a_fixed_clip(tmp_path: Path) -> None:
    # The moving clip's frame t is the fixed clip at frame t's transform, crop and all.
    whole = lossless(tmp_path / "whole.mp4", False)
    tl = timeline(whole, tmp_path, crop=CROP, transform_keyframes=ZOOM)
    for t in (4, 13, 21):
        fixed_clip = dataclasses.replace(
            tl.clip("c"), transform=tl.clip("c").transform_at(t, tl.fps), transform_keys=()
        )
        tracks = tuple(
            dataclasses.replace(
                track, clips=tuple(fixed_clip if c.id == "c" else c for c in track.clips)
            )
            for track in tl.tracks
        )
        (fixed,) = render(dataclasses.replace(tl, tracks=tracks), [t])
        (moving,) = render(tl, [t])
        assert np.array_equal(moving, fixed), f"frame {t}"


@pytest.mark.parametrize("trc", [16, 18, 1])  # PQ, HLG, BT.709 (on BT.2020 primaries)
def test_a_cropped_hdr_frame_keeps_its_colour_conversion(trc: int) -> None:
    frame = hdr_frame([colour for colour, _ in PQ_BARS], trc)
    cut = Crop(left=8, top=4, right=6, bottom=2)
    assert frame_crop._cut(frame, cut, "c") is not None  # cut in its planes, not as before
    part = cropped_picture(frame, cut, "c", None)
    whole = frame_picture(frame, None).rgb[4:-2, 8:-6]
    assert part.rgb.shape == whole.shape
    # Only the kept part's outer pixels may differ: there its chroma is not upsampled from
    # the cropped-away samples beyond it.
    assert np.array_equal(part.rgb[1:-1, 1:-1], whole[1:-1, 1:-1])
