"""DaVinci Resolve's own effects in its OTIO export (``effect_name`` "Resolve Effect", what it
is in ``metadata["Resolve_OTIO"]``).

Resolve writes a clip's level as its "Fairlight Clip Volume and Fades" effect (parameter
``volume``, in dB; every audio clip carries the effect, with or without a level), and its
inspector's settings as effects of their own (Transform, Cropping, Composite...), written
whether or not they change anything. Each was an effect of the unknown type "Resolve Effect":
the level was lost (a clip turned down 12 dB played at full level) and every clip of an export
warned of effects it does not have. Now the level is the clip's gain (a keyframed one at its
value, with a warning); an effect whose parameters all hold their defaults is dropped without
a word; any other is named in a warning as not rendered.

Its "Composite" effect's ``opacity`` (percent) is the clip's opacity, and keyframed (how
Resolve's users fade a title in and out: the OTIO repository's ``effects.otio``, a title at
0 % until frame 73, 100 % from 98 to 316, 0 % again from 370) its opacity keyframes, linear
between them. That title was drawn at full opacity over all its 444 frames. Resolve keeps a
keyframe at a frame of the clip's media; where the clip starts inside its media (its range
not at 0) that base is unverified, so such keyframes stay a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from chunking.timeline.otio_read import plain

#: Resolve's clip-volume effect and its parameter (dB).
VOLUME_EFFECT, VOLUME_PARAMETER = "Fairlight Clip Volume and Fades", "volume"
#: Resolve's compositing effect and its opacity parameter (percent).
COMPOSITE_EFFECT, OPACITY_PARAMETER = "Composite", "opacity"
#: A level this low (dB) is silence: Resolve's own floor is -100 dB.
_SILENT_DB = -96.0
#: The loudest clip gain the loader takes (its ``volume`` range, otio_media.MAX_GAIN).
MAX_GAIN = 10.0


@dataclass
class ResolveEffect:
    """What one of Resolve's effects does to its clip."""

    gain: float = 1.0
    #: the picture's opacity, 0 to 1
    opacity: float = 1.0
    #: clip fields it sets (``opacity_keyframes``)
    fields: dict[str, Any] = field(default_factory=dict)
    #: warnings, as (the part they concern: "picture" or "sound", text)
    notes: list[tuple[str, str]] = field(default_factory=list)


def resolve_effect(fx: Any, item: Any = None) -> ResolveEffect | None:
    """What a Resolve effect of ``item`` does (see the module docstring), or None when ``fx``
    is not one."""
    found = plain(fx.metadata).get("Resolve_OTIO")
    if not isinstance(found, dict) or not isinstance(found.get("Effect Name"), str):
        return None
    name = str(found["Effect Name"])
    params = found.get("Parameters")
    params = [p for p in params if isinstance(p, dict)] if isinstance(params, list) else []
    if found.get("Enabled") is False:
        return ResolveEffect()
    if name == VOLUME_EFFECT:
        return _volume(params)
    found = ResolveEffect()
    if name == COMPOSITE_EFFECT:
        opacity = next((p for p in params if p.get("Parameter ID") == OPACITY_PARAMETER), None)
        if opacity is not None and _opacity(opacity, item, found):
            params = [p for p in params if p is not opacity]
    changed = [p for p in params if _changed(p)]
    if not changed:
        return found
    part = "sound" if name.startswith(("Fairlight", "Audio")) else "picture"
    listed = ", ".join(str(p.get("Parameter ID")) for p in changed[:4])
    found.notes.append((part, f"Resolve's {name!r} ({listed}) is not rendered"))
    return found


def _opacity(param: dict[str, Any], item: Any, found: ResolveEffect) -> bool:
    """Set ``found``'s opacity (or opacity keyframes) from Composite's ``opacity`` parameter;
    whether it was taken (False: left for the not-rendered warning)."""
    keys = param.get("Key Frames")
    if not keys:
        value = _number(param.get("Parameter Value"))
        if value is None:
            return False
        found.opacity = max(0.0, min(1.0, value / 100))
        return True
    if not isinstance(keys, dict):
        return False
    start, rate = _clip_start(item)
    if start is None or start != 0 or not rate:
        return False  # keyframes at media frames of a clip starting inside its media: unverified
    timed: dict[float, float] = {}
    for frame, key in keys.items():
        when = _number(_frame(frame))
        value = _number(key.get("Value")) if isinstance(key, dict) else None
        if when is None or value is None:
            return False
        timed[round(when / rate, 6)] = max(0.0, min(1.0, value / 100))
    found.fields["opacity_keyframes"] = [
        {"time": t, "opacity": v} for t, v in sorted(timed.items())
    ]
    return True


def _frame(key: Any) -> float | None:
    """A keyframe's frame (Resolve writes it as the key: ``"73"``), or None."""
    try:
        return float(str(key))
    except ValueError:
        return None


def _clip_start(item: Any) -> tuple[float | None, float]:
    """The frame of its media a clip starts on and its rate, or (None, 0) where unknown."""
    sr = getattr(item, "source_range", None)
    if sr is None:
        return None, 0.0
    rate = float(sr.start_time.rate)
    return (float(sr.start_time.value), rate) if math.isfinite(rate) and rate > 0 else (None, 0.0)


def _volume(params: list[dict[str, Any]]) -> ResolveEffect:
    """The gain of Resolve's clip volume effect."""
    volume = next((p for p in params if p.get("Parameter ID") == VOLUME_PARAMETER), None)
    value = _number(volume.get("Parameter Value")) if volume is not None else None
    if value is None:
        return ResolveEffect()
    notes = []
    if volume is not None and volume.get("Key Frames"):
        notes.append(("sound", f"its keyframed Resolve level is played at {value:g} dB"))
    if value <= _SILENT_DB:
        return ResolveEffect(0.0, notes=notes)
    gain = 10 ** (value / 20)
    if gain > MAX_GAIN:
        notes.append(("sound", f"its Resolve level of {value:g} dB is played at +20 dB"))
    return ResolveEffect(min(gain, MAX_GAIN), notes=notes)


def _changed(param: dict[str, Any]) -> bool:
    """Whether a parameter is keyframed or holds other than its default."""
    if param.get("Key Frames"):
        return True
    if "Default Parameter Value" not in param:
        return False  # nothing to tell a change by: taken as Resolve's untouched default
    value, default = param.get("Parameter Value"), param.get("Default Parameter Value")
    number, base = _number(value), _number(default)
    if number is not None and base is not None:
        return not math.isclose(number, base, rel_tol=1e-6, abs_tol=1e-9)
    return bool(value != default)


def _number(value: Any) -> float | None:
    """A finite number, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
