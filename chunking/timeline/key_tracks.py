"""Keys of single properties, each keyed at its own times (an editor's position x, scale,
rotation), merged into keys that hold every property at once (a transform key).

A merged key is made at each time any property has one, each property at the value its own keys
give there (the first key's before it, the last's after it, between two the first's easing); a
``step`` holds its value to the middle (two keys a millionth of the way apart). Where a
property's eased way between its keys is split by another property's key, the way is sampled
(``SPLIT`` linear pieces along its curve) rather than drawn along one curve.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from fractions import Fraction

from chunking.timeline.fade_curves import fade_curve

#: Linear pieces a split eased way is drawn in.
SPLIT = 8
#: One property's keys, (seconds, value, easing: a fade_curves name or "step"), in time order.
Track = list[tuple[float, float, str]]


def merged(tracks: Mapping[str, Track]) -> list[tuple[float, dict[str, float], str]]:
    """(seconds, each property's value, easing to the next) for every merged key, in time
    order; none when no property has keys."""
    found = {t for track in tracks.values() for t, _, _ in track}
    for track in tracks.values():
        for (t0, _, easing), (t1, _, _) in zip(track, track[1:], strict=False):
            if easing == "step":  # held to the middle, then the next value at once
                middle = (t0 + t1) / 2
                found |= {middle - (t1 - t0) * 1e-6, middle}
    times = sorted(found)
    keys = []
    for n, time in enumerate(times):
        ahead = times[n + 1] if n + 1 < len(times) else None
        shape = _easing(tracks, time, ahead)
        steps = [time] if shape is not None or ahead is None else [
            time + (ahead - time) * i / SPLIT for i in range(SPLIT)
        ]  # fmt: skip
        for at in steps:
            values = {name: _value(track, at) for name, track in tracks.items() if track}
            keys.append((at, values, shape or "linear"))
    return keys


def _value(track: Track, time: float) -> float:
    """A property's value at ``time`` as getValueAtTime gives it (a step: the next value from
    the middle on); a binary search, as a clip may carry many keys."""
    after = bisect_right(track, time, key=lambda k: k[0])
    if after == 0:
        return track[0][1]
    if after == len(track):
        return track[-1][1]
    (t0, v0, easing), (t1, v1, _) = track[after - 1], track[after]
    progress = (time - t0) / (t1 - t0)
    if easing == "step":
        return v0 if progress < 0.5 else v1
    return v0 + (v1 - v0) * float(fade_curve(easing, Fraction(progress)))


def _easing(tracks: Mapping[str, Track], time: float, ahead: float | None) -> str | None:
    """The one easing that draws every property's way from ``time`` to ``ahead`` exactly, or
    None when none does (they differ, or a way is split)."""
    if ahead is None:
        return "linear"
    shapes = set()
    for track in tracks.values():
        # The property's own way holding [time, ahead] (no key of it lies inside).
        after = bisect_right(track, time, key=lambda k: k[0])
        if after == 0 or after == len(track):
            continue  # before its first key or after its last: it stands still
        (t0, v0, easing), (t1, v1, _) = track[after - 1], track[after]
        # A step is drawn by the keys at its middle: constant on each side of them.
        if v0 == v1 or easing == "step":
            continue
        if easing != "linear" and (t0, t1) != (time, ahead):
            return None  # its curve is split by another property's key
        shapes.add(easing)
    if len(shapes) > 1:
        return None
    return shapes.pop() if shapes else "linear"
