"""A TimelineClip's picture over time: fadeIn/fadeOut with their curves, and opacityKeyframes.

Timeline Studio's VideoFadeService draws a fade's ``type`` with calculateFadeFactor (the curves
of fade_curves) and its getOpacityAtTime reads ``opacityKeyframes`` ({time, opacity, easing},
seconds from the clip's start) in place of the clip's ``opacity``: before the first key the
first's value, after the last the last's, between two keys the first's easing. applyFadeIn and
applyFadeOut also write the fade's own samples into opacityKeyframes (and removeFadeIn/Out take
them out again by time); those inside a fade's span are the fade's, drawn here by the fade with
its curve, so the keys left are the user's own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chunking.timeline.fade_curves import FADE_CURVES
from chunking.timeline.fields import Problems, shown, to_float
from chunking.timeline.schema import MAX_SECONDS, entries
from chunking.timeline.studio_editor_library import as_map

_FADES = (("fadeIn", "picture_fade_in"), ("fadeOut", "picture_fade_out"))


def picture_over_time(
    raw: Mapping[str, Any], clip: dict[str, Any], where: str, p: Problems
) -> None:
    """Set the ProjectSchema clip's picture fades, their curves and its opacity keyframes from
    the editor's clip ``raw`` (in place); what cannot be drawn is warned about by name."""
    spans = []
    duration = to_float(raw.get("duration")) or 0.0
    for name, key in _FADES:
        fade = as_map(raw.get(name))
        seconds = fade_seconds(raw, name, where, p)
        if seconds is None:
            continue
        if seconds > MAX_SECONDS:
            p.error(where, f"{name}.duration {seconds:g} s is longer than a day ({MAX_SECONDS} s)")
            continue
        clip[key] = seconds
        spans.append((0.0, seconds) if name == "fadeIn" else (duration - seconds, duration))
        curve = fade.get("type")
        if curve is None or curve == "linear":
            continue
        if isinstance(curve, str) and curve in FADE_CURVES:
            clip[f"{key}_curve"] = curve
        else:
            p.warn(where, f"the picture's {name} curve {shown(curve)} is not one the editor "
                   f"draws ({', '.join(FADE_CURVES)}); drawn linear")  # fmt: skip
    keys = _keys(raw.get("opacityKeyframes"), where, p)
    own = [k for k in keys if not any(lo <= k["time"] <= hi for lo, hi in spans)]
    animated = timeline_opacity_keys(raw.get("keyframes"), where, p)
    if own and animated:
        p.warn(where, "animation of 'opacity' (keyframes) is not rendered: its "
               "opacityKeyframes are")  # fmt: skip
    own = own or animated
    if own:
        clip["opacity_keyframes"] = own
        clip["opacity"] = 1.0  # the keys replace it, as getOpacityAtTime reads them


