"""JSON documents a user wrote, read with each object's keys given once.

Python's ``json`` keeps the last of two values under one key, silently: a project with two
``"clips"`` lists, or a clip with two ``"start"`` keys, would render what its author (or a
reviewer reading the first) did not mean. A user's project is read through ``loads_unique``,
which refuses such a document naming the key by its JSON path (``tracks[1].clips[3].start``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from common.errors import TimelineError

#: A key shown bare in a path; any other is quoted (``["my key"]``).
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Characters of a key shown in a message before it is cut.
_LONGEST_KEY = 80


class _Repeated(dict[str, Any]):
    """An object that gave ``repeated`` more than once (the value kept is the last)."""

    repeated = ""


def loads_unique(text: str | bytes, source: str) -> Any:
    """``json.loads`` that raises TimelineError naming the first key given twice in an object
    (``source`` names the document); JSON syntax errors propagate as ``json.loads`` raises them."""
    found: list[_Repeated] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        built = dict(pairs)
        if len(built) == len(pairs):
            return built
        repeated = _Repeated(built)
        repeated.repeated = _first_repeated(pairs)
        found.append(repeated)
        return repeated

    data = json.loads(text, object_pairs_hook=pairs_hook)
    if found:
        path, key = _where(data, found[-1])
        raise TimelineError(
            f"{source}: {_join(path, key)} is given more than once (a JSON object holds each "
            "key once; the last would silently win): keep the one you mean"
        )
    return data


def _first_repeated(pairs: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    return ""


def _where(data: Any, fallback: _Repeated) -> tuple[str, str]:
    """The path of the first repeating object in document order, and its repeated key; an
    object dropped as the earlier value of a repeated key is found through its parent."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:  # a loop, not recursion: the document may nest as deep as json allows
        path, value = stack.pop()
        if isinstance(value, _Repeated):
            return path, value.repeated
        if isinstance(value, dict):
            items = [(_join(path, k), v) for k, v in value.items()]
        elif isinstance(value, list):
            items = [(f"{path}[{n}]", v) for n, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(items))
    return "", fallback.repeated


def _join(path: str, key: str) -> str:
    """``path.key``, or ``path["key"]`` for a key that is no plain name (a long one cut)."""
    if _NAME.match(key) and len(key) <= _LONGEST_KEY:
        return f"{path}.{key}" if path else key
    shown = key if len(key) <= _LONGEST_KEY else key[: _LONGEST_KEY - 3] + "..."
    quoted = json.dumps(shown, ensure_ascii=False)
    if any("\ud800" <= c <= "\udfff" for c in quoted):
        quoted = json.dumps(shown)  # a lone surrogate: no output can print it
    return f"{path}[{quoted}]"
