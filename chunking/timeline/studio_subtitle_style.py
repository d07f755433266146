"""How a subtitle looks, from ProjectSchema JSON: position, style and animations.

The editor writes a subtitle's look twice: ``style`` (serde ``SubtitleStyle``, what the frontend
fills in) and the older top-level ``font_family``, ``font_size``, ``color``, ``opacity``,
``font_weight``, ``shadow`` and ``outline`` (what the editor's own ffmpeg renderer draws,
ffmpeg_builder/subtitles.rs). Where both are present the one changed from its serde default wins,
so a document edited through either path renders as edited; ``style`` wins a tie.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.fields import Problems, canonical, choice, color, number, pick, shown
from chunking.timeline.frames import to_frame
from chunking.timeline.model import TextAnimation
from chunking.timeline.schema import MAX_SECONDS, entries

#: serde's defaults (subtitles.rs SubtitleStyle::default and Subtitle::new)
_DEFAULTS: dict[str, Any] = {
    "font_family": "arial",
    "font_size": 24.0,
    "color": "#ffffff",
    "font_weight": "normal",
}
WEIGHTS = {
    "thin": 100,
    "extralight": 200,
    "light": 300,
    "normal": 400,
    "regular": 400,
    "medium": 500,
    "semibold": 600,
    "bold": 700,
    "extrabold": 800,
    "black": 900,
}
_ALIGN_X = {"left": 0.0, "center": 0.5, "centre": 0.5, "right": 1.0}
_ALIGN_Y = {"top": 0.0, "center": 0.5, "centre": 0.5, "middle": 0.5, "bottom": 1.0}
_NAMED_POSITIONS = {"bottom": "bottom", "top": "top", "center": "center", "centre": "center"}
#: The editor's renderer puts Relative text this many pixels from the left/right and top edges
#: and from the bottom edge (subtitles.rs calculate_position).
_EDGE, _BOTTOM_EDGE = 20.0, 50.0

_ANIMATIONS = {
    "fadein": "fade_in",
    "fadeout": "fade_out",
    "slidein": "slide_in",
    "slideout": "slide_out",
    "scalein": "scale_in",
    "scaleout": "scale_out",
    "typewriter": "typewriter",
    "wave": "wave",
    "bounce": "bounce",
    "shake": "shake",
    "blink": "blink",
    # The editor's renderer draws Dissolve as FadeOut and Scale as ScaleIn (same expressions).
    "dissolve": "fade_out",
    "scale": "scale_in",
}
_LEAVING = {"fade_out", "slide_out", "scale_out"}
Reader = Callable[[tuple[str, ...], float, float, float], float]
#: The editor's easing names (after canonical()) -> TextAnimation.easing.
EASINGS = {
    "linear": "linear",
    "ease": "ease",
    "easein": "ease_in",
    "easeout": "ease_out",
    "easeinout": "ease_in_out",
    "elastic": "elastic",
    "bounce": "bounce",
}
#: The editor's slide directions (after canonical()) -> TextAnimation.direction.
DIRECTIONS = {
    "top": "top",
    "up": "top",
    "bottom": "bottom",
    "down": "bottom",
    "left": "left",
    "right": "right",
    "center": "center",
}


def subtitle_look(
    raw: Mapping[str, Any], size: tuple[int, int], p: Problems, where: str
) -> dict[str, Any]:
    """The Subtitle fields (besides id, text and timing) an entry of ``subtitles[]`` sets."""
    has_style = isinstance(raw.get("style"), Mapping)
    style: Mapping[str, Any] = raw["style"] if has_style else raw
    section = "style" if has_style else ""

    def read(names: tuple[str, ...], default: float, low: float, high: float) -> float:
        return number(style, names, default, p, where, low=low, high=high, section=section)

    def prefer(key: str) -> Any:
        mine, top = style.get(key), raw.get(key)
        if has_style and top is not None and (mine is None or _same(mine, _DEFAULTS[key])):
            return top
        return mine

    look: dict[str, Any] = _place(raw, style, size, p, where)
    font_size = prefer("font_size")
    font_size = style.get("size") if font_size is None else font_size
    if font_size is not None:
        holder = {"font_size": font_size}
        mine = font_size is style.get("font_size") or font_size is style.get("size")
        at = section if mine else ""  # the message names the field the value came from
        look["font_size"] = round(
            number(holder, ("font_size",), 48, p, where, low=4, high=1000, section=at)
        )
    text_color = prefer("color")
    text_color = style.get("colour") if text_color is None else text_color
    if text_color is not None:
        look["color"] = color(text_color, p, where)
    family = prefer("font_family")
    if family is not None:
        look["font_family"] = str(family)
    weight = prefer("font_weight")
    if weight is not None:
        look["font_weight"] = _weight(weight, p, where)
    if raw.get("opacity") is not None:
        look["opacity"] = number(raw, ("opacity",), 1.0, p, where, low=0, high=1)
    look.update(_stroke(raw, style, has_style, read, p, where))
    look.update(_shadow(raw, style, read, p, where))
    bg = pick(style, "background_color", "background")
    if bg is not None:
        r, g, b, a = color(bg, p, where)
        alpha = read(("background_opacity",), 1.0, 0, 1)
        look["background"] = (r, g, b, round(a * alpha))
    pad = style.get("padding")
    if isinstance(pad, Mapping):
        look["padding"] = tuple(
            number(pad, (k,), 0, p, where, low=0, high=1000, section=f"{section}.padding")
            for k in ("top", "right", "bottom", "left")
        )
    elif pad is not None:
        look["padding"] = (read(("padding",), 0, 0, 1000),) * 4
    if pick(style, "border_radius") is not None:
        look["border_radius"] = read(("border_radius",), 0, 0, 1000)
    if pick(style, "line_height") is not None:
        look["line_height"] = read(("line_height",), 1.2, 0.5, 5)
    if pick(style, "letter_spacing") is not None:
        look["letter_spacing"] = read(("letter_spacing",), 0, -100, 1000)
    if pick(style, "max_width") is not None:
        # A percentage of the frame width (subtitles.rs: "Максимальная ширина в процентах").
        look["max_width"] = read(("max_width",), 90, 1, 100) / 100
    return look


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, str) and isinstance(default, str):
        return canonical(value) == canonical(default)
    return bool(value == default)


def _weight(raw: Any, p: Problems, where: str) -> int:
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 100 <= raw <= 900:
        return int(raw)
    found = WEIGHTS.get(canonical(str(raw))) if isinstance(raw, str) else None
    if found is None:
        p.error(where, f"font_weight {shown(raw)} is not Thin..Black or 100..900")
        return 400
    return found


def _stroke(
    raw: Mapping[str, Any],
    style: Mapping[str, Any],
    has_style: bool,
    read: Reader,
    p: Problems,
    where: str,
) -> dict[str, Any]:
    outline = raw.get("outline") if has_style else None
    legacy = pick(style, "outline", "outline_width")
    if isinstance(legacy, bool):
        outline, legacy = legacy, None
    if outline is False or ("stroke_color" in style and style["stroke_color"] is None):
        return {"outline": 0}
    found: dict[str, Any] = {}
    if style.get("stroke_color") is not None:
        found["stroke_color"] = color(style["stroke_color"], p, where)
    elif outline is True:
        found["stroke_color"] = (0, 0, 0, 204)  # the editor's bordercolor=black@0.8
    if pick(style, "stroke_width") is not None:
        found["outline"] = round(read(("stroke_width",), 2, 0, 50))
    elif legacy is not None:
        found["outline"] = round(read(("outline", "outline_width"), 2, 0, 50))
    return found


def _shadow(
    raw: Mapping[str, Any], style: Mapping[str, Any], read: Reader, p: Problems, where: str
) -> dict[str, Any]:
    # Read (so checked) whatever else is drawn: a NaN or out-of-range value is an error even
    # where no shadow colour is given, as every other number of the file is.
    offset = (read(("shadow_x",), 2, -1000, 1000), read(("shadow_y",), 2, -1000, 1000))
    blur = read(("shadow_blur",), 0, 0, 1000)
    if raw.get("shadow") is False or ("shadow_color" in style and style["shadow_color"] is None):
        return {"shadow_color": None}
    if style.get("shadow_color") is not None:
        return {
            "shadow_color": color(style["shadow_color"], p, where),
            "shadow_offset": offset,
            "shadow_blur": blur,
        }
    if raw.get("shadow") is True:
        return {"shadow_color": (0, 0, 0, 128)}  # shadowx=2:shadowy=2:shadowcolor=black@0.5
    return {}


def _place(
    raw: Mapping[str, Any],
    style: Mapping[str, Any],
    size: tuple[int, int],
    p: Problems,
    where: str,
) -> dict[str, Any]:
    """position, anchor and align from the subtitle's ``position`` (serde Absolute/Relative, or
    the frontend's percentages) or the older ``style.position``."""
    width, height = size
    pos = raw.get("position")
    if pos is None:
        at = "style.position" if style is not raw else "position"
        return _legacy_position(pick(style, "position", default="bottom"), at, p, where)
    if isinstance(pos, str) or (
        isinstance(pos, Mapping) and "type" not in pos and not {"align_x", "align_y"} & set(pos)
    ):  # this format's own "bottom" or {x, y} fractions, written beside the text
        return _legacy_position(pos, "position", p, where)
    if not isinstance(pos, Mapping):
        p.error(where, f"position {shown(pos)} must be an object")
        return {}
    kind = canonical(str(pos.get("type", "")))
    if kind == "absolute":
        # Pixels of the text's top-left corner (drawtext x, y in the editor's renderer).
        x = number(pos, ("x",), 0, p, where, low=-1e5, high=1e5, section="position")
        y = number(pos, ("y",), 0, p, where, low=-1e5, high=1e5, section="position")
        return {"position": (x / width, y / height), "anchor": (0.0, 0.0), "align": "left"}
    ax = choice(pos, ("align_x",), _ALIGN_X, 0.5, p, where, section="position")
    ay = choice(pos, ("align_y",), _ALIGN_Y, 1.0, p, where, section="position")
    align = {0.0: "left", 0.5: "center", 1.0: "right"}[ax]
    if kind == "relative":
        x = {0.0: _EDGE, 0.5: width / 2, 1.0: width - _EDGE}[ax]
        y = {0.0: _EDGE, 0.5: height / 2, 1.0: height - _BOTTOM_EDGE}[ay]
        return {"position": (x / width, y / height), "anchor": (ax, ay), "align": align}
    if "x" not in pos or "y" not in pos:
        p.error(where, 'position needs "type" (Absolute or Relative) or x and y in percent')
        return {}
    # The frontend's SubtitlePosition: the anchor point in percent of the frame, kept at least
    # `margin` pixels inside it (its alignment presets put x/y at 0, 50 or 100 plus a margin).
    x = number(pos, ("x",), 50, p, where, low=0, high=100, section="position") / 100 * width
    y = number(pos, ("y",), 85, p, where, low=0, high=100, section="position") / 100 * height
    margin = pos.get("margin")
    if isinstance(margin, Mapping):
        edge = {
            k: number(margin, (k,), 0, p, where, low=0, high=1e4, section="position.margin")
            for k in ("top", "right", "bottom", "left")
        }
        x = min(max(x, edge["left"]), max(edge["left"], width - edge["right"]))
        y = min(max(y, edge["top"]), max(edge["top"], height - edge["bottom"]))
    return {"position": (x / width, y / height), "anchor": (ax, ay), "align": align}


