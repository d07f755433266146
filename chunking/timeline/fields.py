"""Lenient field readers for editor JSON that collect every problem instead of stopping."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})([0-9a-fA-F]{2})?$")


class Problems:
    """Collects validation problems and warnings, each prefixed by where it was found."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, where: str, message: str) -> None:
        """Record a problem that makes the timeline unrenderable."""
        self.errors.append(f"{where}: {message}")

    def warn(self, where: str, message: str) -> None:
        """Record something suspicious that still renders."""
        self.warnings.append(f"{where}: {message}")


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
    low: float | None = None,
    high: float | None = None,
) -> float:
    """Read a finite number within [low, high]; record a problem and use the default if not."""
    raw = pick(obj, *names)
    if raw is None:
        return default
    if isinstance(raw, Mapping) and "value" in raw:  # {"value": 2.0} variants
        raw = raw["value"]
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        problems.error(where, f"{names[0]} must be a number, got {raw!r}")
        return default
    try:
        value = float(raw)
    except ValueError:
        problems.error(where, f"{names[0]} must be a number, got {raw!r}")
        return default
    if not math.isfinite(value):
        problems.error(where, f"{names[0]} must be finite, got {raw!r}")
        return default
    if (low is not None and value < low) or (high is not None and value > high):
        problems.error(where, f"{names[0]}={value:g} is outside {low:g}..{high:g}")
        return default
    return value


def color(value: Any, problems: Problems, where: str) -> tuple[int, int, int, int]:
    """Parse "#rrggbb[aa]", [r, g, b(, a)] (0-255) or {r, g, b, a} into RGBA."""
    if isinstance(value, str):
        match = _HEX.match(value.strip())
        if match:
            rgb = bytes.fromhex(match.group(1))
            alpha = int(match.group(2), 16) if match.group(2) else 255
            return rgb[0], rgb[1], rgb[2], alpha
        named = _NAMED.get(value.strip().lower())
        if named:
            return named
    elif isinstance(value, list | tuple) and len(value) in (3, 4):
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            parts = [int(round(float(v))) for v in value]
            if all(0 <= p <= 255 for p in parts):
                return parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else 255
    elif isinstance(value, Mapping) and {"r", "g", "b"} <= set(value):
        return color([value["r"], value["g"], value["b"], value.get("a", 255)], problems, where)
    problems.error(where, f"not a colour: {value!r} (use '#rrggbb' or [r, g, b])")
    return 0, 0, 0, 255


_NAMED = {
    "black": (0, 0, 0, 255),
    "white": (255, 255, 255, 255),
    "red": (255, 0, 0, 255),
    "green": (0, 255, 0, 255),
    "blue": (0, 0, 255, 255),
    "yellow": (255, 255, 0, 255),
    "transparent": (0, 0, 0, 0),
}


def canonical(name: str) -> str:
    """Normalise a type name: lower case without separators ("Hue_Rotate" -> "huerotate")."""
    return re.sub(r"[\s_\-]", "", name).lower()
