"""Text and layout from the editor's camelCase documents as ProjectSchema entries: subtitle clips
and style templates (StyleTemplate); multi-camera templates are studio_editor_templates.

Each function mirrors its namesake in the Timeline Studio editor's
src/features/timeline/utils/timeline-to-project.ts (collectAllSubtitles with its helpers,
convertStyleTemplates): the same enum spellings, units (percent of the frame)
and defaults, so the loader reads the result as it reads what the editor sends its own renderer.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import Problems, to_float
from chunking.timeline.schema import entries
from chunking.timeline.studio_builtin_style_templates import BUILTIN_STYLE_TEMPLATES
from chunking.timeline.studio_builtin_subtitle_styles import BUILTIN_SUBTITLE_STYLES
from chunking.timeline.studio_editor_animations import EASINGS, text_animations
from chunking.timeline.studio_editor_css import (
    css_colour,
    css_look,
    css_problems,
    css_text_transform,
    inline_look,
    usable,
)
from chunking.timeline.studio_editor_entries import switched_off
from chunking.timeline.studio_editor_library import as_map, compact, js_nullish, js_or, text
from chunking.timeline.studio_subtitle_style import WEIGHTS

# createDefaultSubtitlePosition: centred, near the bottom (percent of the frame).
_DEFAULT_POSITION: dict[str, Any] = {
    "x": 50.0,
    "y": 85.0,
    "align_x": "Center",
    "align_y": "Bottom",
    "margin": {"top": 20.0, "right": 20.0, "bottom": 20.0, "left": 20.0},
}
# convertSubtitlePosition's alignment table: x, y (percent), align_x, align_y.
_ALIGNMENTS = {
    f"{row}-{col}": (x, y, col.capitalize(), "Center" if row == "middle" else row.capitalize())
    for row, y in (("top", 0), ("middle", 50), ("bottom", 100))
    for col, x in (("left", 0), ("center", 50), ("right", 100))
}
#: Tracks whose clips are text: collectAllSubtitles turns them into ``subtitles[]``.
TEXT_TRACKS = ("subtitle", "title", "text")
_CSS_WEIGHTS = {"bolder": 800, "lighter": 300}


def subtitle_style(
    styles: Mapping[str, Mapping[str, Any]], style_id: Any, where: str, p: Problems
) -> Mapping[str, Any] | None:
    """The subtitle style a clip's ``subtitleStyleId`` names among the document's, else among
    the editor's built-in ones, if any; warns when neither has it or it sets nothing drawn."""
    if not isinstance(style_id, str) or not style_id:
        return None
    # The document's own, else one of the editor's built-in styles (which it does not save).
    style = styles.get(style_id) or BUILTIN_SUBTITLE_STYLES.get(style_id)
    if style is None:
        p.warn(where, f"subtitle style {style_id!r} is neither in the document's resources nor "
               "one of the editor's built-in styles; the default is used")  # fmt: skip
    elif not usable(style):
        p.warn(where, f"subtitle style {style_id!r} sets no font, colour, background or box "
               "this renderer can read; the default is used")  # fmt: skip
    else:
        for problem in css_problems(as_map(style.get("style"))):
            p.warn(where, f"subtitle style {style_id!r}: {problem}")
        slant = style.get("fontStyle") or as_map(style.get("style")).get("fontStyle")
        if isinstance(slant, str) and slant.strip().lower() not in ("", "normal"):
            p.warn(where, f"subtitle style {style_id!r}: fontStyle {slant!r} is not drawn; "
                   "the text is upright")  # fmt: skip
    return style


