"""Field readers shared by the loaders: colours as documents write them."""

from __future__ import annotations

from typing import Any

import pytest

from chunking.timeline.fields import Problems, color, lone_surrogate


@pytest.mark.parametrize(
    ("value", "rgba"),
    [
        ("#ff8000", (255, 128, 0, 255)),
        ("#ff800080", (255, 128, 0, 128)),
        ("rgba(0, 0, 0, 0.8)", (0, 0, 0, 204)),
        ("rgb(255 128 0 / 50%)", (255, 128, 0, 128)),
        ("RGB(10%, 20%, 30%)", (26, 51, 76, 255)),
        ([1, 2, 3], (1, 2, 3, 255)),
        ({"r": 1, "g": 2, "b": 3, "a": 4}, (1, 2, 3, 4)),
    ],
)
def test_colours_as_documents_write_them(value: Any, rgba: tuple[int, int, int, int]) -> None:
    problems = Problems()
    assert color(value, problems, "x") == rgba and problems.errors == []


@pytest.mark.parametrize("value", ["rgba(1, 2)", "rgb(300, 0, 0)", "rgb(nan, 0, 0)", "hsl(0 0 0)"])
def test_a_colour_nobody_can_read_is_an_error_naming_it(value: str) -> None:
    problems = Problems()
    assert color(value, problems, "clip 'c'") == (0, 0, 0, 255)
    assert problems.errors == [
        f"clip 'c': not a colour: {value!r} (use '#rrggbb', rgba(r, g, b, a) or [r, g, b])"
    ]


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"metadata": {"name": "film \ud800"}}, "metadata.name"),
        ({"tracks": [{"clips": [{}, {"id": "\udfff"}]}]}, "tracks[0].clips[1].id"),
        ({"tracks": {"\ud800": 1}}, "a key of tracks"),
        ("\udc00", "the text"),
        ({"name": "film \U0001f3ac", "tracks": []}, None),  # a real astral character is fine
    ],
)
def test_a_lone_surrogate_is_found_where_it_is(document: Any, where: str | None) -> None:
    assert lone_surrogate(document) == where
