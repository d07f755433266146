"""The canonical form content keys hash: equal values key alike whatever the process keyed
before (chunking.content_form.plain keeps the forms of equal dataclasses)."""

from __future__ import annotations

import dataclasses

from chunking import content_form
from chunking.content_form import digest, plain
from chunking.timeline.model import Transform
from chunking.timeline.subtitle import Subtitle
from tests.chunking.test_content_key import clip, key, timeline, video


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
