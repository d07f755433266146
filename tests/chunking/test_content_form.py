"""The canonical form content keys hash: equal values key alike whatever the process keyed
before (chunking.content_form.plain keeps the forms of equal dataclasses)."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from chunking import content_form
from chunking.content_audio_key import audio_key
from chunking.content_form import digest, plain
from chunking.timeline.model import Effect, Timeline, Track, TrackKind, Transform
from chunking.timeline.subtitle import Subtitle
from tests.chunking.test_content_key import FP, MEDIA, clip, key, timeline, video


def _moved(transform: Transform) -> object:
    return timeline(video("v1", dataclasses.replace(clip("a", 0, 60), transform=transform)))


def test_a_key_does_not_depend_on_what_the_process_keyed_before() -> None:
    # -0.0 == 0.0, so Transform(position_x=-0.0) == Transform(): both share one kept form.
    content_form._plain_cached.cache_clear()
    fresh = key(_moved(Transform()), 0, 30)
    content_form._plain_cached.cache_clear()
    key(_moved(Transform(position_x=-0.0)), 0, 30)
    assert key(_moved(Transform()), 0, 30) == fresh


def test_negative_zero_keys_as_zero() -> None:
    # An importer's -y of a 0 is the same position: no re-render for it.
    content_form._plain_cached.cache_clear()
    negative = key(_moved(Transform(position_x=-0.0, rotation=-0.0)), 0, 30)
    content_form._plain_cached.cache_clear()
    assert negative == key(_moved(Transform()), 0, 30)
    title = Subtitle("s", "Hi", 0, 10, position=(-0.0, 0.5), shadow_offset=(-0.0, 2.0))
    assert digest(plain(title)) == digest(
        plain(dataclasses.replace(title, position=(0.0, 0.5), shadow_offset=(0.0, 2.0)))
    )


def _effect_params(value: object) -> object:
    blurred = dataclasses.replace(
        clip("a", 0, 60), effects=(Effect("e", "blur", {"radius": value}),)
    )
    return timeline(video("v1", blurred))


def test_a_whole_number_param_written_as_int_or_float_keys_alike() -> None:
    # The renderer reads a numeric param with float(): 3 and 3.0 blur alike, so neither
    # may re-render the chunks the other rendered (an importer writes one, the editor the other)
    assert key(_effect_params(3), 0, 30) == key(_effect_params(3.0), 0, 30)
    assert key(_effect_params(-0.0), 0, 30) == key(_effect_params(0), 0, 30)
    # Other values, and a text or a flag where a number was, stay apart
    assert key(_effect_params(3), 0, 30) != key(_effect_params(3.5), 0, 30)
    assert key(_effect_params(3), 0, 30) != key(_effect_params("3"), 0, 30)
    assert key(_effect_params(1), 0, 30) != key(_effect_params(True), 0, 30)


def test_an_audio_key_does_not_depend_on_what_the_process_keyed_before() -> None:
    # Clip(source_end=5) == Clip(source_end=5.0): the kept form of whichever this process met
    # first answered for both, so a planner and a worker could key one timeline apart
    def ending(value: float) -> Timeline:
        heard = clip("a", 0, 60, "/m/d.wav", track_id="a1", source_end=value)
        return timeline(Track("a1", TrackKind.AUDIO, clips=(heard,)))

    content_form._plain_cached.cache_clear()
    fresh = audio_key(ending(5.0), MEDIA, FP)
    content_form._plain_cached.cache_clear()
    audio_key(ending(5), MEDIA, FP)
    assert audio_key(ending(5.0), MEDIA, FP) == fresh


# --- numbers, property-based: equal values key alike, different values never do -------------

#: Numbers at the edges: whole floats past 2**53 (where not every int is a float), signed zeros,
#: the smallest normal and subnormal floats, and values beyond a float's range.
_EDGES = [0, -0.0, 1, 1.0, 2**53, 2**53 + 1, 2.0**53, 2.0**64, 2**64, 10**400, 5e-324, 1e308]
_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.integers(-1000, 1000).map(float),
    st.sampled_from(_EDGES),
)
_LEAVES = st.one_of(_NUMBERS, st.booleans(), st.none(), st.sampled_from(["", "3", "3.0", "a"]))
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
    ),
    max_leaves=8,
)


def _same(a: object, b: object) -> bool:
    """Whether two parsed values are the same to the renderer: numbers (not flags) by value,
    whatever their type; everything else by type and value, a list and a tuple alike."""
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, numbers) and isinstance(b, numbers):
        return a == b
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _retyped(value: object, flip: bool) -> object:
    """The same value with its whole numbers written the other way (3 as 3.0, 3.0 as 3) where
    ``flip`` and the other type holds the value exactly."""
    if isinstance(value, bool) or not flip:
        return value
    if isinstance(value, int) and abs(value) < 2**1000 and float(value) == value:
        return float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return type(value)(_retyped(v, i % 2 == 0) for i, v in enumerate(value))
    if isinstance(value, dict):
        return {k: _retyped(v, True) for k, v in value.items()}
    return value


@settings(max_examples=400, derandomize=True, deadline=None)
@given(a=_VALUES, b=_VALUES, flip=st.booleans())
def test_forms_key_numbers_by_value_and_nothing_else(a: object, b: object, flip: bool) -> None:
    # Equal values written as ints or floats key alike...
    assert digest({"v": plain(a)}) == digest({"v": plain(_retyped(a, flip))})
    # ...and two values key alike only where they are the same
    assert (digest({"v": plain(a)}) == digest({"v": plain(b)})) == _same(a, b)
