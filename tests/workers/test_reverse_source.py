"""Clips played backwards (Clip.reverse): each frame is the forward clip's mirror frame, and the
source is read GOP by GOP backwards within a bounded window (workers.reverse_source)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chunking.timeline.model import Clip, FileSource, Timeline
from chunking.timeline.studio import load_project
from tests.helpers import file_clip
from tests.media import identify, make_image, make_video, project, video_track
from tests.workers.test_sources_sequence import images, timeline_of
from workers.compositor import Compositor
from workers.reverse_source import ReverseVideo
from workers.video_source import VideoSource

FPS = 30


def reversed_timeline(tmp: Path, speed: float = 1.0, frames: int = 30, **extra: Any) -> Timeline:
    """One reversed clip of a 60-frame counter video (GOP 12), from source frame 10 on."""
    src = make_video(tmp / "a.mp4", frames=60, gop=12)
    clip = file_clip("r", src, 0, frames / FPS, source_start=10 / FPS, speed=speed, reverse=True)
    return load_project(project([video_track("v", [{**clip, **extra}])]), str(tmp))


def forwards(tl: Timeline) -> Timeline:
    """The same timeline with every clip played forwards."""
    tracks = tuple(
        replace(t, clips=tuple(replace(c, reverse=False) for c in t.clips)) for t in tl.tracks
    )
    return replace(tl, tracks=tracks)


def rendered(tl: Timeline, frames: range) -> list[np.ndarray]:
    comp = Compositor(tl)
    try:
        return list(comp.frames(frames.start, frames.stop))
    finally:
        comp.close()


def test_a_reversed_clip_shows_its_span_last_frame_first(tmp_path: Path) -> None:
    """Frames [10, 40) of the source backwards: 39 first, 10 last, each once."""
    tl = reversed_timeline(tmp_path)
    shown = [identify(f) for f in rendered(tl, range(tl.frames))]
    assert shown == list(range(39, 9, -1))


@pytest.mark.parametrize("speed", [0.5, 1.0, 1.5, 2.0])
def test_each_frame_is_the_forward_clips_mirror_frame(tmp_path: Path, speed: float) -> None:
    """At any speed, frame k of the reversed clip is exactly frame n-1-k played forwards."""
    tl = reversed_timeline(tmp_path, speed=speed, frames=24)
    back = rendered(tl, range(tl.frames))
    ahead = rendered(forwards(tl), range(tl.frames))
    assert len(back) == len(ahead) == 24
    for k, frame in enumerate(back):
        assert np.array_equal(frame, ahead[-1 - k]), f"frame {k}"


def test_reading_backwards_decodes_each_frame_once_not_a_gop_per_frame(tmp_path: Path) -> None:
    tl = reversed_timeline(tmp_path, frames=48)
    comp = Compositor(tl)
    try:
        for t in range(tl.frames):
            comp.frame(t)
            source = comp.sources["r"]
            assert isinstance(source, ReverseVideo)
            assert len(source._held) <= source.window
        # Source frames 57 down to 10 lie in the GOPs at 0, 12, 24, 36 and 48: each of their
        # 58 frames decoded once (a GOP's decode a frame shown would be about 300).
        assert source.decoded == 58
    finally:
        comp.close()


def test_a_chunk_starting_inside_a_reversed_clip_decodes_one_gop(tmp_path: Path) -> None:
    """Frame 20 shows source frame 37: decoded from its keyframe (36), not the file's start."""
    tl = reversed_timeline(tmp_path, frames=48)
    comp = Compositor(tl)
    try:
        comp.open_range(20, 21)
        assert identify(comp.frame(20)) == 37
        source = comp.sources["r"]
        assert isinstance(source, ReverseVideo)
        assert source.decoded == 2  # keyframe 36, then 37
    finally:
        comp.close()


@pytest.mark.parametrize("window", [2, 5, 12])
def test_a_window_smaller_than_a_gop_holds_that_many_frames(tmp_path: Path, window: int) -> None:
    """The frames held never exceed the window; a long GOP is decoded in several runs."""
    src = make_video(tmp_path / "a.mp4", frames=40, gop=20)
    video = VideoSource(str(src), "r")
    back = ReverseVideo(video, window=window)
    forward = VideoSource(str(src), "f")
    try:
        for index in range(39, -1, -1):
            seconds = video.index.times[index] * video.time_base - video.first * video.time_base
            got = back.picture_at(seconds)
            assert len(back._held) <= window
            assert identify(got.rgb) == index
            assert np.array_equal(got.rgb, forward.picture_at(seconds).rgb)
        # GOPs of 20 in runs of `window`: about 20 * 20 / (2 * window) + 10 decodes each.
        runs = -(-20 // window)
        assert back.decoded <= 2 * sum(20 - r * window for r in range(runs))
    finally:
        back.close()
        forward.close()


def test_a_reversed_still_is_the_still(tmp_path: Path) -> None:
    png = make_image(tmp_path / "a.png", (64, 36), (0, 255, 0, 255))
    clip = file_clip("s", png, 0, 0.3, reverse=True)
    tl = load_project(project([video_track("v", [clip])]), str(tmp_path))
    assert [c.reverse for t in tl.tracks for c in t.clips] == [True]
    back = rendered(tl, range(tl.frames))
    assert all(np.array_equal(f, back[0]) for f in back)
    assert np.array_equal(back[0], rendered(forwards(tl), range(1))[0])


def test_a_reversed_image_sequence_shows_its_images_last_first(tmp_path: Path) -> None:
    """Random access by image: a sequence needs no backwards reader, only the mirrored times."""
    seq = images(tmp_path / "seq", 10)
    path = str(tmp_path / "seq" / seq.name(0))
    clip = Clip("s", "v", FileSource(path, seq), 0, 8, source_start=1 / 24, reverse=True)
    shown = [identify(f) for f in rendered(timeline_of(clip, 8), range(8))]
    assert shown == list(range(8, 0, -1))
