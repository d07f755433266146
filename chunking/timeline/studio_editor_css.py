"""The CSS of the editor's subtitle catalogue (SubtitleStyleTemplate: its look under ``style``, in
CSS values such as ``padding: "10px 20px"``) as the flat SubtitleStyle fields
studio_editor_styles reads.

Mirrors convertSubtitleStyle in the editor's timeline-to-project.ts (``const cssStyle =
style.style || {}``, parsePadding, ``Number.parseFloat`` of the radius, the text-shadow
extractors), except that a shadow's colour is found wherever it stands in the shadow (the
editor's pattern takes the ``px`` of ``2px`` for one) and a value that is no colour is left out
rather than sent on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import Problems, color, shown, to_float
from chunking.timeline.studio_editor_library import as_map

#: A CSS length's number ("12px" -> 12, "1.5em" -> 1.5, "-2" -> -2).
#: Digits and blanks split one way only (a run that could split anywhere made a length of
#: 100,000 digits and blanks take most of a minute to refuse).
_NUMBER = re.compile(r"^\s*+([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*+([a-z%]*+)\s*+$", re.IGNORECASE)
#: A colour inside a text-shadow: hex, rgb()/rgba()/hsl()/hsla(), or a word that is not a length.
_SHADOW_COLOUR = re.compile(r"#[0-9a-f]{3,8}\b|(?:rgba?|hsla?)\([^)]*\)|\b[a-z]+\b", re.IGNORECASE)
#: The flat SubtitleStyle fields a subtitle style can set (SubtitleStyle, and what css_look
#: makes of a SubtitleStyleTemplate's CSS).
STYLE_FIELDS = (
    "fontFamily fontSize fontWeight color backgroundColor strokeColor strokeWidth shadowColor "
    "shadowX shadowY shadowBlur textShadow padding borderRadius lineHeight letterSpacing maxWidth "
    "defaultPosition".split()
)


def css_look(css: Mapping[str, Any]) -> dict[str, Any]:
    """convertSubtitleStyle: a SubtitleStyleTemplate's ``style`` (CSS) as SubtitleStyle fields;
    only those the CSS sets in a form that can be read."""
    size = _length(css.get("fontSize"))
    found: dict[str, Any] = {
        "fontFamily": css.get("fontFamily") if isinstance(css.get("fontFamily"), str) else None,
        "fontSize": size,
        "fontWeight": css.get("fontWeight"),
        "color": css_colour(css.get("color")),
        "backgroundColor": css_colour(css.get("backgroundColor"))
        or css_colour(css.get("background")),
        "padding": _padding(css.get("padding")),
        "borderRadius": _length(css.get("borderRadius")),
        "lineHeight": _line_height(css.get("lineHeight"), size),
        "letterSpacing": _em(css.get("letterSpacing"), size),
        **_text_shadow(css.get("textShadow")),
    }
    return {key: value for key, value in found.items() if value is not None}


def usable(look: Mapping[str, Any]) -> bool:
    """Whether a subtitle style (flat, or its CSS under ``style``) sets anything drawn."""
    css = as_map(look.get("style"))
    return any(look.get(k) not in (None, "") for k in STYLE_FIELDS) or bool(css_look(css))


def _length(value: Any) -> float | None:
    """``Number.parseFloat`` of a CSS length: its number, whatever the unit."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return to_float(value)
    match = _NUMBER.match(value) if isinstance(value, str) else None
    return float(match.group(1)) if match else None


def _unit(value: Any) -> str:
    """The unit of a CSS length ("12px" -> "px"); "" for a bare number."""
    match = _NUMBER.match(value) if isinstance(value, str) else None
    return match.group(2).lower() if match else ""


def _em(value: Any, size: float | None) -> float | None:
    """A length in pixels: ``em`` times the font size when that is known."""
    number = _length(value)
    if number is not None and _unit(value) == "em" and size:
        return number * size
    return number


def _line_height(value: Any, size: float | None) -> float | None:
    """CSS line-height as a multiple of the font size (a bare number already is one)."""
    number, unit = _length(value), _unit(value)
    if number is not None and unit == "px":
        return number / size if size else None
    if number is not None and unit == "%":
        return number / 100
    return number


