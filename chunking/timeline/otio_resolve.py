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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from chunking.timeline.otio_read import plain

#: Resolve's clip-volume effect and its parameter (dB).
VOLUME_EFFECT, VOLUME_PARAMETER = "Fairlight Clip Volume and Fades", "volume"
#: A level this low (dB) is silence: Resolve's own floor is -100 dB.
_SILENT_DB = -96.0
#: The loudest clip gain the loader takes (its ``volume`` range, otio_media.MAX_GAIN).
MAX_GAIN = 10.0


@dataclass
class ResolveEffect:
    """What one of Resolve's effects does to its clip."""

    gain: float = 1.0
    #: warnings, as (the part they concern: "picture" or "sound", text)
    notes: list[tuple[str, str]] = field(default_factory=list)


def resolve_effect(fx: Any) -> ResolveEffect | None:
    """What a Resolve effect does (see the module docstring), or None when ``fx`` is not one."""
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
    changed = [p for p in params if _changed(p)]
    if not changed:
        return ResolveEffect()
    part = "sound" if name.startswith(("Fairlight", "Audio")) else "picture"
    listed = ", ".join(str(p.get("Parameter ID")) for p in changed[:4])
    return ResolveEffect(notes=[(part, f"Resolve's {name!r} ({listed}) is not rendered")])


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
        return ResolveEffect(0.0, notes)
    gain = 10 ** (value / 20)
    if gain > MAX_GAIN:
        notes.append(("sound", f"its Resolve level of {value:g} dB is played at +20 dB"))
    return ResolveEffect(min(gain, MAX_GAIN), notes)


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
