"""A TimelineClip's ``keyframes`` of ``volume`` (KeyframeAnimationService's: ``{time, property:
"volume", value, interpolation}``, seconds from the clip's start, the value the clip's volume).

A steady level that rises from silence at the clip's start and/or falls to silence at its end is
that level with those fades (as otio_fcp7_filters reads keyed levels); any other shape (a dip
in the middle) is the clip's ``volume_keyframes`` (chunking.timeline.volume_keys), played per
sample, interpolated linearly in the level as KeyframeAnimationService interpolates ``value``.
Either replaces the clip's fixed ``volume``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import Problems, shown, to_float
from chunking.timeline.otio_fcp7_filters import _fades, _window
from chunking.timeline.schema import MAX_SECONDS
from chunking.timeline.studio_editor_library import as_map
from chunking.timeline.volume_keys import volume_keyframes

#: Key times are compared in these steps a second: the fade shapes' tolerances (a key a step
#: from the clip's start still starts its fade) are in steps.
_TICKS = 30
#: The loudest level the loader takes for a clip (its ``volume`` range).
_MAX_GAIN = 10.0


def keyed_volume(raw: Mapping[str, Any], clip: dict[str, Any], where: str, p: Problems) -> None:
    """Set the ProjectSchema clip's ``volume`` (and sound fades, where it has none of its own)
    from its volume keyframes, if it has usable ones."""
    keys = _keys(raw.get("keyframes"), where, p)
    length = to_float(raw.get("duration"))
    if not keys or length is None or not length > 0:
        return
    ticks = length * _TICKS
    # Keys before or after the clip give the level at its edge (a trimmed clip's).
    placed = _window([(t * _TICKS, v) for t, v in keys], ticks)
    shape = _fades(placed, ticks)
    if shape is None:
        clip["volume"] = 1.0  # the keys are the level
        clip["volume_keyframes"] = volume_keyframes(keys, "linear")
        return
    steady, fade_in, fade_out = shape
    clip["volume"] = _clamped(steady)
    for key, ticked in (("fade_in", fade_in), ("fade_out", fade_out)):
        if ticked > 0:
            clip.setdefault(key, ticked / _TICKS)  # a sound fade of its own stays as it is


def _keys(raw: Any, where: str, p: Problems) -> list[tuple[float, float]]:
    """The usable volume keys (seconds, level) in time order; of two at one time the later
    (addKeyframe keeps one per time); each unusable key is named and left out."""
    found: dict[float, float] = {}
    for i, item in enumerate(raw if isinstance(raw, list) else ()):
        key = as_map(item)
        if key.get("property") != "volume":
            continue
        time, value = to_float(key.get("time")), to_float(key.get("value"))
        if time is None or value is None or not abs(time) <= MAX_SECONDS or math.isnan(value):
            got = f"time {shown(key.get('time'))}, value {shown(key.get('value'))}"
            p.warn(where, f"keyframes[{i}] (volume) needs a numeric time and value ({got}); "
                   "left out")  # fmt: skip
            continue
        if not 0 <= value <= _MAX_GAIN:
            p.warn(where, f"keyframes[{i}] (volume) value {value:g} is outside 0 to "
                   f"{_MAX_GAIN:g}; played at {_clamped(value):g}")  # fmt: skip
            value = _clamped(value)
        shape = key.get("interpolation")
        if shape not in (None, "linear", "bezier"):  # bezier: no control points, so linear
            p.warn(where, f"keyframes[{i}] (volume) interpolation {shown(shape)} is played "
                   "linear")  # fmt: skip
        found.pop(time, None)
        found[time] = value
    return sorted(found.items())


def _clamped(level: float) -> float:
    return max(0.0, min(_MAX_GAIN, level))
