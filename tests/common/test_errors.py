"""The one-line messages of the exception tree: many problems stay one readable line."""

from __future__ import annotations

from common.errors import PROBLEM_CHARS, SHOWN_PROBLEMS, ValidationError, summarize


def broken_clips(count: int) -> list[str]:
    return [f"clip 'c{i}': media file not found: footage/take-{i:03}.mov" for i in range(count)]


def test_a_single_problem_is_the_message() -> None:
    problem = "clip 'a': speed must be above 0, not -2"
    assert str(ValidationError([problem])) == problem


def test_many_problems_show_the_first_few_then_a_count() -> None:
    problems = broken_clips(120)
    error = ValidationError(problems)
    message = str(error)
    assert "\n" not in message
    assert message.startswith("120 problems: clip 'c0': media file not found")
    assert message.endswith(f"; and {120 - SHOWN_PROBLEMS} more")
    assert f"clip 'c{SHOWN_PROBLEMS - 1}'" in message and f"clip 'c{SHOWN_PROBLEMS}'" not in message
    assert len(message) < 500  # the uncapped line was over 5,000 characters
    assert error.problems == problems  # every one is still there for --json


def test_a_few_problems_are_all_shown_without_a_count() -> None:
    message = summarize(broken_clips(3))
    assert message.count("clip '") == 3 and "more" not in message


def test_long_problems_are_cut_and_kept_on_one_line() -> None:
    huge = "clip 'x': text " + "w" * 3000
    message = summarize([huge, "clip 'y': bad\nline", huge])
    assert "\n" not in message and "clip 'y': bad line" in message
    assert len(message) < 3 * PROBLEM_CHARS + 100 and "..." in message
