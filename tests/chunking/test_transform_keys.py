"""Keyframed transforms: the model's interpolation and the native format's
``transform_keyframes``, read strictly."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from typing import Any

import pytest

from chunking.timeline.fade_curves import keys_between
from chunking.timeline.model import Transform, TransformKey
from chunking.timeline.placement import key_transform
from chunking.timeline.studio import load_project
from common.errors import ValidationError
from tests.chunking.test_content_key import akey, clip, key, timeline, video
from tests.helpers import clip as solid_clip
from tests.media import project, video_track

LEFT = Transform(position_x=-100.0, scale_x=1.0, rotation=0.0)
RIGHT = Transform(position_x=100.0, scale_x=3.0, rotation=720.0)
KEYS = (TransformKey(1, LEFT), TransformKey(2, RIGHT, "ease-in"), TransformKey(4, LEFT))


def loaded(**fields: Any) -> Any:
    """The one clip of a 2 s red clip with ``fields``, at 10 fps."""
    doc = project([video_track("v", [solid_clip("c", 0, 2, **fields)])], fps=10, size=(32, 18))
    return load_project(doc, ".").clip("c")


@pytest.mark.parametrize(
    ("seconds", "x", "scale", "rotation"),
    [
        (0, -100, 1, 0),  # before the first key: the first's
        (1, -100, 1, 0),
        (1.5, 0, 2, 360),  # linear, rotation numerically (two turns, half way: one)
        (2, 100, 3, 720),
        (3, 100 - 200 * 0.25, 3 - 2 * 0.25, 720 - 720 * 0.25),  # ease-in at half way: 0.25
        (4, -100, 1, 0),
        (9, -100, 1, 0),  # after the last: the last's
    ],
)
def test_keys_hold_the_ends_and_interpolate_between(
    seconds: float, x: float, scale: float, rotation: float
) -> None:
    got = key_transform(KEYS, Fraction(seconds))
    assert (got.position_x, got.scale_x, got.rotation) == pytest.approx((x, scale, rotation))
    assert got.scale_y == 1 and got.anchor_x == 0.5


def test_transform_at_counts_from_the_clips_start_and_clamps_to_it() -> None:
    c = dataclasses.replace(loaded(), start=10, end=70, transform_keys=KEYS)
    fps = Fraction(10)
    assert c.transform_at(25, fps).position_x == pytest.approx(0)  # 1.5 s in
    assert c.transform_at(0, fps) == LEFT  # a transition's frame before the clip: its first's
    assert c.transform_at(30, fps) == RIGHT
    assert c.transform_at(99, fps) == LEFT
    plain = dataclasses.replace(c, transform_keys=())
    assert plain.transform_at(25, fps) is plain.transform  # no keys: no work


def test_keys_between_works_on_transform_keys() -> None:
    assert tuple(keys_between(KEYS, 1.2, 1.8)) == KEYS[:2]
    assert tuple(keys_between(KEYS, 5, 6)) == KEYS[2:]


def test_transform_keyframes_are_read_over_the_clips_transform() -> None:
    c = loaded(
        transform={"scale": 0.5, "rotation": 10},
        transform_keyframes=[
            {"time": 0, "position_x": -20},
            {"time": 1, "position_x": 20, "scale": 2, "easing": "ease-out"},
        ],
    )
    base = Transform(scale_x=0.5, scale_y=0.5, rotation=10)
    assert c.transform == base
    assert c.transform_keys == (
        TransformKey(0, Transform(0.5, 0.5, -20, 0, 10)),
        TransformKey(1, Transform(2, 2, 20, 0, 10), "ease-out"),
    )


@pytest.mark.parametrize(
    ("keys", "said"),
    [
        ({"time": 0}, "clip 'c': transform_keyframes must be a list"),
        ([3], "clip 'c' transform_keyframes[0]: must be an object"),
        ([{"time": 1}, {"time": 0}],
         "clip 'c': transform_keyframes must be in strictly increasing time order"),
        ([{"time": 0}, {"time": 0}],
         "clip 'c': transform_keyframes must be in strictly increasing time order"),
        ([{"time": 0, "scale_x": -1}], "clip 'c' transform_keyframes[0]: transform_keyframes."
         "scale_x must be between 0 and 100"),
        ([{"time": 0, "rotation": float("nan")}],
         "clip 'c' transform_keyframes[0]: transform_keyframes.rotation"),
        ([{"time": float("inf")}], "clip 'c' transform_keyframes[0]: time"),
        ([{"time": 0, "position_x": "left"}],
         "clip 'c' transform_keyframes[0]: transform_keyframes.position_x"),
        ([{"time": 0, "easing": "bounce"}],
         "clip 'c' transform_keyframes[0]: easing 'bounce' must be one of"),
    ],
)  # fmt: skip
def test_a_bad_key_is_refused_naming_the_clip_and_field(keys: Any, said: str) -> None:
    with pytest.raises(ValidationError) as info:
        loaded(transform_keyframes=keys)
    assert any(problem.startswith(said) for problem in info.value.problems), info.value.problems


def test_an_unread_key_field_is_named_in_a_warning() -> None:
    doc = project([video_track("v", [solid_clip("c", 0, 2, transform_keyframes=[
        {"time": 0, "skew_x": 3}])])], fps=10, size=(32, 18))  # fmt: skip
    project_ = load_project(doc, ".")
    assert any("transform_keyframes.skew_x is not rendered" in w for w in project_.warnings)


def test_transform_keys_are_no_part_of_the_sound() -> None:
    plain = clip("a", 0, 120)
    moving = dataclasses.replace(plain, transform_keys=KEYS)
    assert akey(timeline(video("v1", plain))) == akey(timeline(video("v1", moving)))


def test_editing_a_key_changes_the_keys_of_the_chunks_it_moves_and_no_others() -> None:
    keys = (TransformKey(1, LEFT), TransformKey(2, RIGHT), TransformKey(8, LEFT))
    plain = clip("a", 0, 300)
    before = timeline(video("v1", dataclasses.replace(plain, transform_keys=keys)))
    edited = (*keys[:2], TransformKey(8, RIGHT))
    after = timeline(video("v1", dataclasses.replace(plain, transform_keys=edited)))
    assert key(before, 0, 30) == key(after, 0, 30)  # before the second key: the first holds
    assert key(before, 100, 200) != key(after, 100, 200)  # on the way to the edited key
    assert key(before, 250, 300) != key(after, 250, 300)  # past it: its transform holds
    assert key(timeline(video("v1", plain)), 0, 30) != key(before, 0, 30)


def test_moving_the_clip_changes_where_its_keys_fall_in_a_chunk() -> None:
    keys = (TransformKey(0, LEFT), TransformKey(4, RIGHT))
    early = clip("a", 0, 300, path=None, transform_keys=keys)
    late = dataclasses.replace(early, start=10, end=310)
    assert key(timeline(video("v1", early)), 100, 200) != key(timeline(video("v1", late)), 100, 200)


def test_a_moving_opaque_clip_does_not_hide_the_clips_under_it() -> None:
    cover = clip("top", 0, 300, path=None, transform_keys=(TransformKey(0, LEFT),))
    under_a, under_b = clip("a", 0, 300), clip("a", 0, 300, "/m/b.mp4")
    a = timeline(video("v1", under_a), video("v2", cover))
    b = timeline(video("v1", under_b), video("v2", cover))
    assert key(a) != key(b)
