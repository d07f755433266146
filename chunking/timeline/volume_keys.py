"""A clip's volume envelope: ``VolumeKey``s (its level over time, such as a dip under a voice-over),
how they read in ProjectSchema JSON (``volume_keyframes``) and the gain they give at a time.

A key's ``volume`` is a linear factor on the clip's ``volume`` (1 = unchanged, 0 = silence), as
``volume`` itself is; its ``time`` is seconds from the clip's first frame. Before the first key
the first's factor holds, after the last the last's. Between two keys the factor runs along the
first key's ``interpolation``: ``linear`` in the factor itself (Timeline Studio's
KeyframeAnimationService interpolates the stored value) or ``db``, a straight line in decibels
(Final Cut Pro draws and plays its volume keys so); a ``db`` stretch with a silent end has no
finite decibel level there, so it runs linearly in the factor (a fade).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chunking.timeline.fields import Problems, number, shown
from chunking.timeline.schema import MAX_SECONDS

#: How a key's stretch to the next runs (the module docstring says how each does).
INTERPOLATIONS = ("linear", "db")
#: The loudest factor a key may give (the clip's ``volume`` range).
MAX_VOLUME = 10.0


@dataclass(frozen=True)
class VolumeKey:
    """A point of a clip's volume over time (the module docstring says how keys combine)."""

    time: float  # seconds from the clip's first frame
    volume: float  # linear factor on the clip's ``volume``, 0..MAX_VOLUME
    interpolation: str = "linear"  # "linear" or "db": how the factor runs to the next key


def key_volume(keys: Sequence[VolumeKey], seconds: float) -> float:
    """The factor the keys (in time order) give at ``seconds`` from the clip's first frame."""
    after = bisect_right(keys, seconds, key=lambda key: key.time)
    if after == 0:
        return keys[0].volume
    if after == len(keys):
        return keys[-1].volume
    a, b = keys[after - 1], keys[after]
    progress = (seconds - a.time) / (b.time - a.time)
    if a.interpolation == "db" and a.volume > 0 and b.volume > 0:
        return float(a.volume * (b.volume / a.volume) ** progress)
    return a.volume + (b.volume - a.volume) * progress


def parse_volume_keys(raw: Any, p: Problems, where: str) -> tuple[VolumeKey, ...]:
    """A clip's ``volume_keyframes``: ``[{time (seconds from the clip's start), volume (a factor
    on the clip's volume, 0..10), interpolation ("linear" or "db")}]`` in strictly increasing
    time order; none when absent."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        p.error(where, f"volume_keyframes must be a list, not {shown(raw)}")
        return ()
    keys, errors = [], len(p.errors)
    for i, item in enumerate(raw):
        at = f"{where} volume_keyframes[{i}]"
        if not isinstance(item, Mapping):
            p.error(at, f"must be an object, not {shown(item)}")
            continue
        unknown = sorted(str(k) for k in item if k not in ("time", "volume", "interpolation"))
        if unknown:
            p.error(at, f"unknown field {unknown[0]!r}: a key has time, volume, interpolation")
        if "time" not in item or "volume" not in item:
            p.error(at, "needs a time and a volume")
            continue
        time = number(item, ("time",), 0.0, p, at, low=-MAX_SECONDS, high=MAX_SECONDS)
        volume = number(item, ("volume",), 1.0, p, at, low=0, high=MAX_VOLUME)
        shape = item.get("interpolation", "linear")
        if shape not in INTERPOLATIONS:
            p.error(at, f"interpolation {shown(shape)} must be one of {', '.join(INTERPOLATIONS)}")
            shape = "linear"
        keys.append(VolumeKey(time, volume, str(shape)))
    times = [key.time for key in keys]
    if len(p.errors) == errors and (times != sorted(times) or len(set(times)) != len(times)):
        p.error(where, "volume_keyframes must be in strictly increasing time order")
    return tuple(keys) if len(p.errors) == errors else ()


def volume_keyframes(
    keys: Sequence[tuple[float, float]], interpolation: str
) -> list[dict[str, Any]]:
    """(seconds, factor) pairs in time order as ProjectSchema ``volume_keyframes`` entries, for
    the importers (one key per time: of two at one time the later)."""
    found: dict[float, float] = {}
    for time, volume in keys:
        found.pop(time, None)
        found[time] = volume
    return [
        {"time": time, "volume": volume, "interpolation": interpolation}
        for time, volume in sorted(found.items())
        if math.isfinite(time) and math.isfinite(volume)
    ]
