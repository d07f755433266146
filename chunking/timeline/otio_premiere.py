"""Premiere Pro's Essential Graphics titles in its Final Cut Pro 7 XML, as subtitles.

Premiere exports a title as a "GraphicAndType" generator with none of its pixels, but its
``Source Text`` parameter holds the text and its look: base64 of a short header and UTF-16 JSON
(``mTextParam.mStyleSheet``: ``mText``, ``mFontName``, ``mFontSize``, ``mFillColor`` as packed
0xRRGGBB, ``mStrokeColor``...; ``mTextParam``: the background box and shadow). Its ``Position``
parameter is the text's centre in fractions of the frame ("x:y"). The effect's name repeats the
text, which serves when the parameter cannot be decoded.

``drop_graphics`` takes Premiere's titles and graphics out of the timeline (it exports them with
none of their pixels: drawn as Final Cut's black Slug they would hide the picture), an
Essential Graphics title on a top-level track becoming a subtitle.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, MutableMapping
from typing import Any

import opentimelineio as otio

from chunking.timeline.fields import Problems
from chunking.timeline.otio_read import TIME_ERRORS, plain, seconds, track_places

#: FCP 7 XML alpha types of a clip that has an alpha channel.
_ALPHA = {"straight", "premultiplied", "black", "white"}


def premiere_title(clip: Any) -> dict[str, Any] | None:
    """A GraphicAndType clip's text, style and position as subtitle fields, or None when it
    has no text."""
    effect = _graphic_effect(plain(clip.metadata).get("fcp_xml"))
    if effect is None:
        return None
    params = effect.get("parameter")
    params = params if isinstance(params, list) else [params]
    named = {str(p.get("name")): p for p in params if isinstance(p, dict)}
    sheet = _source_text(named.get("Source Text", {}).get("value"))
    fields: dict[str, Any] = {}
    text = _run_value(sheet.get("mStyleSheet", {}).get("mText")) if sheet else None
    if not isinstance(text, str) or not text.strip():
        text = effect.get("name")
    if not isinstance(text, str) or not text.strip():
        return None
    fields["text"] = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    fields["style"] = _style(sheet) if sheet else {}
    position = _position(named.get("Position", {}).get("value"))
    fields["position"] = position if position is not None else "center"
    return fields


def _graphic_effect(meta: Any) -> dict[str, Any] | None:
    """The clip's GraphicAndType effect (its ``filter`` may be one or a list)."""
    filters = meta.get("filter") if isinstance(meta, dict) else None
    for item in filters if isinstance(filters, list) else [filters]:
        effect = item.get("effect") if isinstance(item, dict) else None
        if isinstance(effect, dict) and str(effect.get("effectid")).lower() == "graphicandtype":
            return effect
    return None


def _source_text(value: Any) -> dict[str, Any]:
    """The decoded ``mTextParam`` of a Source Text value, or {} when it does not decode."""
    if not isinstance(value, str) or len(value) > _MAX_VALUE:
        return {}
    try:
        raw = base64.b64decode(value, validate=False)
        decoded = raw[_HEADER:].decode("utf-16-le", errors="replace")
        document = json.loads(decoded[decoded.index("{") : decoded.rindex("}") + 1])
    except (binascii.Error, ValueError, RecursionError):
        return {}
    param = document.get("mTextParam") if isinstance(document, dict) else None
    return param if isinstance(param, dict) else {}


def _run_value(param: Any) -> Any:
    """The first run's value of a style-sheet parameter (``{"mParamValues": [[run, v]...]}``),
    or the value itself."""
    if isinstance(param, dict):
        values = param.get("mParamValues")
        if isinstance(values, list) and values and isinstance(values[0], list):
            return values[0][-1]
        return None
    return param


def _style(param: dict[str, Any]) -> dict[str, Any]:
    """The look: font, size, fill, outline, background box and shadow."""
    sheet = param.get("mStyleSheet", {})
    sheet = sheet if isinstance(sheet, dict) else {}
    style: dict[str, Any] = {}
    font = _run_value(sheet.get("mFontName"))
    if isinstance(font, str) and font:
        family, _, face = font.partition("-")  # a PostScript name: Menlo-Regular, Arial-BoldMT
        style["font_family"] = family
        if "bold" in face.lower():
            style["font_weight"] = "Bold"
    size = _run_value(sheet.get("mFontSize"))
    if isinstance(size, int | float) and not isinstance(size, bool) and 4 <= size <= 1000:
        style["font_size"] = round(size)
    if _run_value(sheet.get("mFauxBold")) is True:
        style["font_weight"] = "Bold"
    fill = _colour(_run_value(sheet.get("mFillColor")))
    if fill:
        style["color"] = fill
    stroke = _colour(_run_value(sheet.get("mStrokeColor")))
    width = _run_value(sheet.get("mStrokeWidth"))
    if _run_value(sheet.get("mStrokeVisible")) is True and stroke and _positive(width):
        style["stroke_color"], style["stroke_width"] = stroke, min(float(width), 50.0)
    else:
        style["stroke_color"] = None
    background = _colour(param.get("mBackFillColor"))
    if param.get("mBackFillVisible") is True and background:
        style["background_color"] = background
        opacity = param.get("mBackFillOpacity")
        if isinstance(opacity, int | float) and _positive(opacity) and opacity <= 100:
            style["background_opacity"] = opacity / 100
    shadow = _colour(param.get("mShadowColor"))
    if param.get("mShadowVisible") is True and shadow:
        style["shadow_color"] = shadow
    return style


