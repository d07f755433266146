"""Lenient field readers for editor JSON that collect every problem instead of stopping."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from chunking.timeline.colours import parse_colour

#: A UTF-16 surrogate on its own: JSON's \ud800 escape parses to one, but it is no character
#: and nothing can encode it (UTF-8 output, JSON answers, Redis, file names).
_SURROGATE = re.compile("[\ud800-\udfff]")


class Problems:
    """Collects validation problems and warnings, each prefixed by where it was found."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, where: str, message: str) -> None:
        """Record a problem that makes the timeline unrenderable."""
        self.errors.append(bounded(f"{where}: {message}"))

    def warn(self, where: str, message: str) -> None:
        """Record something suspicious that still renders."""
        self.warnings.append(bounded(f"{where}: {message}"))


#: A problem longer than this has its middle cut out: messages quote ids and values as written,
#: and a 10 MB clip id made a 10 MB "one-line" error.
MAX_MESSAGE = 1000


def bounded(text: str) -> str:
    """A problem's message, its middle cut out when it is too long (the start says where, the
    end what to do)."""
    if len(text) <= MAX_MESSAGE:
        return text
    head, tail = MAX_MESSAGE * 3 // 5, MAX_MESSAGE // 4
    return f"{text[:head]}...[{len(text) - head - tail} characters cut]...{text[-tail:]}"