def subtitle_entry(
    clip: Mapping[str, Any],
    clip_id: str,
    start: float,
    end: float,
    style: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """collectAllSubtitles: one clip of a subtitle or title track as a ``subtitles[]`` entry,
    in the SubtitleStyle of the document's resources that it names (``style``), if any."""
    look = as_map(style)
    if isinstance(look.get("style"), Mapping):
        # A SubtitleStyleTemplate of the editor's subtitle catalogue keeps its look as CSS.
        look = {**look, **css_look(look["style"])}
    shadow = look.get("textShadow")
    if isinstance(shadow, Mapping):
        # A SubtitleStyle's shadow: {offsetX, offsetY, blur, color}, as its preview draws it.
        found = {"shadowColor": css_colour(shadow.get("color")),
                 "shadowX": to_float(shadow.get("offsetX")),
                 "shadowY": to_float(shadow.get("offsetY")),
                 "shadowBlur": to_float(shadow.get("blur"))}  # fmt: skip
        look = {**look, **compact(found)}
    # isSubtitleClip is ``"text" in clip``; other clips show their name (extractTextFromClip).
    words = clip["text"] if "text" in clip else (clip.get("name") or "Text")
    own = inline_look(clip)
    case = js_or(own.get("textTransform"), look.get("textTransform"))
    case = js_or(case, as_map(look.get("style")).get("textTransform"))
    entry: dict[str, Any] = {
        "id": clip_id,
        "text": css_text_transform(words if isinstance(words, str) else str(words), case),
        "start_time": start,
        "end_time": end,
        "position": _position(clip.get("subtitlePosition") or look.get("defaultPosition")),
        # The editor's convertSubtitleStyle ignores the referenced style (a TODO) and, when a
        # style id is set, the clip's own ``formatting`` too. Its preview draws the style, and
        # the clip's inline style is documented to override it: both are applied, inline winning.
        "style": _style(own, look),
        "enabled": clip.get("enabled") is not False,
        "animations": text_animations(
            clip.get("animationIn"), clip.get("animationOut"), end - start
        ),
    }
    # The clip's opacity, times its style's CSS opacity (the preview's element carries both).
    opacity, faded = (
        to_float(clip.get("opacity")),
        to_float(as_map(look.get("style")).get("opacity")),
    )
    if opacity is not None and math.isfinite(opacity):
        entry["opacity"] = min(max(opacity, 0.0), 1.0)
    if faded is not None and math.isfinite(faded):
        entry["opacity"] = entry.get("opacity", 1.0) * min(max(faded, 0.0), 1.0)
    # Not in the editor's conversion: a title clip's own fades, as its preview plays them.
    for name, kind in (("fadeIn", "FadeIn"), ("fadeOut", "FadeOut")):
        fade = clip.get(name)  # {duration} as the editor writes it, or the seconds themselves
        seconds = to_float(fade.get("duration") if isinstance(fade, Mapping) else fade)
        if seconds is not None and seconds > 0:
            entry["animations"].append(
                {"id": f"{clip_id}-{name}", "animation_type": kind, "duration": seconds, "delay": 0}
            )
    return entry


def is_text_clip(raw: Any) -> bool:
    """Whether a clip is text (the editor's isSubtitleClip: a text type with its text)."""
    return (
        isinstance(raw, Mapping)
        and text(raw.get("type")).lower() in TEXT_TRACKS
        and isinstance(raw.get("text"), str)
        and bool(raw["text"].strip())
    )


def text_effects_unrendered(raw: Mapping[str, Any], where: str, p: Problems) -> None:
    """Warn about effects and filters applied to a text clip or a text track (the editor's
    converter drops them with the track's clips): a caption is drawn without them."""
    for name in ("effects", "filters", "trackEffects", "trackFilters"):
        live = [a for a in entries(raw.get(name)) if not switched_off(as_map(a))]
        if live:
            what = name.removeprefix("track").lower()
            p.warn(where, f"{what} applied to text are not drawn ({len(live)} in {name})")


def blank_text(clip: Mapping[str, Any]) -> str | None:
    """What is wrong with a text clip's ``text`` that draws nothing ("null", "empty", "not a
    string"); None when it has words, or no ``text`` at all (its name is shown then)."""
    if "text" not in clip or (isinstance(clip["text"], str) and clip["text"].strip()):
        return None
    if clip["text"] is None:
        return "null"
    return "empty" if isinstance(clip["text"], str) else "not a string"


def _position(raw: Any) -> dict[str, Any]:
    position = as_map(raw)
    if not position:
        return {**_DEFAULT_POSITION, "margin": dict(_DEFAULT_POSITION["margin"])}
    x, y, align_x, align_y = _ALIGNMENTS.get(
        text(position.get("alignment")), _ALIGNMENTS["bottom-center"]
    )
    margin_x, margin_y = position.get("marginX"), position.get("marginY")
    return {
        "x": x,
        "y": y,
        "align_x": align_x,
        "align_y": align_y,
        "margin": compact(
            {"left": margin_x, "right": margin_x, "top": margin_y, "bottom": margin_y}
        ),
    }


def _style(formatting: Mapping[str, Any], style: Mapping[str, Any]) -> dict[str, Any]:
    """createDefaultSubtitleStyle(formatting), over the fields of a SubtitleStyle ``style``."""

    def first(name: str, default: Any) -> Any:
        return js_or(formatting.get(name), js_or(style.get(name), default))

    def given(name: str, default: Any) -> Any:  # 0 is a width, not a missing one
        return js_nullish(formatting.get(name), js_nullish(style.get(name), default))

    padding = as_map(formatting.get("padding")) or as_map(style.get("padding"))
    found: dict[str, Any] = {
        "font_family": _family(first("fontFamily", "Arial")),
        "font_size": first("fontSize", 24.0),
        "font_weight": _weight(formatting if _has_weight(formatting) else style),
        "color": first("color", "#FFFFFF"),
        "stroke_color": first("strokeColor", "#000000"),
        "stroke_width": given("strokeWidth", 2.0),
        "shadow_color": first("shadowColor", "#000000"),
        "shadow_x": given("shadowX", 2.0),
        "shadow_y": given("shadowY", 2.0),
        "shadow_blur": given("shadowBlur", 4.0),
        "background_opacity": 0.8,
        "padding": {
            side: js_nullish(padding.get(side), default)
            for side, default in (("top", 8.0), ("right", 12.0), ("bottom", 8.0), ("left", 12.0))
        },
        "border_radius": given("borderRadius", 4.0),
        "line_height": given("lineHeight", 1.2),
        "letter_spacing": given("letterSpacing", 0.0),
        "max_width": given("maxWidth", 80.0),
    }
    background = first("backgroundColor", None)
    if background is not None:
        # A SubtitleStyle's colour carries its own alpha ("rgba(0, 0, 0, 0.8)").
        found["background_color"], found["background_opacity"] = background, 1.0
    opacity = to_float(formatting.get("backgroundOpacity"))
    if opacity is not None and math.isfinite(opacity):
        found["background_opacity"] = min(max(opacity, 0.0), 1.0)
    return found


def _family(stack: Any) -> Any:
    """The first family of a CSS font stack ("Inter, system-ui, sans-serif" -> "Inter")."""
    if not isinstance(stack, str):
        return stack
    return stack.split(",")[0].strip().strip("'\"") or "Arial"


def _has_weight(formatting: Mapping[str, Any]) -> bool:
    return formatting.get("fontWeight") is not None or formatting.get("bold") is not None


def _weight(formatting: Mapping[str, Any]) -> int:
    """convertFontWeight: ``fontWeight`` (CSS: a name or 100..900); older files' ``bold``."""
    raw = formatting.get("fontWeight")
    number = to_float(raw)
    if number is not None and math.isfinite(number):
        return int(min(max(round(number / 100) * 100, 100), 900))
    if isinstance(raw, str) and raw.strip():
        name = raw.strip().lower().replace("-", "").replace(" ", "")
        return _CSS_WEIGHTS.get(name, WEIGHTS.get(name, 400))
    return 700 if formatting.get("bold") is True else 400


def applied_style_template(
    templates: dict[str, Mapping[str, Any]], raw: Any, clip_id: str, where: str, p: Problems
) -> str | None:
    """The style template id for a clip's AppliedStyleTemplate (None when it has none, or it is
    switched off); one of the editor's built-in templates that the document lacks joins
    ``templates``. One with ``customizations`` (element id -> text, element id -> colour: what
    the user typed for this clip) gets a copy of its own, ``<template>@<clip>``, added to
    ``templates``, with those texts and colours in place."""
    applied = as_map(raw)
    ident = applied.get("styleTemplateId")
    if ident is None or applied.get("isEnabled", True) is False:
        return None
    if isinstance(ident, str) and ident not in templates and ident in BUILTIN_STYLE_TEMPLATES:
        templates[ident] = copy.deepcopy(BUILTIN_STYLE_TEMPLATES[ident])  # shipped, not saved
    changes = as_map(applied.get("customizations"))
    template = templates.get(ident) if isinstance(ident, str) else None
    if not changes or template is None:
        return str(ident)  # an unknown id is the loader's to name
    here = f"{where} style template {ident!r}"
    for key in changes:
        if key not in ("texts", "colors"):
            p.warn(here, f"customizations.{key} is not rendered; the template's own values are")
    elements = [dict(as_map(e)) for e in entries(template.get("elements"))]
    by_id = {text(e.get("id")): e for e in elements if text(e.get("id"))}
    changed = False
    for key in ("texts", "colors"):
        for element_id, value in as_map(changes.get(key)).items():
            element = by_id.get(element_id)
            if element is None or not isinstance(value, str):
                why = "names no element of it" if element is None else "is not a string"
                p.warn(here, f"customizations.{key} {element_id!r} {why}; ignored")
                continue
            props = element["properties"] = dict(as_map(element.get("properties")))
            # A Text element's colour is its ink; another element's is its fill.
            ink = "color" if text(element.get("type")) in ("", "text") else "backgroundColor"
            props["text" if key == "texts" else ink] = value
            changed = True
    if not changed:
        return str(ident)
    own = f"{ident}@{clip_id}"
    templates[own] = {**template, "id": own, "elements": elements}
    return own


# -- style templates ----------------------------------------------------------------------------

_ELEMENT_TYPES = ("text", "shape", "image", "video", "animation", "particle")
_ELEMENT_ANIMATIONS = {
    "fadeIn": "FadeIn",
    "fadeOut": "FadeOut",
    "slideIn": "SlideIn",
    "slideOut": "SlideOut",
    "scaleIn": "ScaleIn",
    "scaleOut": "ScaleOut",
    "bounce": "Bounce",
    "shake": "Shake",
}
_CATEGORIES = {
    "intro": "Intro",
    "outro": "Outro",
    "lower-third": "LowerThird",
    "title": "Title",
    "transition": "Transition",
    "overlay": "Overlay",
}
_STYLES = ("modern", "vintage", "minimal", "corporate", "creative", "cinematic")
_DIRECTIONS = ("left", "right", "up", "down")


def style_template_entry(raw: Mapping[str, Any]) -> dict[str, Any] | None:
    """convertStyleTemplates: a StyleTemplate with its elements, enum values in Rust spelling."""
    ident = text(raw.get("id"))
    if not ident:
        return None
    style = text(raw.get("style"))
    return {
        "id": ident,
        "name": _localised(raw.get("name")),
        "category": _CATEGORIES.get(text(raw.get("category")), "Title"),
        "style": style.capitalize() if style in _STYLES else "Modern",
        "duration": raw.get("duration"),
        "elements": [_element(as_map(e)) for e in entries(raw.get("elements"))],
    }


def _localised(value: Any) -> Any:
    names = as_map(value)
    return (names.get("en") or names.get("ru")) if names else value


def _element(raw: Mapping[str, Any]) -> dict[str, Any]:
    kind = text(raw.get("type"))
    props = as_map(raw.get("properties"))
    position, size, timing = (as_map(raw.get(k)) for k in ("position", "size", "timing"))

    def choose(name: str, allowed: tuple[str, ...]) -> str | None:
        value = text(props.get(name))
        return value.capitalize() if value in allowed else None

    return {
        "id": raw.get("id"),
        "element_type": kind.capitalize() if kind in _ELEMENT_TYPES else "Text",
        "name": _localised(raw.get("name")),
        "position": {"x": position.get("x"), "y": position.get("y")},
        "size": {"width": size.get("width"), "height": size.get("height")},
        "timing": {"start": timing.get("start"), "end": timing.get("end")},
        "properties": compact(
            {
                "opacity": props.get("opacity"),
                "rotation": props.get("rotation"),
                "scale": props.get("scale"),
                "text": props.get("text"),
                "font_size": props.get("fontSize"),
                "font_family": props.get("fontFamily"),
                "color": props.get("color"),
                "text_align": choose("textAlign", ("left", "center", "right")),
                "font_weight": choose("fontWeight", ("normal", "bold", "light")),
                "background_color": props.get("backgroundColor"),
                "border_color": props.get("borderColor"),
                "border_width": props.get("borderWidth"),
                "border_radius": props.get("borderRadius"),
                "src": props.get("src"),
                "object_fit": choose("objectFit", ("contain", "cover", "fill")),
            }
        ),
        "animations": [
            compact(
                {
                    "id": anim.get("id"),
                    "animation_type": _ELEMENT_ANIMATIONS.get(text(anim.get("type")), "FadeIn"),
                    "duration": anim.get("duration"),
                    "delay": anim.get("delay"),
                    "easing": EASINGS.get(text(anim.get("easing"))),
                    "direction": text(anim.get("direction")).capitalize()
                    if anim.get("direction") in _DIRECTIONS
                    else None,
                    "properties": anim.get("properties") or {},
                }
            )
            for anim in (as_map(a) for a in entries(raw.get("animations")))
        ],
    }
