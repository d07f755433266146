"""A text clip's entrance and exit (SubtitleClip ``animationIn``/``animationOut``) as the
``animations[]`` of its ProjectSchema subtitle, as the editor's converter writes them
(timeline-to-project.ts convertSubtitleAnimations) and its preview plays them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import shown, to_float
from chunking.timeline.studio_editor_library import as_map, compact, text

# convertSubtitleAnimationType. The editor falls back to FadeIn for "scale", TypeWriter for
# "wave" and FadeIn for the rest of SubtitleAnimationType (an exit too) because its renderer
# lacked them; ours draws them all, so each keeps the meaning its preview shows.
_ANIMATIONS = {
    "fade": ("FadeIn", "FadeOut"),
    "slide": ("SlideIn", "SlideOut"),
    "typewriter": ("TypeWriter", "TypeWriter"),
    "scale": ("ScaleIn", "ScaleOut"),
    "wave": ("Wave", "Wave"),
    "bounce": ("Bounce", "Bounce"),
    "shake": ("Shake", "Shake"),
    "blink": ("Blink", "Blink"),
    "dissolve": ("FadeIn", "Dissolve"),
}
#: Exits the loader ends with the subtitle by themselves (studio_subtitle_style); any other one
#: is given the start that ends it there.
_ENDING_EXITS = ("FadeOut", "SlideOut", "ScaleOut", "Dissolve")
#: The editor's easing names -> SubtitleAnimation easing (convertSubtitleAnimationEasing).
EASINGS = {
    "linear": "Linear",
    "ease": "Ease",
    "ease-in": "EaseIn",
    "ease-out": "EaseOut",
    "ease-in-out": "EaseInOut",
}


def text_animations(entering: Any, leaving: Any, length: float) -> list[dict[str, Any]]:
    """convertSubtitleAnimations: the clip's entrance and exit as SubtitleAnimation entries, with
    the ``direction`` and ``delay`` its preview plays (the converter writes Right/Left and 0);
    an exit ends with the clip (``length`` seconds long)."""
    found: list[dict[str, Any]] = []
    for raw, phase, direction in ((entering, 0, "Right"), (leaving, 1, "Left")):
        anim = as_map(raw)
        if not anim:
            continue
        kind = _ANIMATIONS.get(text(anim.get("type")), ("FadeIn", "FadeOut"))[phase]
        side = text(anim.get("direction")).lower()
        side = side if side in ("top", "bottom", "left", "right", "center") else ""
        entry = {
            "id": f"anim_{'in' if phase == 0 else 'out'}_{len(found)}",
            "animation_type": kind,
            "duration": anim.get("duration"),
            "easing": EASINGS.get(text(anim.get("easing")) or "ease", "Ease"),
            "delay": _delay(anim.get("delay")),
            "direction": side.capitalize() if side else direction,
        }
        seconds = to_float(anim.get("duration"))
        if phase == 1 and kind not in _ENDING_EXITS and seconds is not None:
            entry["start_time"] = max(length - seconds, 0.0)
        found.append(compact(entry))
    return found


def _delay(raw: Any) -> float:
    """An animation's ``delay`` in seconds: a number of 0 or more, else none (the converter's 0)."""
    value = to_float(raw)
    return value if value is not None and math.isfinite(value) and value >= 0 else 0.0


#: Animated properties named in one warning; the rest are counted.
_NAMED = 5


def unrendered_animation(name: str, keys: Any) -> str:
    """The warning for a clip's ``keyframes`` (TimelineKeyframe: ``{time, property, value,
    interpolation}``) or a title's ``opacityKeyframes``, which neither the editor's export (its
    convertClip drops them) nor ours draws (a picture clip's opacity keys aside:
    studio_editor_opacity draws those): it names the properties they animate."""
    if name != "keyframes":
        return f"animation of opacity ({name}) is not rendered; the fixed values are"
    if isinstance(keys, Mapping):  # {property: [keys]}
        found = [str(k) for k in keys]
    else:
        props = (k.get("property") for k in keys if isinstance(k, Mapping))
        found = list(dict.fromkeys(str(v) for v in props if v is not None))
    named = ", ".join(shown(v) for v in found[:_NAMED]) or "no named property"
    more = len(found) - _NAMED
    named += f" and {more} more" if more > 0 else ""
    return f"animation of {named} ({name}) is not rendered; the fixed values are"
