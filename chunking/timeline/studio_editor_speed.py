"""The speed a Timeline Studio clip plays its media at: ``speed``, or its speed ramp, times the
rate stretch's ``playbackRate``.

The editor's rate stretch (``rateStretch`` in src/features/timeline/services/
timeline-machine.ts) divides the clip's duration by its rate and leaves ``speed``, so the clip
keeps its media only played at both. A SpeedRampingConfig (src/features/timeline/types/
speed-ramping.ts) sets the player's rate at each moment of the clip (TimelinePlayerSync's
updateSpeedRamping: ``interpolateSpeed`` of src/features/timeline/utils/speed-ramping-utils.ts
at the seconds since the clip's start, times the base rate): a ramp whose keys share one value
is that speed (0: a freeze frame, ProjectSchema's ``speed`` 0); any other is a SpeedRamp, which
studio_editor_ramps plays as clips of steady speed.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chunking.timeline.fields import Problems, shown, to_float
from chunking.timeline.schema import entries
from chunking.timeline.studio_clips import MAX_SPEED, MIN_SPEED
from chunking.timeline.studio_editor_library import as_map, js_or

#: The key a converted clip carries its SpeedRamp under until studio_editor_ramps splits it
#: (never written to a document: it is no JSON).
RAMP_KEY = "\u2063speed-ramp"

#: speed-ramping-utils' applyInterpolation: the share of the way from one key's speed to the
#: next's at a share ``u`` of the time between them (``hold`` keeps the first's; names it does
#: not know are linear).
_EASINGS: dict[str, Callable[[float], float]] = {
    "linear": lambda u: u,
    "ease": lambda u: 2 * u * u if u < 0.5 else 1 - (-2 * u + 2) ** 2 / 2,
    "ease-in": lambda u: u * u,
    "ease-out": lambda u: 1 - (1 - u) * (1 - u),
    "ease-in-out": lambda u: 2 * u * u if u < 0.5 else 1 - (-2 * u + 2) ** 2 / 2,
    "hold": lambda u: 0.0,
    # its cubicBezier(t, 0.25, 0.1, 0.25, 1.0), which reads only the y handles
    "bezier": lambda u: 3 * (1 - u) ** 2 * u * 0.1 + 3 * (1 - u) * u * u + u**3,
}


@dataclass(frozen=True)
class SpeedRamp:
    """A ramp that changes speed: keys (seconds from the clip's start, speed, interpolation) in
    time order; every speed is multiplied by ``scale`` (the clip's playbackRate)."""

    keys: tuple[tuple[float, float, str], ...]
    scale: float = 1.0
    #: the pieces keep the sound's pitch (the clip's or the ramp's ``maintainPitch``)
    keep_pitch: bool = False
    _times: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_times", tuple(time for time, _, _ in self.keys))

    def speed_at(self, t: float) -> float:
        """The speed at ``t`` seconds from the clip's start (interpolateSpeed, scaled)."""
        return self._piece(t)(t)

    def played(self, t: float) -> float:
        """Seconds of media the clip plays over its first ``t`` seconds (negative before its
        start)."""
        return self.integral(0.0, t) if t >= 0 else -self.integral(t, 0.0)

    def integral(self, x: float, y: float) -> float:
        """Seconds of media played from ``x`` to ``y`` seconds into the clip (x <= y): exact,
        Simpson's rule on every polynomial piece (keys and the middles between them, where the
        eased curves bend, split it)."""
        times = self._times
        first, last = bisect.bisect_right(times, x), bisect.bisect_left(times, y)
        cuts = {x, y, *times[first:last]}
        for i in range(max(first - 1, 0), min(last, len(times) - 1)):
            middle = (times[i] + times[i + 1]) / 2
            if x < middle < y:
                cuts.add(middle)
        points = sorted(cuts)
        total = 0.0
        for a, b in zip(points, points[1:], strict=False):
            f = self._piece((a + b) / 2)
            total += (b - a) / 6 * (f(a) + 4 * f((a + b) / 2) + f(b))
        return total

    def _piece(self, t: float) -> Callable[[float], float]:
        """The polynomial the speed follows around ``t`` (its segment's, or the first or last
        key's speed before or after the keys)."""
        keys, scale = self.keys, self.scale
        if t <= keys[0][0]:
            return lambda _: keys[0][1] * scale
        if t >= keys[-1][0]:
            return lambda _: keys[-1][1] * scale
        i = bisect.bisect_right(self._times, t) - 1  # keys[i] <= t < keys[i + 1]
        (a, va, how), (b, vb, _) = keys[i], keys[i + 1]
        ease = _EASINGS.get(how, _EASINGS["linear"])
        return lambda x: (va + (vb - va) * ease(min(max((x - a) / (b - a), 0), 1))) * scale


def clip_speed(
    raw: Mapping[str, Any], config: Any, where: str, p: Problems
) -> tuple[Any, SpeedRamp | None]:
    """The clip ``raw``'s speed (``|| 1``; a steady ramp's in its place) times its
    ``playbackRate``, and its ramp when that changes speed (the speed is then what plays if the
    ramp cannot be split); ``config`` is the project's ``speedRampingConfigs`` entry for it (a
    speed that is not a number is the loader's to name)."""
    rate = _rate(raw, where, p)
    ramp = _ramp(raw, config, rate or 1.0, where, p)
    changing = ramp if isinstance(ramp, SpeedRamp) else None
    speed = js_or(raw.get("speed"), 1.0) if ramp is None or changing else ramp
    base = to_float(speed)
    if rate is None or rate == 1 or base is None or base == 0:
        return speed, changing
    played = base * rate
    if not MIN_SPEED <= played <= MAX_SPEED:
        # The editor clamps a speed (setClipSpeed), never the product with its stretch.
        end = min(max(played, MIN_SPEED), MAX_SPEED)
        if changing is None:
            p.warn(where, f"speed {base:g} x playbackRate {rate:g} = {played:g} is outside "
                   f"{MIN_SPEED:g} to {MAX_SPEED:g}; played at {end:g}")  # fmt: skip
        played = end
    return played, changing


def _rate(raw: Mapping[str, Any], where: str, p: Problems) -> float | None:
    """The clip's usable ``playbackRate``, None when it has none (or one that is named)."""
    raw_rate = raw.get("playbackRate")
    if raw_rate is None:
        return None
    rate = to_float(raw_rate)
    if rate is None or not 0 < rate < math.inf:
        p.warn(where, f"playbackRate {shown(raw_rate)} is not a speed above 0; the clip plays "
               "at its speed")  # fmt: skip
        return None
    return rate


def _ramp(
    raw: Mapping[str, Any], config: Any, scale: float, where: str, p: Problems
) -> float | SpeedRamp | None:
    """The clip's ramp (its ``speedRamping``, else ``config``): its one speed when all its keys
    share a value the renderer plays at (0 too: a freeze frame), a SpeedRamp when it changes
    speed or is steady outside that range, None when it has none or cannot be read (named)."""
    name, ramp = "speedRamping", raw.get("speedRamping")
    if ramp is None:
        name, ramp = "speedRampingConfigs", config
    enabled = as_map(ramp).get("enabled", name == "speedRampingConfigs")
    if not isinstance(ramp, Mapping) or enabled is not True:
        return None
    keys = []
    fast: list[tuple[int, float]] = []
    for i, key in enumerate(entries(ramp.get("keyframes"))):
        item = as_map(key)
        time, value = to_float(item.get("time")), to_float(item.get("value"))
        if time is None or not math.isfinite(time):
            _unread(name, i, "time", item, "a number of seconds", where, p)
            return None
        if value is None or not (math.isfinite(value) and value >= 0):
            _unread(name, i, "value", item, "a speed of 0 or more", where, p)
            return None
        if value > MAX_SPEED:
            # The ramp editor's curve ends at its maxSpeed (10 unless set): a key past it
            # played the rest of the clip out of its media in a few frames.
            fast.append((i, value))
            value = MAX_SPEED
        how = item.get("interpolation")
        keys.append((time, value, how if isinstance(how, str) else "linear"))
    if fast:
        (i, value), more = fast[0], len(fast) - 1
        also = f" (and {more} more key{'s' if more > 1 else ''})" if more else ""
        p.warn(where, f"speed ramping ({name}) keyframes[{i}].value {value:g}{also} is above "
               f"{MAX_SPEED:g}x; played at {MAX_SPEED:g}x")  # fmt: skip
    if not keys:
        # The player keeps the clip's rate when a ramp has no keys.
        p.warn(where, f"speed ramping ({name}) has no keyframes; the clip plays at its speed")
        return None
    speeds = {value for _, value, _ in keys}
    if len(speeds) == 1 and (MIN_SPEED <= keys[0][1] <= MAX_SPEED or keys[0][1] == 0):
        return keys[0][1]
    keep = raw.get("maintainPitch") is True or ramp.get("maintainPitch") is True
    # Array.prototype.sort is stable, as sorted is: keys at one time keep their order.
    return SpeedRamp(tuple(sorted(keys, key=lambda k: k[0])), scale, keep)


def _unread(
    name: str, index: int, field: str, key: Mapping[str, Any], want: str, where: str, p: Problems
) -> None:
    """Name a ramp's key that cannot be read: the ramp is not rendered."""
    p.warn(where, f"speed ramping ({name}) keyframes[{index}].{field} {shown(key.get(field))} "
           f"is not {want}; the ramp is not rendered, speed is")  # fmt: skip
