"""A TimelineClip's ``keyframes`` of its position (KeyframeAnimationService's ``position.x``,
``position.y``, ``position.width``, ``position.height``, ``position.rotation``,
``position.scaleX``, ``position.scaleY``) as the ProjectSchema clip's ``transform_keyframes``.

The editor keys each property on its own (``{time, property, value, interpolation}``, seconds
from the clip's start) and its getValueAtTime reads each alone: the first key's value before it,
the last's after it, between two keys the first's interpolation. A transform key holds every
field at once, so a key is made at each time any property has one, each field at the value its
own keys give there (chunking.timeline.key_tracks).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import Problems, shown, to_float
from chunking.timeline.key_tracks import Track, merged
from chunking.timeline.schema import MAX_SECONDS
from chunking.timeline.studio_editor_library import as_map
from chunking.timeline.studio_editor_opacity import INTERPOLATIONS
from chunking.timeline.studio_editor_position import (
    DEFAULTS,
    FRACTIONS,
    MAX_CENTRE,
    MAX_SCALE,
    MAX_TURN,
)

#: The editor's animatable position properties -> the ClipPosition field each keys.
PROPERTIES = {f"position.{name}": name for name in DEFAULTS}


def transform_keys(raw: Mapping[str, Any], where: str, p: Problems) -> list[dict[str, Any]]:
    """The clip's ``transform_keyframes`` from its position keyframes (positions still in
    fractions of the frame: studio_editor_position.place); none when it has none."""
    tracks = _tracks(raw.get("keyframes"), where, p)
    if not tracks:
        return []
    base = _base(raw.get("position"))
    return [
        {"time": time, **_transform({**base, **values}, where, p), "easing": easing}
        for time, values, easing in merged(tracks)
    ]


def _tracks(raw: Any, where: str, p: Problems) -> dict[str, Track]:
    """Each animated property's usable keys (the later of two at one time, as addKeyframe
    keeps one); each unusable one named and left out."""
    found: dict[str, dict[float, tuple[float, float, str]]] = {}
    for i, item in enumerate(raw if isinstance(raw, list) else ()):
        key = as_map(item)
        name = PROPERTIES.get(str(key.get("property")))
        if name is None:
            continue
        at = f"keyframes[{i}] ({key.get('property')})"
        time, value = to_float(key.get("time")), to_float(key.get("value"))
        if (
            time is None
            or value is None
            or not abs(time) <= MAX_SECONDS
            or not math.isfinite(value)
        ):
            got = f"time {shown(key.get('time'))}, value {shown(key.get('value'))}"
            p.warn(where, f"{at} needs a numeric time and value ({got}); left out")
            continue
        shape = key.get("interpolation")
        easing = INTERPOLATIONS.get(shape if isinstance(shape, str) else "linear")
        if easing is None:
            p.warn(where, f"{at} interpolation {shown(shape)} is drawn linear")
            easing = "linear"
        found.setdefault(name, {})[time] = (time, value, easing)
    return {name: sorted(keys.values()) for name, keys in found.items()}


def _base(raw: Any) -> dict[str, float]:
    """The clip's own position values (the editor's defaults where absent or unusable;
    studio_editor_position warns about those)."""
    position = as_map(raw)
    values = {}
    for name, default in DEFAULTS.items():
        value = to_float(position.get(name))
        values[name] = value if value is not None and math.isfinite(value) else default
    return values


def _transform(values: dict[str, float], where: str, p: Problems) -> dict[str, Any]:
    """One key's transform fields from its position values, each kept within the transform's
    range (said so)."""

    def within(label: str, value: float, low: float, high: float) -> float:
        if low <= value <= high:
            return value
        kept = min(max(value, low), high)
        p.warn(where, f"keyframes: {label} {value:g} is outside {low:g} to {high:g}; drawn at "
               f"{kept:g}")  # fmt: skip
        return kept

    return {
        "scale_x": within("width * scaleX", values["width"] * values["scaleX"], 0, MAX_SCALE),
        "scale_y": within("height * scaleY", values["height"] * values["scaleY"], 0, MAX_SCALE),
        "rotation": within("rotation", values["rotation"], -MAX_TURN, MAX_TURN),
        FRACTIONS: (
            within("position.x", values["x"], -MAX_CENTRE, MAX_CENTRE) - 0.5,
            within("position.y", values["y"], -MAX_CENTRE, MAX_CENTRE) - 0.5,
        ),
    }
