"""The speed a Timeline Studio clip plays its media at: ``speed``, a speed ramp of one speed in
its place, times the rate stretch's ``playbackRate``.

The editor's rate stretch (``rateStretch`` in src/features/timeline/services/
timeline-machine.ts) divides the clip's duration by its rate and leaves ``speed``, so the clip
keeps its media only played at both. A SpeedRampingConfig (src/features/timeline/types/
speed-ramping.ts) gives, by getSpeedAtTime, a ramp whose keys share one value that value
everywhere: a constant speed. Any other ramp is named in a warning, not drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import Problems, shown, to_float
from chunking.timeline.schema import entries
from chunking.timeline.studio_clips import MAX_SPEED, MIN_SPEED
from chunking.timeline.studio_editor_library import as_map, js_or


def clip_speed(raw: Mapping[str, Any], config: Any, where: str, p: Problems) -> Any:
    """The clip ``raw``'s speed (``|| 1``; a steady ramp's in its place) times its
    ``playbackRate``; ``config`` is the project's ``speedRampingConfigs`` entry for it (a
    speed that is not a number is the loader's to name)."""
    speed = js_or(raw.get("speed"), 1.0)
    if (steady := _steady_ramp(raw, config, where, p)) is not None:
        speed = steady
    raw_rate = raw.get("playbackRate")
    if raw_rate is None:
        return speed
    rate = to_float(raw_rate)
    if rate is None or not 0 < rate < math.inf:
        p.warn(where, f"playbackRate {shown(raw_rate)} is not a speed above 0; the clip plays "
               "at its speed")  # fmt: skip
        return speed
    base = to_float(speed)
    if rate == 1 or base is None:
        return speed
    played = base * rate
    if not MIN_SPEED <= played <= MAX_SPEED:
        # The editor clamps a speed (setClipSpeed), never the product with its stretch.
        end = min(max(played, MIN_SPEED), MAX_SPEED)
        p.warn(where, f"speed {base:g} x playbackRate {rate:g} = {played:g} is outside "
               f"{MIN_SPEED:g} to {MAX_SPEED:g}; played at {end:g}")  # fmt: skip
        played = end
    return played


def _steady_ramp(raw: Mapping[str, Any], config: Any, where: str, p: Problems) -> float | None:
    """The one speed of the clip's ramp (its ``speedRamping``, else ``config``) when all its
    keys share a value; None when it has none, the ramp named in a warning when it changes speed
    or stops (a freeze frame)."""
    name, ramp = "speedRamping", raw.get("speedRamping")
    if ramp is None:
        name, ramp = "speedRampingConfigs", config
    enabled = as_map(ramp).get("enabled", name == "speedRampingConfigs")
    if not isinstance(ramp, Mapping) or enabled is not True:
        return None
    values = [to_float(as_map(k).get("value")) for k in entries(ramp.get("keyframes"))]
    speeds = [v for v in values if v is not None and math.isfinite(v)]
    steady = len(speeds) == len(values) and len(set(speeds)) == 1
    if steady and MIN_SPEED <= speeds[0] <= MAX_SPEED:
        return speeds[0]
    detail = ""
    if speeds and max(speeds) <= 0:
        detail = f" at {max(speeds):g}x (a freeze frame)"
    elif speeds:
        low, high = min(speeds), max(speeds)
        detail = f" at {low:g}x" if low == high else f" from {low:g}x to {high:g}x"
    p.warn(where, f"speed ramping ({name}){detail} is not rendered; speed is")
    return None