def pick(obj: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    """The first of several alternative keys that is present and not null."""
    for name in names:
        if name in obj and obj[name] is not None:
            return obj[name]
    return default


def number(
    obj: Mapping[str, Any],
    names: tuple[str, ...],
    default: float,
    problems: Problems,
    where: str,
    *,
    low: float,
    high: float,
    section: str = "",
) -> float:
    """Read a finite number within [low, high] from the first of `names` present (aliases are
    checked like the main name); record a problem naming the field and use the default if not.

    Every numeric field of a project goes through here, so every one has a range: `section`
    prefixes the field in messages ("transform" gives "transform.scale").
    """
    for name in names:
        if name in obj and obj[name] is not None:
            raw = obj[name]
            break
    else:
        return default
    label = f"{section}.{name}" if section else name
    if isinstance(raw, Mapping) and "value" in raw:  # {"value": 2.0} variants
        raw = raw["value"]
    value = to_float(raw)
    if value is None and isinstance(raw, int) and not isinstance(raw, bool):
        # An integer past a float's range (1e400 written out in JSON) was called "not a number".
        digits = len(str(abs(raw)))  # JSON's parser refuses more digits than str() shows
        problems.error(
            where, f"{label} must be between {low:g} and {high:g}, not a {digits}-digit number"
        )
        return default
    if value is None:
        problems.error(where, f"{label} must be a number, not {shown(raw)}")
        return default
    problems_with = out_of_range(value, low, high)
    if problems_with:
        problems.error(where, f"{label} {problems_with}")
        return default
    return value


def to_float(raw: Any) -> float | None:
    """A JSON number or numeric string as a float (non-finite ones too); None if it is not one."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        return float(raw)
    except (ValueError, OverflowError):  # "abc"; an int too large for a float
        return None


def out_of_range(value: float, low: float, high: float) -> str:
    """Why a number is unusable ("must be between 0 and 100, not 1e+308"), or "" if it is fine."""
    if not math.isfinite(value):
        return f"must be a finite number, not {value!r}"
    if low <= value <= high:
        return ""
    return f"must be between {low:g} and {high:g}, not {value:g}"


def shown(value: Any, limit: int = 40) -> str:
    """A value's repr for a message, cut short so a hostile value cannot flood the line."""
    if isinstance(value, list | tuple | Mapping):
        # repr() recurses into nested containers; their type and size say enough.
        return f"a {type(value).__name__} of {len(value)}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Values that hold nothing to walk into: the document walkers skip them without a step each
#: (a 60 MB list of numbers used to cost a tuple and a path string per number: 76 s, 4.8 GB).
_LEAVES = frozenset({str, int, float, bool, type(None)})
_SCALARS = _LEAVES - {str}


def lone_surrogate(value: Any) -> str | None:
    """Where the first string or key of a parsed document holds a lone UTF-16 surrogate (as
    ``tracks[0].name``), or None; walked without recursion."""
    # Each item carries where it is as (parent's where, key), a path string made only on a hit.
    stack: list[tuple[Any, Any]] = [(value, None)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return _path(where) or "the text"
        elif isinstance(item, Mapping):
            for key, child in item.items():
                name = str(key)
                if _SURROGATE.search(name):
                    return f"a key of {_path(where) or 'the top level'}"
                if type(child) not in _SCALARS:
                    stack.append((child, (where, name)))
        elif isinstance(item, list | tuple):
            stack.extend(
                (child, (where, i)) for i, child in enumerate(item) if type(child) not in _SCALARS
            )
    return None


def _path(where: Any) -> str:
    """A lone_surrogate position, (parent's, key) pairs down from the top, as ``a.b[2].c``."""
    keys: list[str | int] = []
    while where is not None:
        where, key = where
        keys.append(key)
    path = ""
    for key in reversed(keys):
        if isinstance(key, int):
            path += f"[{key}]"
        else:
            path = f"{path}.{key}" if path else key
    return path


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply lists and objects nest in a parsed document, counted without recursion and
    stopping as soon as `limit` is passed (so a hostile document costs little)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children if type(child) not in _LEAVES)
    return deepest


def color(value: Any, problems: Problems, where: str) -> tuple[int, int, int, int]:
    """Parse a CSS colour string (chunking.timeline.colours), [r, g, b(, a)] (0-255) or
    {r, g, b, a} into RGBA."""
    if isinstance(value, str):
        css = parse_colour(value)
        if css is not None:
            return css
    elif isinstance(value, list | tuple) and len(value) in (3, 4):
        numbers = [to_float(v) if isinstance(v, int | float) else None for v in value]
        if all(n is not None and -0.5 <= n < 255.5 for n in numbers):  # NaN fails it too
            parts = [round(n) for n in numbers if n is not None]
            return parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else 255
    elif isinstance(value, Mapping) and {"r", "g", "b"} <= set(value):
        return color([value["r"], value["g"], value["b"], value.get("a", 255)], problems, where)
    problems.error(
        where,
        f"not a colour: {shown(value)} (use '#rrggbb', a CSS colour name, rgba(r, g, b, a), "
        "hsl(h, s%, l%) or [r, g, b])",
    )
    return 0, 0, 0, 255


def canonical(name: str) -> str:
    """Normalise a type name: lower case without separators ("Hue_Rotate" -> "huerotate")."""
    return re.sub(r"[\s_\-]", "", name).lower()


def variant(value: Any) -> tuple[str, Any] | None:
    """A serde enum value as (canonical variant name, payload): ``"Bold"`` gives ("bold", None),
    the externally tagged ``{"Custom": 2.35}`` gives ("custom", 2.35); None for anything else."""
    if isinstance(value, str):
        return canonical(value), None
    if isinstance(value, Mapping) and len(value) == 1:
        (name, payload), *_ = value.items()
        return canonical(str(name)), payload
    return None


def choice(
    obj: Mapping[str, Any],
    names: tuple[str, ...],
    table: Mapping[str, Any],
    default: Any,
    problems: Problems,
    where: str,
    *,
    section: str = "",
) -> Any:
    """Read a serde unit-enum field (matched with canonical()) through `table`; an unknown value is
    an error naming the field and the accepted values, and gives the default."""
    raw = pick(obj, *names)
    if raw is None:
        return default
    label = f"{section}.{names[0]}" if section else names[0]
    found = variant(raw)
    if found is not None and found[0] in table:
        return table[found[0]]
    problems.error(where, f"{label} {shown(raw)} is not one of {', '.join(sorted(table))}")
    return default


def flag(obj: Mapping[str, Any], name: str, default: bool, problems: Problems, where: str) -> bool:
    """A boolean field; anything but true/false (or null: the default) is an error."""
    raw = obj.get(name)
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    problems.error(where, f"{name} must be true or false, not {shown(raw)}")
    return default