def css_colour(value: Any) -> str | None:
    """A CSS colour the loader reads (chunking.timeline.colours), else None (a gradient,
    ``none``, ``currentColor``...)."""
    if not isinstance(value, str) or not value.strip():
        return None
    check = Problems()
    color(value, check, "")
    return None if check.errors else value.strip()


#: CSS properties of the editor's subtitle styles (subtitleStyleToCSS) that are not drawn, and
#: what is drawn instead (``textAlign: center`` is what is drawn).
_UNDRAWN = {
    "animation": "the text is drawn still (its clip's animationIn/animationOut are drawn)",
    "textAlign": "lines are centred",
    "border": "the box has no border",
    "WebkitBackgroundClip": "the background is not clipped to the letters",
    "WebkitTextFillColor": "the letters are drawn in the style's color",
}


def css_problems(css: Mapping[str, Any]) -> list[str]:
    """What of a style's CSS cannot be read or is not drawn, one message per property ("color
    'x' is not a CSS colour; ...", "animation '...' is not drawn; ..."), so a dropped setting is
    a warning, not a silent default."""
    found: list[str] = []
    for prop in ("color", "backgroundColor", "background"):
        value = css.get(prop)
        if _ignorable(value) or css_colour(value) is not None:
            continue
        if prop == "background" and css_colour(css.get("backgroundColor")) is not None:
            continue  # backgroundColor, which is read, wins
        found.append(
            f"style.{prop} {shown(value)} is not a colour this renderer draws (CSS colours: "
            "#rgb, #rrggbb, names, rgb(), hsl()); the default is used"
        )
    for prop, what in _UNDRAWN.items():
        value = css.get(prop)
        if not _ignorable(value) and str(value).strip().lower() != "center":
            found.append(f"style.{prop} {shown(value)} is not drawn; {what}")
    shadow = css.get("textShadow")
    if isinstance(shadow, str) and shadow.strip().lower() not in ("", "none"):
        for part in re.split(r",(?![^(]*\))", shadow):
            tokens = _SHADOW_COLOUR.findall(part)
            # A token that looks like a colour (hex, a function) or any word: a shadow's words
            # are its colour (or ``inset``, which text-shadow does not have).
            if tokens and all(css_colour(token) is None for token in tokens):
                found.append(
                    f"style.textShadow {shown(part.strip())}: no colour this renderer reads "
                    "(CSS colours: #rgb, #rrggbb, names, rgb(), hsl()); the default is used"
                )
    return found


def _ignorable(value: Any) -> bool:
    """An unset CSS property, or a keyword meaning no colour of its own."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    return isinstance(value, str) and value.strip().lower() in (
        "none",
        "inherit",
        "initial",
        "unset",
        "revert",
    )


def _padding(value: Any) -> dict[str, float] | None:
    """parsePadding: a number, or one to four CSS lengths (top, right, bottom, left)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {side: float(value) for side in ("top", "right", "bottom", "left")}
    if not isinstance(value, str):
        return None
    found = [_length(part) for part in value.split()]
    parts = [part for part in found if part is not None]
    if not 1 <= len(parts) <= 4 or len(parts) != len(found):
        return None
    right = parts[1] if len(parts) > 1 else parts[0]
    return {
        "top": parts[0],
        "right": right,
        "bottom": parts[2] if len(parts) > 2 else parts[0],
        "left": parts[3] if len(parts) > 3 else right,
    }


def _text_shadow(value: Any) -> dict[str, Any]:
    """The editor's text-shadow extractors: the outline's colour is the first shadow's, the
    shadow is the last one (its colour, x, y and blur)."""
    if not isinstance(value, str) or value.strip().lower() in ("", "none"):
        return {}
    shadows = [s.strip() for s in re.split(r",(?![^(]*\))", value) if s.strip()]
    found: dict[str, Any] = {}
    first = _shadow_colour(shadows[0])
    if first is not None:
        found["strokeColor"] = first
    last = shadows[-1]
    colour = _shadow_colour(last)
    if colour is not None:
        found["shadowColor"] = colour
    lengths = [_length(t) for t in _SHADOW_COLOUR.sub(" ", last).split()]
    numbers = [n for n in lengths if n is not None]
    for key, number in zip(("shadowX", "shadowY", "shadowBlur"), numbers, strict=False):
        found[key] = number
    return found


