"""Effect parameters: the numeric ones' description (shared by the video and audio catalogues),
and the readers of the text ones (a key colour, curve points), so the loader can check a text
parameter where the worker will read it."""

from __future__ import annotations

import re
from typing import NamedTuple

from chunking.timeline.colours import NAMED

RGB = tuple[float, float, float]


class Param(NamedTuple):
    """One numeric effect parameter: its alternative names (the first present that reads as a
    number wins), the range the loader accepts and the worker clamps to, and its default."""

    names: tuple[str, ...]
    low: float
    high: float
    default: float


class TextParam(NamedTuple):
    """One text effect parameter: its alternative names (the first present wins) and what it
    holds: "color" (read by parse_color), "points" (parse_points) or "choice" (one of
    ``choices``, compared after lower-casing and dropping spaces, ``_`` and ``-``)."""

    names: tuple[str, ...]
    form: str
    choices: tuple[str, ...] = ()


#: Colour names a key or duotone colour may use: CSS's, which are ffmpeg's (libavutil/parseutils.c
#: color_table; the editor hands a chroma key's colour to ffmpeg's chromakey as written), so
#: ``green`` is #008000 here as in a style's CSS, and the keying green is ``lime`` or #00ff00.
COLOR_NAMES: dict[str, RGB] = {
    name: ((value >> 16) / 255.0, ((value >> 8) & 0xFF) / 255.0, (value & 0xFF) / 255.0)
    for name, value in NAMED.items()
}

_ALPHA = re.compile(r"0x[0-9a-f]{1,2}|\d+(?:\.\d*)?|\.\d+", re.IGNORECASE)
_HEX = re.compile(r"(?:#|0x)?([0-9a-f]{3}|[0-9a-f]{6}|[0-9a-f]{8})", re.IGNORECASE)


def parse_color(value: object) -> RGB:
    """An RGB colour in [0, 1] from "#rgb", "#rrggbb", "#rrggbbaa", "0xRRGGBB[AA]", a CSS/ffmpeg
    name, each optionally followed by ffmpeg's "@alpha", or an integer 0xRRGGBB (0xRRGGBBAA
    above 0xFFFFFF); alpha is ignored. ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a colour")
    if isinstance(value, int | float):
        if value != int(value) or not 0 <= value <= 0xFFFF_FFFF:
            raise ValueError(f"{value!r} is not a colour")
        number = int(value)
        if number > 0xFFFFFF:
            number >>= 8  # RGBA: drop the alpha byte
        return ((number >> 16) / 255.0, ((number >> 8) & 0xFF) / 255.0, (number & 0xFF) / 255.0)
    text = str(value).strip().lower()
    if "@" in text:  # ffmpeg's "colour@alpha": the alpha is the key's business, not the colour's
        text, _, alpha = text.partition("@")
        if not _ALPHA.fullmatch(alpha.strip()):
            raise ValueError(f"{value!r} is not a colour (its alpha after '@' is no number)")
        text = text.strip()
    if text in COLOR_NAMES:
        return COLOR_NAMES[text]
    match = _HEX.fullmatch(text)
    if match is None:
        raise ValueError(f"{value!r} is not a colour (#rrggbb, 0xRRGGBB or a name)")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    r, g, b = (int(digits[i : i + 2], 16) / 255.0 for i in (0, 2, 4))
    return r, g, b


def parse_points(value: object) -> list[tuple[float, float]]:
    """Curve key points from ffmpeg's curves syntax "x/y x/y ..." (or "x,y x,y", or a flat
    comma-separated "x1,y1,x2,y2,..."); every number in [0, 1], x strictly increasing.
    ValueError naming the problem otherwise."""
    text = str(value).strip()
    if "/" in text:
        pairs = [p.split("/") for p in re.split(r"[\s|;]+", text) if p]
    else:
        numbers = [n for n in re.split(r"[\s,;|]+", text) if n]
        if len(numbers) % 2:
            raise ValueError(f"{text!r} is not a list of x/y points")
        pairs = [numbers[i : i + 2] for i in range(0, len(numbers), 2)]
    points: list[tuple[float, float]] = []
    for pair in pairs:
        if len(pair) != 2:
            raise ValueError(f"{text!r} is not a list of x/y points")
        try:
            x, y = float(pair[0]), float(pair[1])
        except ValueError:
            raise ValueError(f"{text!r} is not a list of x/y points") from None
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"curve point {x:g}/{y:g} is outside 0..1")
        if points and x <= points[-1][0]:
            raise ValueError(f"curve points must have strictly increasing x ({text!r})")
        points.append((x, y))
    if not points:
        raise ValueError("an empty list of curve points")
    return points


def choice_key(value: object) -> str:
    """A choice's comparison form: lower case without spaces, ``_`` and ``-``."""
    return re.sub(r"[\s_\-]", "", str(value)).lower()


def text_problem(spec: TextParam, value: object) -> str | None:
    """Why this value does not fit the text parameter, or None when it does."""
    try:
        if spec.form == "color":
            parse_color(value)
        elif spec.form == "points":
            parse_points(value)
        elif choice_key(value) not in {choice_key(c) for c in spec.choices}:
            return f"{value!r} is not one of {', '.join(spec.choices)}"
    except ValueError as exc:
        return str(exc)
    return None