def _legacy_position(raw: Any, at: str, p: Problems, where: str) -> dict[str, Any]:
    if isinstance(raw, str) and raw.lower() in _NAMED_POSITIONS:
        return {"position": _NAMED_POSITIONS[raw.lower()]}
    if isinstance(raw, Mapping) and {"x", "y"} <= set(raw):
        # The text's centre as fractions of the frame; the box is kept inside the frame anyway.
        for axis in ("x", "y"):
            if raw[axis] is None:  # elsewhere null means "absent"; here both are required
                p.error(where, f"{at}.{axis} must be a number, not None")
        return {
            "position": (
                number(raw, ("x",), 0.5, p, where, low=0, high=1, section=at),
                number(raw, ("y",), 0.5, p, where, low=0, high=1, section=at),
            )
        }
    p.error(where, f"position {shown(raw)} must be bottom, top, center or {{x, y}}")
    return {}


def parse_animations(
    raw: Mapping[str, Any], start: int, end: int, fps: Fraction, p: Problems, where: str
) -> tuple[TextAnimation, ...]:
    """A subtitle's ``animations[]`` as TextAnimations in timeline frames.

    The editor's renderer starts one at the subtitle's start plus its ``start_time``
    (subtitles.rs apply_single_animation); ``delay`` is added to that. A leaving animation
    (FadeOut, SlideOut, ScaleOut, Dissolve) whose ``start_time`` is absent or 0, as the frontend
    writes them, ends ``delay`` before the subtitle does instead of starting with it.
    """
    found: list[TextAnimation] = []
    for i, item in enumerate(entries(raw.get("animations"))):
        at = f"{where} animation #{i}"
        if not isinstance(item, Mapping):
            p.error(at, "must be an object")
            continue
        kind = choice(item, ("animation_type", "type"), _ANIMATIONS, None, p, at)
        if kind is None:
            if pick(item, "animation_type", "type") is None:
                p.error(at, "animation_type is missing")
            continue
        length = to_frame(number(item, ("duration",), 0.5, p, at, low=0, high=MAX_SECONDS), fps)
        delay = number(item, ("delay",), 0, p, at, low=0, high=MAX_SECONDS)
        offset = number(item, ("start_time",), 0, p, at, low=0, high=MAX_SECONDS)
        if kind in _LEAVING and offset == 0:
            a_end = end - to_frame(delay, fps)
            a_start = a_end - length
        else:
            a_start = start + to_frame(offset + delay, fps)
            a_end = a_start + length
        a_start, a_end = max(a_start, start), min(a_end, end)
        if a_end <= a_start:
            p.warn(at, f"{kind} lies outside the subtitle's time (or lasts no frame); not drawn")
            continue
        direction = choice(item, ("direction",), DIRECTIONS, None, p, at)
        if direction == "center" and kind in ("slide_in", "slide_out"):
            continue  # the editor slides such text nowhere: it stays put
        default_direction = "bottom" if kind == "slide_out" else "top"
        found.append(
            TextAnimation(
                kind=kind,
                start=a_start,
                end=a_end,
                direction=direction if direction not in (None, "center") else default_direction,
                easing=choice(item, ("easing",), EASINGS, "linear", p, at),
            )
        )
    return tuple(found)
