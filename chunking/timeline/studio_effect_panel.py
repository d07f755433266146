"""The editor's effect panel (src/features/effects/components/effect-parameter-controls.tsx,
PARAMETER_CONFIG): the ranges its sliders set, and an applied effect's values fitted to the
strengths that are drawn.

The panel's sliders reach far past the strengths the catalogue's effects are drawn at
(``intensity`` 0 to 100, where sepia's is 0 to 1), and its Reset sets ``intensity`` to 50. A
value inside a slider's range is one the editor writes, so it is not refused: it is drawn at
the nearest strength this renderer draws, silently where the editor's preview stops at the same
place (CSS ``sepia()``, ``grayscale()`` and ``invert()`` stop at 1), else with a warning naming
the value. A value outside the slider's range is the loader's to refuse, as any other.
"""

from __future__ import annotations

from typing import Any

from chunking.timeline.catalogue import EFFECT_PARAMS, effect_kind
from chunking.timeline.fields import Problems, canonical, to_float

#: Each slider's range (PARAMETER_CONFIG's min and max), by the parameter it sets.
PANEL_RANGES: dict[str, tuple[float, float]] = {
    "intensity": (0.0, 100.0),
    "speed": (0.1, 5.0),
    "angle": (0.0, 360.0),
    "radius": (0.0, 50.0),
    "amount": (0.0, 200.0),
    "threshold": (0.0, 100.0),
    "temperature": (-100.0, 100.0),
    "tint": (-100.0, 100.0),
}
#: convertEffectParameters writes brightness', contrast's and saturation's intensity as value.
_WRITTEN_AS = {"value": "intensity"}
#: Kinds whose preview (a CSS filter function) stops at their highest strength, 1, as they do.
_CSS_STOPS = frozenset({"sepia", "grayscale", "invert"})


def fit_to_panel(entry: dict[str, Any], p: Problems, where: str) -> dict[str, Any]:
    """An effects[] entry (effect_entry's) with each parameter the panel set past the strength
    drawn brought to that strength (in place; the entry itself comes back)."""
    params = entry.get("parameters")
    if isinstance(params, dict):
        fit_params(canonical(str(entry.get("effect_type", ""))), params, p, where)
    return entry


def fit_params(effect_type: str, params: dict[str, Any], p: Problems, where: str) -> None:
    """Bring each of an effect's parameters (``effect_type`` canonical) that the panel set past
    the strength drawn to that strength, in place."""
    kind = effect_kind(effect_type)
    if kind is None:
        return
    specs = EFFECT_PARAMS.get(kind, ())
    for name, value in list(params.items()):
        slider = _WRITTEN_AS.get(str(name), str(name))
        panel = PANEL_RANGES.get(slider)
        number = None if isinstance(value, bool) else to_float(value)
        if panel is None or number is None or not panel[0] <= number <= panel[1]:
            continue
        spec = next((s for s in specs if name in s.names), None)
        if spec is None or spec.low <= number <= spec.high:
            continue
        fitted = min(max(number, spec.low), spec.high)
        params[name] = fitted
        if kind in _CSS_STOPS and fitted == spec.high:
            continue
        most = "most" if fitted == spec.high else "least"
        p.warn(where, f"{slider} {number:g} (the effect panel's {panel[0]:g} to {panel[1]:g}) "
               f"is drawn at {fitted:g}, the {most} this renderer draws")  # fmt: skip