def _position(value: Any) -> dict[str, float] | None:
    """A Position parameter ("<ticks>,x:y,...") as the text centre's frame fractions."""
    if not isinstance(value, str):
        return None
    for part in value.split(","):
        x, sep, y = part.partition(":")
        if not sep:
            continue
        try:
            fx, fy = float(x), float(y)
        except ValueError:
            return None
        if 0 <= fx <= 1 and 0 <= fy <= 1:
            return {"x": fx, "y": fy}
        return None
    return None


def _colour(value: Any) -> str | None:
    """A packed 0xRRGGBB integer as "#rrggbb", or None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFFFF:
        return None
    return f"#{value:06x}"


def _positive(value: Any) -> bool:
    """Whether a value is a number above 0 (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


#: Bytes before the UTF-16 JSON in a Source Text value (a length and flags).
_HEADER = 8
#: A Source Text value longer than this is not a title (a bound for hostile documents).
_MAX_VALUE = 4 * 1024 * 1024


def drop_graphics(tl: Any, p: Problems) -> None:
    """Leave out Premiere's titles and graphics: it exports them as a "Slug" with an alpha
    channel or as a "GraphicAndType" generator (Essential Graphics), and no pixels. (A Slug
    without alpha is Final Cut's black filler, drawn black.) An Essential Graphics title on a
    top-level track is drawn as a subtitle instead (``otio_premiere``)."""
    titles: list[dict[str, Any]] = []
    # Each track's items' indexes and places, read once: asking a track for one item's
    # (a Python scan, a walk from its start) made thousands of titles take minutes.
    found: dict[int, tuple[dict[int, int], dict[Any, Any]]] = {}
    for clip in list(tl.find_clips()):
        ref = clip.media_reference
        if not isinstance(ref, otio.schema.GeneratorReference):
            continue
        kind = str(ref.generator_kind).lower()
        alpha = _alpha_type(clip)
        if kind == "graphicandtype":
            what = "an Essential Graphics title"
        elif kind == "slug" and str(alpha) in _ALPHA:
            what = "a Slug with alpha"
        else:
            continue
        parent = clip.parent()
        if id(parent) not in found:
            found[id(parent)] = ({id(c): i for i, c in enumerate(parent)}, track_places(parent))
        indexes, places = found[id(parent)]
        title = None
        if kind == "graphicandtype":
            title = _as_subtitle(tl, clip, places.get(clip), len(titles))
        # A gap of the clip's length in its place: no other item moves.
        parent[indexes[id(clip)]] = otio.schema.Gap(source_range=clip.trimmed_range())
        if title is not None:
            titles.append(title)
            p.warn(
                f"clip {str(clip.name)!r}",
                f"is {what}: drawn as a subtitle (its text, font, size, colours and "
                "position, not its animation)",
            )
            continue
        p.warn(
            f"clip {str(clip.name)!r}",
            f"is a title or graphic the export carries no pixels of ({what}); not drawn",
        )
    meta = tl.metadata.setdefault("cloudrender", {})
    if titles and isinstance(meta, MutableMapping) and "subtitles" not in meta:
        meta["subtitles"] = titles


def _as_subtitle(tl: Any, clip: Any, span: Any, index: int) -> dict[str, Any] | None:
    """A Premiere title clip (``span``: its range in its track) as a subtitle entry at its
    time in the program, or None (no text, or not on a top-level track, whose time is the
    program's)."""
    parent = clip.parent()
    fields = premiere_title(clip)
    if fields is None or parent is None or parent.parent() is not tl.tracks or span is None:
        return None
    try:
        start, end = seconds(span.start_time), seconds(span.end_time_exclusive())
    except TIME_ERRORS:
        return None
    if start < 0 or end <= start:
        return None
    name = str(clip.name) or "Graphic"
    return {
        "id": f"{name} #{index + 1}",
        "start_time": float(start),
        "end_time": float(end),
        **fields,
    }


def _alpha_type(clip: Any) -> Any:
    """The ``alphatype`` an FCP 7 XML clipitem declares, or None."""
    meta = plain(clip.metadata.get("fcp_xml"))
    return meta.get("alphatype") if isinstance(meta, Mapping) else None
