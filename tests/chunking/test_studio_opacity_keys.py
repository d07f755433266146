"""ProjectSchema's picture fade curves and opacity keyframes: read strictly, drawn, keyed."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from chunking.timeline.fade_curves import key_opacity, keys_between
from chunking.timeline.model import OpacityKey
from chunking.timeline.studio import load_project
from chunking.timeline.studio_editor_range import clip_to_range
from chunking.timeline.studio_editor_tracks import Parts
from common.errors import ValidationError
from tests.chunking.test_content_key import clip, key, timeline, video
from tests.helpers import clip as solid_clip
from tests.media import project, video_track


def loaded(**fields: Any) -> Any:
    """The one clip of a 2 s red clip with ``fields``, at 10 fps."""
    doc = project([video_track("v", [solid_clip("c", 0, 2, **fields)])], fps=10, size=(32, 18))
    return load_project(doc, ".").clip("c")


def test_opacity_keyframes_and_curves_are_read() -> None:
    c = loaded(
        picture_fade_in=1.0,
        picture_fade_in_curve="cosine",
        opacity_keyframes=[{"time": 0, "opacity": 0.5}, {"time": 1, "opacity": 1,
                                                          "easing": "ease-out"}],
    )  # fmt: skip
    assert c.picture_fade_in_curve == "cosine" and c.picture_fade_out_curve == "linear"
    assert c.opacity_keys == (OpacityKey(0, 0.5), OpacityKey(1, 1, "ease-out"))


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"picture_fade_out_curve": "bounce"}, "clip 'c': picture_fade_out_curve 'bounce' must"),
        ({"opacity_keyframes": {"time": 0}}, "clip 'c': opacity_keyframes must be a list"),
        ({"opacity_keyframes": [{"time": 1, "opacity": 1}, {"time": 0, "opacity": 0}]},
         "clip 'c': opacity_keyframes must be in strictly increasing time order"),
        ({"opacity_keyframes": [{"time": 0, "opacity": 3}]},
         "clip 'c' opacity_keyframes[0]: opacity"),
        ({"opacity_keyframes": [{"time": 0, "opacity": 1, "easing": "step"}]},
         "clip 'c' opacity_keyframes[0]: easing 'step' must be one of"),
    ],
)  # fmt: skip
def test_a_wrong_curve_or_key_is_refused_naming_it(fields: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError) as info:
        loaded(**fields)
    assert any(problem.startswith(said) for problem in info.value.problems), info.value.problems


def test_a_key_refused_for_its_time_is_not_also_said_to_be_out_of_order() -> None:
    keys = [{"time": 0, "opacity": 0}, {"time": 1e12, "opacity": 1}]
    with pytest.raises(ValidationError) as info:
        loaded(opacity_keyframes=keys)
    assert info.value.problems == [
        "clip 'c' opacity_keyframes[1]: time must be between -86400 and 86400, not 1e+12"
    ]


def test_keys_change_the_content_key_of_every_chunk_they_may_dim() -> None:
    plain = clip("a", 60, 240)
    keyed = dataclasses.replace(plain, opacity_keys=(OpacityKey(0, 0.5), OpacityKey(1, 1)))
    curved = dataclasses.replace(plain, picture_fade_in=1.0, picture_fade_in_curve="ease-in")
    linear = dataclasses.replace(plain, picture_fade_in=1.0)
    a, b = timeline(video("v1", plain)), timeline(video("v1", keyed))
    assert key(a, 150, 180) != key(b, 150, 180)  # after the last key: still its level
    c, d = timeline(video("v1", linear)), timeline(video("v1", curved))
    assert key(c, 60, 90) != key(d, 60, 90)
    assert key(c, 90, 120) == key(d, 90, 120)  # the fade is over there


def test_a_range_cut_moves_the_keys_with_the_clips_first_frame() -> None:
    keys = [{"time": 1.0, "opacity": 0.0, "easing": "linear"}]
    one = {"id": "c", "start_time": 0.0, "end_time": 4.0, "effects": [], "filters": [],
           "opacity_keyframes": keys}  # fmt: skip
    parts = Parts(tracks=[{"id": "v", "effects": [], "filters": [], "clips": [one]}])
    (moved,) = clip_to_range(parts, 0.5, 4.0).tracks[0]["clips"]
    assert moved["opacity_keyframes"] == [{"time": 0.5, "opacity": 0.0, "easing": "linear"}]
    assert keys[0]["time"] == 1.0  # the uncut parts are untouched


KEYS = (OpacityKey(1, 0.0), OpacityKey(2, 1.0, "ease-in"), OpacityKey(4, 0.5))


@pytest.mark.parametrize(
    ("seconds", "opacity"),
    [(0, 0.0), (1, 0.0), (1.5, 0.5), (2, 1.0), (3, 1 - 0.5 * 0.25), (4, 0.5), (9, 0.5)],
)
def test_key_opacity_holds_the_ends_and_eases_between(seconds: float, opacity: float) -> None:
    assert key_opacity(KEYS, seconds) == pytest.approx(opacity)


@pytest.mark.parametrize(
    ("first", "last", "kept"),
    [
        (0, 0.5, KEYS[:1]),
        (1.5, 1.8, KEYS[:2]),
        (1, 2, KEYS[:2]),
        (2.5, 9, KEYS[1:]),
        (5, 9, KEYS[2:]),
    ],
)
def test_keys_between_are_those_that_decide_the_span(
    first: float, last: float, kept: tuple[OpacityKey, ...]
) -> None:
    assert tuple(keys_between(KEYS, first, last)) == kept
    for t in (first, (first + last) / 2, last):
        assert key_opacity(keys_between(KEYS, first, last), t) == key_opacity(KEYS, t)


def test_a_key_far_from_a_chunk_leaves_its_content_key_alone() -> None:
    # 30 fps, a clip at [60, 240): keys at 0 s and 1 s of the clip decide frames 60..90 only
    # up to the key at 4 s; moving the key at 5 s changes chunks after frame 180 alone.
    base = clip("a", 60, 240)
    keys = (OpacityKey(0, 0.2), OpacityKey(1, 1.0), OpacityKey(4, 1.0), OpacityKey(5, 0.3))
    moved = (*keys[:3], OpacityKey(5, 0.6))
    a = timeline(video("v1", dataclasses.replace(base, opacity_keys=keys)))
    b = timeline(video("v1", dataclasses.replace(base, opacity_keys=moved)))
    assert key(a, 60, 90) == key(b, 60, 90)
    assert key(a, 180, 210) != key(b, 180, 210)
