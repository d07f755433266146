"""Field readers shared by the loaders: colours as documents write them."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from chunking.timeline.fields import Problems, color, lone_surrogate, nesting_depth, number


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
        # CSS Color 4: short hex, hsl(), percentages and the named colours.
        ("#ff0", (255, 255, 0, 255)),
        ("#000a", (0, 0, 0, 170)),
        ("ff0000", (255, 0, 0, 255)),
        ("orange", (255, 165, 0, 255)),
        ("Gold", (255, 215, 0, 255)),
        ("grey", (128, 128, 128, 255)),
        ("rebeccapurple", (102, 51, 153, 255)),
        ("hsl(60, 100%, 50%)", (255, 255, 0, 255)),
        ("hsla(120deg 100% 25% / 50%)", (0, 128, 0, 128)),
        ("hsl(0.5turn, 100%, 50%)", (0, 255, 255, 255)),
        ("hsl(0 0 0)", (0, 0, 0, 255)),
        ("rgb(100%, 0%, 50%)", (255, 0, 128, 255)),
    ],
)
def test_colours_as_documents_write_them(value: Any, rgba: tuple[int, int, int, int]) -> None:
    problems = Problems()
    assert color(value, problems, "x") == rgba and problems.errors == []


@pytest.mark.parametrize(
    "value",
    ["rgba(1, 2)", "rgb(300, 0, 0)", "rgb(nan, 0, 0)", "hsl(10%, 50%, 50%)", "add", "#12345"],
)
def test_a_colour_nobody_can_read_is_an_error_naming_it(value: str) -> None:
    problems = Problems()
    assert color(value, problems, "clip 'c'") == (0, 0, 0, 255)
    assert problems.errors == [
        f"clip 'c': not a colour: {value!r} (use '#rrggbb', a CSS colour name, "
        "rgba(r, g, b, a), hsl(h, s%, l%) or [r, g, b])"
    ]


@pytest.mark.timeout(30)
def test_a_colour_of_a_long_run_of_digits_is_refused_at_once() -> None:
    """A number's digits could split anywhere between its whole and fractional parts: 10,000
    digits took 7 s to refuse, 100,000 some ten minutes."""
    problems = Problems()
    value = "rgb(" + "1" * 100_000 + "x, 0, 0)"
    assert color(value, problems, "clip 'c'") == (0, 0, 0, 255)
    assert len(problems.errors) == 1 and problems.errors[0].startswith("clip 'c': not a colour")


@pytest.mark.timeout(30)
def test_a_css_length_of_a_long_run_of_digits_and_blanks_is_refused_at_once() -> None:
    """The editor's CSS lengths: 100,000 digits then blanks took most of a minute to refuse."""
    from chunking.timeline.studio_editor_css import css_look

    look = css_look({"fontSize": "1." + "1" * 100_000 + " " * 100_000 + "-"})
    assert "fontSize" not in look


def test_named_colours_are_css_and_ffmpeg_colours() -> None:
    # green was (0, 255, 0); CSS and ffmpeg's green is #008000. Pillow's table is CSS's.
    from PIL import ImageColor

    from chunking.timeline.colours import NAMED

    problems = Problems()
    assert color("green", problems, "x") == (0, 128, 0, 255)
    assert set(NAMED) == set(ImageColor.colormap)
    for name, value in ImageColor.colormap.items():
        assert color(name, problems, "x") == (*ImageColor.getrgb(value), 255), name
    assert problems.errors == []


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


@pytest.mark.parametrize(
    ("document", "where"),
    [
        ({"a": [[0, "x\ud800"]]}, "a[0][1]"),
        ([1, {"b": "\udc00"}], "[1].b"),
        ({"a": [{"\ud800": 1}]}, "a key of a[0]"),
    ],
)
def test_a_lone_surrogate_path_names_lists_and_objects(document: Any, where: str) -> None:
    assert lone_surrogate(document) == where


def test_walking_a_document_of_a_million_numbers_costs_no_memory_per_number() -> None:
    # Both walkers used to keep a tuple (and lone_surrogate a path string) per number: a 60 MB
    # file of numbers took 76 s and 4.8 GB to be refused.
    document = {"metadata": {"a": [0] * 1_000_000, "b": [[1.5] * 1000] * 100}}
    tracemalloc.start()
    try:
        assert lone_surrogate(document) is None
        assert nesting_depth(document, 64) == 4
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000


def test_a_problem_quoting_a_huge_value_keeps_its_start_and_end() -> None:
    # A 10 MB clip id used to make a 10 MB "one-line" error.
    problems = Problems()
    problems.error(f"clip {'L' * 10_000_000!r}", "2 clips have this id")
    problems.warn("clip 'a'", "short")
    (message,) = problems.errors
    assert len(message) < 1100
    assert message.startswith("clip 'LLLL")
    assert message.endswith("LL': 2 clips have this id")
    assert "characters cut" in message
    assert problems.warnings == ["clip 'a': short"]


@pytest.mark.parametrize("raw", [10**400, -(10**400)])
def test_an_integer_past_a_floats_range_is_out_of_range_not_no_number(raw: int) -> None:
    # JSON writes 1e400 out as 401 digits: "start_time must be a number, not 100000...".
    problems = Problems()
    assert (
        number({"start_time": raw}, ("start_time",), 0.0, problems, "clip 'c'", low=0, high=86400)
        == 0.0
    )
    assert problems.errors == [
        "clip 'c': start_time must be between 0 and 86400, not a 401-digit number"
    ]
