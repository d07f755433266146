"""Style templates (intros, titles, lower thirds) in ProjectSchema JSON, drawn as subtitles.

A clip names one with ``style_template_id`` (the frontend) or with a ``template_id`` that is a
``style_templates[]`` id (the editor's renderer looks both lists up, ffmpeg_builder/templates.rs).
Each Text element becomes a subtitle over the clip: ``position`` is the centre of the element's
box and ``size`` its box, both in percent of the frame (the editor's built-in titles sit at x 50
with a width of 60); ``timing`` and each animation's ``delay`` are seconds from the clip's start,
as the editor's renderer times them (``fade=in:st=<delay>``). Elements of other types, and
properties a subtitle cannot show, are reported once per template as warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.fields import Problems, canonical, color, number, pick, variant
from chunking.timeline.frames import to_frame
from chunking.timeline.model import Clip, Subtitle, TextAnimation
from chunking.timeline.schema import MAX_SECONDS, entries
from chunking.timeline.studio_keys import (
    ELEMENT_ANIMATION_KEYS,
    ELEMENT_KEYS,
    ELEMENT_PROPERTY_KEYS,
    TIMING_KEYS,
    warn_unknown,
)
from chunking.timeline.studio_subtitle_style import DIRECTIONS, EASINGS, WEIGHTS

_ALIGN = {
    "left": (0.0, "left"),
    "center": (0.5, "center"),
    "right": (1.0, "right"),
    "justify": (0.0, "left"),
}
_ANIMATIONS = {
    "fadein": "fade_in",
    "fadeout": "fade_out",
    "slide": "slide_in",
    "slidein": "slide_in",
    "slideout": "slide_out",
    "scale": "scale_in",
    "scalein": "scale_in",
    "scaleout": "scale_out",
    "bounce": "bounce",
    "shake": "shake",
    "typewriter": "typewriter",
    "flicker": "blink",
    # The editor's renderer draws Dissolve as a fade out and Morph as a fade in.
    "dissolve": "fade_out",
    "morph": "fade_in",
}
#: Style templates' elements slide from a side; "center" is not one (their default, left, wins).
_DIRECTIONS = {name: side for name, side in DIRECTIONS.items() if side != "center"}


class StyleTemplates:
    """The document's ``style_templates[]`` by id."""

    def __init__(self, data: Mapping[str, Any], p: Problems) -> None:
        self.p = p
        self.by_id = {
            str(t["id"]): t
            for t in entries(data.get("style_templates"))
            if isinstance(t, Mapping) and t.get("id") is not None
        }
        self._warned: set[tuple[str, str]] = set()

    def template_of(self, raw: Mapping[str, Any], where: str) -> str | None:
        """The style template a clip names (None when it names none); unknown ids are errors."""
        tid = pick(raw, "style_template_id")
        if tid is not None and str(tid) not in self.by_id:
            self.p.error(where, f"style_template_id {str(tid)!r} is not in style_templates[]")
            return None
        if tid is None and str(raw.get("template_id")) in self.by_id:
            tid = raw["template_id"]
        return None if tid is None else str(tid)

    def background(self, tid: str) -> tuple[int, int, int, int]:
        """The template's background colour, for a clip that has no media of its own."""
        raw = self.by_id[tid].get("background_color")
        return color(raw, self.p, f"style template {tid!r}") if raw else (0, 0, 0, 255)

    def subtitles(
        self, clip: Clip, tid: str, size: tuple[int, int], fps: Fraction
    ) -> list[Subtitle]:
        """The template's Text elements over `clip`."""
        where = f"style template {tid!r}"
        found = []
        if entries(self.by_id[tid].get("transitions")):
            self._once(tid, "transitions", "transitions between its elements are not drawn")
        for i, element in enumerate(entries(self.by_id[tid].get("elements"))):
            if not isinstance(element, Mapping):
                self.p.error(f"{where} element #{i}", "must be an object")
                continue
            self._check_keys(tid, i, element)
            raw_type = pick(element, "element_type", "type", default="Text")
            found_type = variant(raw_type)
            if found_type is None or found_type[0] != "text":
                name = raw_type if isinstance(raw_type, str) else "?"
                self._once(tid, name, f"{name} elements are not drawn (only Text elements are)")
                continue
            sub = self._text(element, clip, tid, size, fps, f"{where} element {i}")
            if sub is not None:
                found.append(sub)
        return found

    def _check_keys(self, tid: str, i: int, element: Mapping[str, Any]) -> None:
        """Warn (once per template) about the keys of element ``i`` nothing reads: a misspelt
        ``font_sise`` drew the title at the default size."""
        if (tid, f"keys {i}") in self._warned:
            return
        self._warned.add((tid, f"keys {i}"))
        at = f"style template {tid!r} element #{i}"
        warn_unknown(element, ELEMENT_KEYS, "a style template element's", self.p, at)
        for name, known in (("timing", TIMING_KEYS), ("properties", ELEMENT_PROPERTY_KEYS)):
            if isinstance(part := element.get(name), Mapping):
                warn_unknown(part, known, f"an element's {name}", self.p, f"{at} {name}")
        for j, anim in enumerate(entries(element.get("animations"))):
            if isinstance(anim, Mapping):
                what, where = "an element animation's", f"{at} animation #{j}"
                warn_unknown(anim, ELEMENT_ANIMATION_KEYS, what, self.p, where)

    def _once(self, tid: str, key: str, message: str) -> None:
        if (tid, key) not in self._warned:
            self._warned.add((tid, key))
            self.p.warn(f"style template {tid!r}", message)

    def _text(
        self,
        element: Mapping[str, Any],
        clip: Clip,
        tid: str,
        size: tuple[int, int],
        fps: Fraction,
        at: str,
    ) -> Subtitle | None:
        props = element.get("properties") if isinstance(element.get("properties"), Mapping) else {}
        legacy = element.get("style") if isinstance(element.get("style"), Mapping) else {}
        assert isinstance(props, Mapping) and isinstance(legacy, Mapping)
        text = pick(props, "text", default=element.get("content"))
        if not isinstance(text, str) or not text.strip():
            self._once(tid, "empty", "a Text element without text is not drawn")
            return None
        timing = element.get("timing") if isinstance(element.get("timing"), Mapping) else {}
        assert isinstance(timing, Mapping)
        t0 = number(timing, ("in_time", "start"), 0, self.p, at, low=0, high=MAX_SECONDS)
        t1 = number(timing, ("out_time", "end"), -1, self.p, at, low=0, high=MAX_SECONDS)
        start = clip.start + to_frame(t0, fps)
        end = clip.end if t1 < 0 else min(clip.end, clip.start + to_frame(t1, fps))
        if end <= start:
            self.p.warn(at, f"starts after the end of clip {clip.id!r}; not drawn")
            return None
        pos = element.get("position") if isinstance(element.get("position"), Mapping) else {}
        box = element.get("size") if isinstance(element.get("size"), Mapping) else {}
        assert isinstance(pos, Mapping) and isinstance(box, Mapping)
        x = number(pos, ("x",), 50, self.p, at, low=-100, high=200, section="position") / 100
        y = number(pos, ("y",), 50, self.p, at, low=-100, high=200, section="position") / 100
        w = number(box, ("width",), 90, self.p, at, low=1, high=100, section="size") / 100
        align_raw = variant(pick(props, "text_align", default="Center"))
        anchor_x, align = _ALIGN.get(align_raw[0] if align_raw else "", (0.5, "center"))
        look: dict[str, Any] = {
            "position": (x + (anchor_x - 0.5) * w, y),
            "anchor": (anchor_x, 0.5),
            "align": align,
            "max_width": w,
            "outline": 0,
        }
        font_size = pick(props, "font_size", default=legacy.get("font_size"))
        if font_size is not None:
            holder = {"font_size": font_size}
            look["font_size"] = round(
                number(holder, ("font_size",), 48, self.p, at, low=4, high=1000)
            )
        ink = pick(props, "text_color", "color", default=legacy.get("color"))
        if ink is not None:
            look["color"] = color(ink, self.p, at)
        family = pick(props, "font_family", default=legacy.get("font_family"))
        if family is not None:
            look["font_family"] = str(family)
        weight = variant(pick(props, "font_weight", default="Normal"))
        look["font_weight"] = WEIGHTS.get(weight[0] if weight else "", 400)
        if pick(props, "opacity") is not None:
            look["opacity"] = number(props, ("opacity",), 1, self.p, at, low=0, high=1)
        box_color = pick(
            props, "background_color", "fill_color", default=legacy.get("background_color")
        )
        if box_color is not None:
            look["background"] = color(box_color, self.p, at)
        if pick(props, "border_radius") is not None:
            look["border_radius"] = number(
                props, ("border_radius",), 0, self.p, at, low=0, high=1000
            )
        if pick(props, "stroke_color") is not None:
            look["stroke_color"] = color(props["stroke_color"], self.p, at)
            look["outline"] = round(number(props, ("stroke_width",), 2, self.p, at, low=0, high=50))
        shadow = props.get("shadow")
        if isinstance(shadow, Mapping):
            look["shadow_color"] = color(shadow.get("color", "#000000"), self.p, at)
            look["shadow_offset"] = tuple(
                number(shadow, (k,), 2, self.p, at, low=-1000, high=1000, section="shadow")
                for k in ("offset_x", "offset_y")
            )
            look["shadow_blur"] = number(
                shadow, ("blur",), 0, self.p, at, low=0, high=1000, section="shadow"
            )
        self._unsupported(tid, props, align_raw)
        animations = self._animations(element, clip, start, end, tid, fps, at)
        sub_id = f"{clip.id}/{element.get('id', at.rsplit(' ', 1)[-1])}"
        return Subtitle(id=sub_id, text=text, start=start, end=end, animations=animations, **look)

    def _unsupported(
        self, tid: str, props: Mapping[str, Any], align: tuple[str, Any] | None
    ) -> None:
        checks = {
            "rotation": props.get("rotation") not in (None, 0),
            "scale": props.get("scale") not in (None, 1),
            "blur": props.get("blur") not in (None, 0),
            "font_style": canonical(str(props.get("font_style") or "normal")) != "normal",
            "border_color": props.get("border_color") is not None
            or props.get("border_width") not in (None, 0),
            "text_align Justify": align is not None and align[0] == "justify",
            "shadow spread": isinstance(props.get("shadow"), Mapping)
            and props["shadow"].get("spread") not in (None, 0),
        }
        for name, present in checks.items():
            if present:
                self._once(tid, name, f"{name} of Text elements is not drawn")

    def _animations(
        self,
        element: Mapping[str, Any],
        clip: Clip,
        start: int,
        end: int,
        tid: str,
        fps: Fraction,
        at: str,
    ) -> tuple[TextAnimation, ...]:
        found = []
        for anim in entries(element.get("animations")):
            if not isinstance(anim, Mapping):
                continue
            name = variant(pick(anim, "animation_type", "type", default=""))
            kind = _ANIMATIONS.get(name[0] if name else "")
            if kind is None:
                self._once(
                    tid, f"anim{name}", f"{name[0] if name else '?'} animations are not drawn"
                )
                continue
            if anim.get("repeat") not in (None, 1):
                self._once(tid, "repeat", "animations play once (repeat is not drawn)")
            delay = number(anim, ("delay",), 0, self.p, at, low=0, high=MAX_SECONDS)
            length = number(anim, ("duration",), 0.5, self.p, at, low=0, high=MAX_SECONDS)
            a_start = max(start, clip.start + to_frame(delay, fps))
            a_end = min(end, clip.start + to_frame(delay + length, fps))
            if a_end <= a_start:
                continue  # it would play while the element is not shown
            props = anim.get("properties") if isinstance(anim.get("properties"), Mapping) else {}
            assert isinstance(props, Mapping)
            way = variant(pick(props, "direction", default=anim.get("direction", "")))
            ease = variant(pick(anim, "easing", default="Linear"))
            found.append(
                TextAnimation(
                    kind=kind,
                    start=a_start,
                    end=a_end,
                    direction=_DIRECTIONS.get(way[0] if way else "", "left"),
                    # Quad, Cubic, Sine ... have no match here; they ease in and out.
                    easing=EASINGS.get(ease[0] if ease else "", "ease_in_out"),
                )
            )
        return tuple(found)
