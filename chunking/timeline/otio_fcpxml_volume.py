"""Final Cut Pro's volume keyframes (``<adjust-volume>``'s ``<param name="amount">`` holding a
``<keyframeAnimation>``, how its users draw fades and duck a music bed).

A steady level that rises from silence at the clip's start and/or falls to silence at its end
is that level with those fades (as FCP 7's keyframed Audio Levels read, otio_fcp7_filters); any
other shape (a dip in the middle) is the clip's ``volume_keyframes`` (chunking.timeline.
volume_keys), played per sample and interpolated in dB (``db``): Final Cut shows and edits the
level in dB, and its line between two keys is straight on that scale. Either replaces the
clip's fixed ``amount`` (often absent once keyframed: a bed keyed down to -20 dB played at
0 dB).

Keyframe times are in the clip's own time (from its ``start``), as Final Cut writes them; a list
that only fits the clip counted from 0 is read that way.
"""

from __future__ import annotations

import math
import re
from typing import Any

from chunking.timeline.otio_fcp7_filters import _fades, _window
from chunking.timeline.otio_fcpxml_time import fcpxml_time
from chunking.timeline.volume_keys import volume_keyframes

_DB = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*dB\s*$")
#: The loudest level the loader takes for a clip (its ``volume`` range).
_MAX_GAIN = 10.0
#: Keyframe times are compared in these steps a second: the fade shapes' tolerances (a key
#: a frame from the clip's start still starts its fade) are in frames.
_TICKS = 30


def volume_keys(adjust: Any) -> list[tuple[float, float]]:
    """An ``<adjust-volume>``'s amount keyframes as (seconds, gain) in time order, leaving out
    unreadable ones."""
    keys = []
    for param in adjust.findall("param"):
        if (param.get("name") or "amount").lower() != "amount":
            continue
        for animation in param.findall("keyframeAnimation"):
            for key in animation.findall("keyframe"):
                when, level = fcpxml_time(key.get("time")), _DB.match(key.get("value") or "")
                if when is not None and level is not None and abs(float(level[1])) < 1000:
                    keys.append((float(when), 10 ** (float(level[1]) / 20)))
    return sorted(keys)


def keyed_level(
    keys: list[tuple[float, float]], item: Any
) -> tuple[float, float, float, str | None, list[dict[str, Any]]]:
    """(gain, fade-in seconds, fade-out seconds, a note or None, ``volume_keyframes``: empty
    unless the keys draw another shape than a level with fades) of an item's volume keys."""
    start = fcpxml_time(item.get("start")) or 0
    length = fcpxml_time(item.get("duration"))
    placed = None
    if length is not None and length > 0:
        lo, hi, end = keys[0][0], keys[-1][0], float(start + length)
        slack = 1 / _TICKS
        if hi >= float(start) - slack and lo <= end + slack:
            shift = float(start)
        elif -slack <= lo and hi <= float(length) + slack:
            shift = 0.0
        else:
            shift = None
        if shift is not None:
            ticks = float(length) * _TICKS
            placed = _window([((w - shift) * _TICKS, v) for w, v in keys], ticks)
    if placed is None:
        gain = _clamped(sum(v for _, v in keys) / len(keys))
        note = f"its volume keyframes do not fit the clip: it plays at {_db(gain)}"
        return gain, 0.0, 0.0, note, []
    shape = _fades(placed, ticks)
    if shape is not None:
        steady, fade_in, fade_out = shape
        return _clamped(steady), fade_in / _TICKS, fade_out / _TICKS, None, []
    levels = [(w - (shift or 0.0), _clamped(v)) for w, v in keys]  # from the clip's start
    return 1.0, 0.0, 0.0, None, volume_keyframes(levels, "db")


def _clamped(gain: float) -> float:
    return max(0.0, min(_MAX_GAIN, gain))


def _db(gain: float) -> str:
    return "silence" if gain <= 0 else f"{20 * math.log10(gain):+.1f} dB"