def _shadow_colour(shadow: str) -> str | None:
    for match in _SHADOW_COLOUR.finditer(shadow):
        colour = css_colour(match.group(0))
        if colour is not None:
            return colour
    return None


#: The first letter of each word, after any punctuation that opens it (CSS capitalize).
_WORD_START = re.compile(r"(?:^|(?<=\s))([^\w\s]*)(\w)")


def css_text_transform(words: str, how: Any) -> str:
    """The text as CSS ``text-transform`` draws it: uppercase, lowercase or capitalize (the first
    letter of each word); any other value leaves it as written."""
    kind = how.strip().lower() if isinstance(how, str) else ""
    if kind == "uppercase":
        return words.upper()
    if kind == "lowercase":
        return words.lower()
    if kind == "capitalize":
        return _WORD_START.sub(lambda m: m.group(1) + m.group(2).upper(), words)
    return words


#: What a CSS textShadow is read as, besides fields of the same names.
_SHADOW_FIELDS = ("strokeColor", "shadowColor", "shadowX", "shadowY", "shadowBlur")


#: The inline style's fields whose text is CSS, read by css_look (and its colours by css_colour).
_CSS_FIELDS = (
    "fontSize", "color", "backgroundColor", "background", "padding", "borderRadius",
    "lineHeight", "letterSpacing", "textShadow", "strokeColor", "shadowColor",
)  # fmt: skip


#: Its numeric fields, which a CSS length ("2px") also gives.
_NUMBER_FIELDS = ("strokeWidth", "shadowX", "shadowY", "shadowBlur", "maxWidth")


def _own(clip: Mapping[str, Any]) -> dict[str, Any]:
    own = {**as_map(clip.get("formatting")), **as_map(clip.get("style"))}
    if own.get("maxWidth") is None and clip.get("maxWidth") is not None:
        own["maxWidth"] = clip["maxWidth"]
    for key in _NUMBER_FIELDS:
        if isinstance(own.get(key), str) and _length(own[key]) is not None:
            own[key] = _length(own[key])
    return own


def _unread(own: Mapping[str, Any], read: Mapping[str, Any]) -> dict[str, str]:
    """The CSS text of the inline style that cannot be read (``var(--x)``, ``large``)."""
    found = {}
    for key in _NUMBER_FIELDS:
        if isinstance(own.get(key), str):  # a CSS length is a number by now
            found[key] = own[key]
    for key in _CSS_FIELDS:
        value = own.get(key)
        if not isinstance(value, str) or value.strip().lower() in ("", "none"):
            continue
        if key in ("strokeColor", "shadowColor"):
            if css_colour(value) is None:
                found[key] = value
        elif key != "background" and key not in read:
            found[key] = value
    return found


def inline_look(clip: Mapping[str, Any]) -> dict[str, Any]:
    """A text clip's own look (SubtitleClip ``style``, the inline overrides, over ``formatting``,
    its older name; the clip's ``maxWidth``), its CSS strings read as the preview reads them;
    what cannot be read is left to the style (inline_unread names it)."""
    own = _own(clip)
    read = css_look(own)
    textual = (*_CSS_FIELDS, *_NUMBER_FIELDS)
    kept = {k: v for k, v in own.items() if k not in textual or not isinstance(v, str)}
    # Its textShadow stands in for an outline and a shadow only where none is set outright.
    explicit = {k: own[k] for k in _SHADOW_FIELDS if own.get(k) is not None}
    explicit = {k: v for k, v in explicit.items() if k not in _unread(own, read)}
    return {**kept, **read, **explicit}


def inline_unread(clip: Mapping[str, Any]) -> list[str]:
    """What of a text clip's inline style cannot be read, one message per field."""
    own = _own(clip)
    return [
        f"style.{key} {shown(value)} is not a value this renderer reads; the style's is used"
        for key, value in _unread(own, css_look(own)).items()
    ]
