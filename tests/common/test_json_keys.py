"""loads_unique: a key given twice in one JSON object is refused naming its path; anything
else reads as json.loads reads it."""

from __future__ import annotations

import json

import pytest

from common.errors import TimelineError
from common.json_keys import loads_unique

pytestmark = pytest.mark.timeout(30)

#: (document, the path the refusal names)
REPEATS = [
    ('{"a": 1, "a": 2}', "a"),
    ('{"a": {"b": [0, {"c": 1, "d": 2, "c": 3}]}}', "a.b[1].c"),
    ('[{"x": 1}, {"x": 1, "x": 1}]', "[1].x"),
    ('{"a": {"b": 1, "b": 2}, "a": {}}', "a"),  # the dropped value's repeat is its parent's
    ('{"p": [{"k": 1}], "q": {"k": 1, "k": 2}, "r": {"k": 1, "k": 2}}', "q.k"),
    ('{"s": {"a b": 1, "a b": 2}}', 's["a b"]'),
    ('{"s": {"": 1, "": 2}}', 's[""]'),
    ('{"\\u00e9t\\u00e9": 1, "été": 2}', '["été"]'),
    ('{"\\ud800": 1, "\\ud800": 2}', '["\\ud800"]'),  # printable, as its escape
    ('{"a\\nb": 1, "a\\nb": 2}', '["a\\nb"]'),  # one line
    ("{" + ", ".join([f'"{"k" * 500}": 1'] * 2) + "}", '["' + "k" * 77 + '..."]'),
]


@pytest.mark.parametrize(("text", "where"), REPEATS)
def test_a_repeated_key_is_refused_naming_its_path(text: str, where: str) -> None:
    with pytest.raises(TimelineError) as refused:
        loads_unique(text, "doc.json")
    assert str(refused.value).startswith(f"doc.json: {where} is given more than once ")


@pytest.mark.parametrize(
    "text", ['{"a": 1, "b": {"a": 2}}', '[{"a": 1}, {"a": 2}]', "[]", '"x"', "{}", "3"]
)
def test_keys_given_once_read_as_json_loads_reads_them(text: str) -> None:
    assert loads_unique(text, "doc") == json.loads(text)
    assert loads_unique(text.encode(), "doc") == json.loads(text)


def test_a_repeat_deep_inside_is_found_without_recursing() -> None:
    text = '{"a": ' * 900 + '{"z": 1, "z": 2}' + "}" * 900
    with pytest.raises(TimelineError, match=r"^doc: (a\.){900}z is given"):
        loads_unique(text, "doc")


def test_syntax_errors_are_json_loads_own() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_unique('{"a": 1, "a": ', "doc")