def _keys(raw: Any, where: str, p: Problems) -> list[dict[str, Any]]:
    """The usable VideoFadeKeyframes in time order (of two at one time, the later one, as
    interpolateOpacity reads them); each unusable one warned about and left out."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        p.warn(where, f"opacityKeyframes {shown(raw)} is not a list; not rendered")
        return []
    found: dict[float, dict[str, Any]] = {}
    for i, item in enumerate(entries(raw)):
        key = as_map(item)
        time, opacity = to_float(key.get("time")), to_float(key.get("opacity"))
        at = f"opacityKeyframes[{i}]"
        if time is None or opacity is None or not abs(time) <= MAX_SECONDS or math.isnan(opacity):
            got = f"time {shown(key.get('time'))}, opacity {shown(key.get('opacity'))}"
            p.warn(where, f"{at} needs a time within a day of the clip's start and a numeric "
                   f"opacity ({got}); left out")  # fmt: skip
            continue
        if not 0 <= opacity <= 1:
            p.warn(where, f"{at}.opacity {opacity:g} is outside 0 to 1; drawn at "
                   f"{min(max(opacity, 0), 1):g}")  # fmt: skip
            opacity = min(max(opacity, 0.0), 1.0)
        easing = key.get("easing")
        if easing is None:
            easing = "linear"
        elif not isinstance(easing, str) or easing not in FADE_CURVES:
            p.warn(where, f"{at}.easing {shown(easing)} is not one the editor draws; linear")
            easing = "linear"
        found.pop(time, None)
        found[time] = {"time": time, "opacity": opacity, "easing": easing}
    return sorted(found.values(), key=lambda k: k["time"])


#: KeyframeAnimationService.applyEasing's interpolations that fade_curves draws alike (its
#: bezier, which has no control points there, is its default: linear).
INTERPOLATIONS = {
    "linear": "linear",
    "bezier": "linear",
    "ease-in": "ease-in",
    "ease-out": "ease-out",
    "ease-in-out": "ease-in-out",
    "step": "step",
}


def timeline_opacity_keys(raw: Any, where: str, p: Problems) -> list[dict[str, Any]]:
    """A clip's TimelineKeyframes of ``opacity`` (``{time, property, value, interpolation}``,
    seconds from the clip's start) as opacity keys in time order, as KeyframeAnimationService's
    getValueAtTime reads them: a step holds its value to halfway (two keys a millionth of the
    way apart); each unusable key is named and left out, other properties are not read here."""
    found: dict[float, dict[str, Any]] = {}
    for i, item in enumerate(raw if isinstance(raw, list) else ()):
        key = as_map(item)
        if key.get("property") != "opacity":
            continue
        at = f"keyframes[{i}] (opacity)"
        time, value = to_float(key.get("time")), to_float(key.get("value"))
        if time is None or value is None or not abs(time) <= MAX_SECONDS or math.isnan(value):
            got = f"time {shown(key.get('time'))}, value {shown(key.get('value'))}"
            p.warn(where, f"{at} needs a numeric time and value ({got}); left out")
            continue
        if not 0 <= value <= 1:
            p.warn(where, f"{at} value {value:g} is outside 0 to 1; drawn at "
                   f"{min(max(value, 0), 1):g}")  # fmt: skip
            value = min(max(value, 0.0), 1.0)
        shape = key.get("interpolation")
        easing = INTERPOLATIONS.get(shape if isinstance(shape, str) else "linear")
        if easing is None:
            p.warn(where, f"{at} interpolation {shown(shape)} is drawn linear")
            easing = "linear"
        found.pop(time, None)  # addKeyframe keeps one key per time
        found[time] = {"time": time, "opacity": value, "easing": easing}
    keys = sorted(found.values(), key=lambda k: k["time"])
    drawn: list[dict[str, Any]] = []
    for n, here in enumerate(keys):
        after = keys[n + 1] if n + 1 < len(keys) else None
        if here["easing"] != "step":
            drawn.append(here)
            continue
        drawn.append({**here, "easing": "linear"})
        if after is not None:
            middle = (here["time"] + after["time"]) / 2
            hold = middle - (after["time"] - here["time"]) * 1e-6
            drawn += [{**here, "time": hold, "easing": "linear"},
                      {**after, "time": middle, "easing": "linear"}]  # fmt: skip
    return drawn


def fade_seconds(raw: Mapping[str, Any], name: str, where: str, p: Problems) -> float | None:
    """A clip's ``name`` fade (fadeIn/fadeOut) in seconds: its ``duration``, or the number itself
    (older documents and hand-written ones), else the montage planner's ``fadeInDuration`` /
    ``fadeOutDuration``; None when absent or 0; anything else is named."""
    value = raw.get(name)
    if value is None:
        value = raw.get(f"{name}Duration")
    if value is None:
        return None
    seconds = to_float(value.get("duration")) if isinstance(value, Mapping) else to_float(value)
    if seconds is None or not math.isfinite(seconds):
        shape = value.get("duration") if isinstance(value, Mapping) else value
        if shape is not None:
            p.warn(where, f"{name} {shown(shape)} is not a number of seconds; not rendered")
        return None
    return seconds if seconds > 0 else None
