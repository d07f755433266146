"""The memory estimate of a keyframed clip (chunking.memory): budgeted at the largest its keys
draw it over the clip, not at its base transform."""

from __future__ import annotations

from dataclasses import astuple, replace
from fractions import Fraction

import pytest

from chunking.memory import clip_part, costliest_transform, memory_problems
from chunking.timeline.model import (
    Clip,
    Effect,
    FileSource,
    Timeline,
    Track,
    TrackKind,
    Transform,
    TransformKey,
)
from chunking.timeline.placement import key_transform

GB = 1 << 30
FPS = Fraction(30)


def keyed(*keys: tuple[float, Transform], frames: int = 30) -> Clip:
    """A 1080p video clip of ``frames`` frames (1 s by default) with these keys."""
    moving = tuple(TransformKey(time, t) for time, t in keys)
    return Clip(id="k", track_id="v", source=FileSource("a.mp4"), start=0, end=frames,
                transform_keys=moving)  # fmt: skip


def timeline(clip: Clip) -> Timeline:
    track = Track(id="v", kind=TrackKind.VIDEO, clips=(clip,))
    return Timeline(fps=FPS, width=1920, height=1080, frames=clip.end, tracks=(track,))


def part(clip: Clip) -> tuple[int, int]:
    p = clip_part(clip, (), timeline(clip))
    return p.held, p.building


def scaled(s: float, sy: float | None = None, rotation: float = 0.0) -> Transform:
    return Transform(scale_x=s, scale_y=s if sy is None else sy, rotation=rotation)


ONE, TEN = scaled(1), scaled(10)
#: 29/30 s into a 1-s clip of a key run from 0 s to 100 s: where that clip ends.
LAST = Fraction(29, 30)


@pytest.mark.parametrize(
    ("keys", "largest"),
    [
        ([(0, ONE), (0.5, TEN)], TEN),  # zoomed to 10x half way: budgeted at 10x
        ([(0, TEN), (0.5, ONE)], TEN),  # from 10x down
        ([(0, ONE), (0.3, TEN), (0.6, ONE)], TEN),  # out and back
        ([(0, scaled(1, 1)), (0.5, scaled(4, 1))], scaled(4, 1)),  # one axis
        ([(0, scaled(2)), (0.5, scaled(2, rotation=90))], scaled(2, rotation=45)),  # widest box
        ([(0, scaled(2, rotation=10)), (0.5, scaled(2, rotation=30))], scaled(2, rotation=30)),
        # A key past the clip's end counts only as far as the clip gets towards it.
        ([(0, ONE), (100, scaled(50))],
         key_transform((TransformKey(0, ONE), TransformKey(100, scaled(50))), LAST)),
        ([(-5, TEN), (0, ONE), (0.5, scaled(3))], scaled(3)),  # a key before the clip
    ],
)  # fmt: skip
def test_a_keyed_clip_is_budgeted_at_its_largest_over_the_clip(
    keys: list[tuple[float, Transform]], largest: Transform
) -> None:
    clip = keyed(*keys)
    fixed = replace(clip, transform=largest, transform_keys=())
    assert part(clip) == part(fixed)
    assert astuple(costliest_transform(clip, FPS)) == pytest.approx(astuple(largest))


def test_the_message_says_the_keys_make_it_big() -> None:
    blur = (Effect(id="b", kind="blur"),)  # it needs the whole layer
    clip = replace(keyed((0, ONE), (0.5, scaled(100, rotation=45))), effects=blur)
    problems = memory_problems(timeline(clip), 2 * GB)
    assert len(problems) == 1
    assert problems[0].endswith(
        "clip 'k' scaled 100x and rotated 45 degrees on a 1920x1080 canvas at its largest "
        "(its transform keys)"
    )


def test_a_clip_without_keys_is_budgeted_at_its_transform() -> None:
    clip = replace(keyed((0, ONE)), transform=TEN, transform_keys=())
    assert costliest_transform(clip, FPS) is clip.transform
