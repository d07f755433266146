"""The cost model of a keyframed clip (chunking.complexity): each frame priced at the transform
its keys give that frame, and a moving still made again every frame."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import pytest

from chunking import weights as w
from chunking.complexity import complexity, frame_cost
from chunking.timeline.model import (
    Clip,
    FileSource,
    GeneratedSource,
    Source,
    Timeline,
    Track,
    TrackKind,
    Transform,
    TransformKey,
)

VIDEO = FileSource("a.mp4")
STILL = FileSource("a.jpg")
ZOOM = (TransformKey(0, Transform()), TransformKey(2, Transform(10, 10)))


def timeline(clip: Clip) -> Timeline:
    track = Track(id="v", kind=TrackKind.VIDEO, clips=(clip,))
    return Timeline(fps=Fraction(30), width=1920, height=1080, frames=90, tracks=(track,))


def keyed(source: Source = VIDEO, keys: tuple[TransformKey, ...] = ZOOM) -> Clip:
    """A 3-s clip zoomed from 1x to 10x over its first 2 s (held after)."""
    return Clip(id="k", track_id="v", source=source, start=0, end=90, transform_keys=keys)


def fixed_at(clip: Clip, t: int) -> Clip:
    return replace(clip, transform=clip.transform_at(t, Fraction(30)), transform_keys=())


@pytest.mark.parametrize(
    ("source", "sizes"),
    [
        (VIDEO, None),  # taken to be the canvas's size
        (VIDEO, {"a.mp4": (3840, 2160)}),  # probed
        (VIDEO, {"a.mp4": (640, 360)}),
    ],
)
@pytest.mark.parametrize("t", [0, 15, 30, 59, 60, 89])
def test_a_keyed_video_costs_the_fixed_clip_at_that_frames_transform(
    source: Source, sizes: dict[str, tuple[int, int]] | None, t: int
) -> None:
    clip = keyed(source)
    moving = frame_cost(timeline(clip), t, sizes)
    assert moving == pytest.approx(frame_cost(timeline(fixed_at(clip, t)), t, sizes))


def test_a_zoom_to_10x_costs_more_than_the_clip_at_1x() -> None:
    clip = keyed()
    plain = timeline(replace(clip, transform_keys=()))
    assert frame_cost(timeline(clip), 0) == pytest.approx(frame_cost(plain, 0))
    assert frame_cost(timeline(clip), 89) > frame_cost(plain, 89) + 10 * (1 - w.DECODE)
    # The average over the clip lies between its ends' costs.
    low, high = frame_cost(timeline(clip), 0), frame_cost(timeline(clip), 89)
    assert low < complexity(timeline(clip)) < high


@pytest.mark.parametrize("source", [STILL, GeneratedSource("color")])
def test_a_moving_still_is_made_every_frame(source: Source) -> None:
    # A still or colour drawn once costs one pass over its area; moving, it is resized and
    # composited every frame like a video's picture, without the decoding.
    still = Clip(id="s", track_id="v", source=source, start=0, end=90)
    moving = keyed(source, (TransformKey(0, Transform()), TransformKey(3, Transform(0.5, 0.5))))
    drawn_once = frame_cost(timeline(still), 0)
    assert drawn_once == pytest.approx(frame_cost(timeline(fixed_at(moving, 0)), 0))
    canvas_pass = w.RESIZE + (1 - w.DECODE) - max(w.STILL, w.MIN_PASS)
    assert frame_cost(timeline(moving), 0) == pytest.approx(drawn_once + canvas_pass)


@pytest.mark.parametrize(
    ("scale", "drawn"),
    [(Transform(0, 0), False), (Transform(0, 1), False), (Transform(1, 0), False),
     (Transform(0.01, 0.01), True)],
)  # fmt: skip
def test_a_frame_scaled_to_nothing_is_not_decoded(scale: Transform, drawn: bool) -> None:
    # workers.compositor returns no layer before decoding when a scale is exactly 0.
    zoom = keyed(keys=(TransformKey(0, scale), TransformKey(1, Transform())))
    empty = frame_cost(timeline(replace(zoom, end=0)), 0)  # the frame without the clip
    cost = frame_cost(timeline(zoom), 0) - empty
    assert (cost > w.LAYER_FIXED + w.DECODE / 2) is drawn
    assert cost == pytest.approx(w.LAYER_FIXED) or drawn
