"""A clip's and track's visual parts in ProjectSchema JSON: transform, crop, colour, effects.

Each reader takes the raw section, the problems collector and a where-string naming the clip or
track for messages; a missing or non-object section means the default (identity) value.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.catalogue import EFFECT_PARAMS, effect_kind
from chunking.timeline.fields import (
    Problems,
    canonical,
    number,
    out_of_range,
    pick,
    shown,
    to_float,
)
from chunking.timeline.frames import to_frame
from chunking.timeline.model import ColorCorrection, Crop, Effect, ParamValue, Transform
from chunking.timeline.schema import MAX_SECONDS, MAX_SIDE, entries


def parse_transform(raw: Any, p: Problems, where: str) -> Transform:
    """A clip's ``transform`` section (scale, position, rotation, anchor)."""
    if not isinstance(raw, Mapping):
        return Transform()

    def read(names: tuple[str, ...], default: float, low: float, high: float) -> float:
        return number(raw, names, default, p, where, low=low, high=high, section="transform")

    # `scale` sets both axes; it is a number or {"x", "y"}, range-checked like scale_x/scale_y.
    scale = raw.get("scale")
    base_x = base_y = 1.0
    if isinstance(scale, Mapping) and "value" not in scale:
        base_x = number(scale, ("x",), 1.0, p, where, low=0, high=100, section="transform.scale")
        base_y = number(scale, ("y",), 1.0, p, where, low=0, high=100, section="transform.scale")
    elif scale is not None:
        base_x = base_y = read(("scale",), 1.0, 0, 100)
    return Transform(
        scale_x=read(("scale_x",), base_x, 0, 100),
        scale_y=read(("scale_y",), base_y, 0, 100),
        position_x=read(("position_x", "x"), 0.0, -1e5, 1e5),
        position_y=read(("position_y", "y"), 0.0, -1e5, 1e5),
        rotation=read(("rotation",), 0.0, -3600, 3600),
        anchor_x=read(("anchor_x",), 0.5, -10, 10),
        anchor_y=read(("anchor_y",), 0.5, -10, 10),
    )


def parse_crop(raw: Any, p: Problems, where: str) -> Crop:
    """A clip's ``crop`` section: pixels off each edge."""
    if not isinstance(raw, Mapping):
        return Crop()
    edges = [
        int(number(raw, (k,), 0, p, where, low=0, high=MAX_SIDE, section="crop"))
        for k in ("left", "top", "right", "bottom")
    ]
    return Crop(*edges)


def parse_color(raw: Any, p: Problems, where: str) -> ColorCorrection:
    """A clip's ``color_correction`` section."""
    if not isinstance(raw, Mapping):
        return ColorCorrection()

    def read(name: str, default: float, low: float, high: float) -> float:
        return number(raw, (name,), default, p, where, low=low, high=high, section=_COLOR)

    return ColorCorrection(
        brightness=read("brightness", 0.0, -1, 1),
        contrast=read("contrast", 1.0, 0, 4),
        saturation=read("saturation", 1.0, 0, 4),
        hue=read("hue", 0.0, -360, 360),
        gamma=read("gamma", 1.0, 0.1, 10),
    )


_COLOR = "color_correction"


def effect_registry(data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The document's top-level ``effects`` and ``filters`` by id, for references to them."""
    registry: dict[str, Mapping[str, Any]] = {}
    for group in ("effects", "filters"):
        for raw in entries(data.get(group)):
            if isinstance(raw, Mapping) and "id" in raw:
                registry[str(raw["id"])] = raw
    return registry


def parse_effects(
    raw: Mapping[str, Any],
    registry: Mapping[str, Mapping[str, Any]],
    fps: Fraction,
    p: Problems,
    where: str,
) -> tuple[Effect, ...]:
    """A clip's or track's ``effects``/``filters``: inline objects or ids into the registry."""
    found: list[Effect] = []
    for group in ("effects", "filters"):
        for ref in entries(raw.get(group)):
            spec = ref if isinstance(ref, Mapping) else registry.get(str(ref))
            if spec is None:
                p.error(where, f"{group} refers to unknown id {shown(ref)}")
                continue
            effect = _effect(spec, fps, p, where)
            if effect is not None:
                found.append(effect)
    return tuple(found)


def _effect(spec: Mapping[str, Any], fps: Fraction, p: Problems, where: str) -> Effect | None:
    if not spec.get("enabled", True):
        return None
    raw_type = str(pick(spec, "effect_type", "filter_type", "type", "kind", "name", default=""))
    effect_id = str(spec.get("id", raw_type))
    kind = effect_kind(canonical(raw_type))
    if kind is None:
        p.warn(f"{where} effect {effect_id!r}", f"unknown effect type {raw_type!r} ignored")
        return None
    params_raw = pick(spec, "params", "parameters", default={})
    params: dict[str, float | str | bool] = {}
    if isinstance(params_raw, Mapping):
        for key, value in params_raw.items():
            if isinstance(value, Mapping) and "value" in value:
                value = value["value"]
            if isinstance(value, bool | int | float | str):
                params[str(key)] = value
    w = f"{where} effect {effect_id!r}"
    _check_params(kind, params, p, w)
    start = pick(spec, "start_time")
    end = pick(spec, "end_time")
    start_f = (
        to_frame(number(spec, ("start_time",), 0, p, w, low=0, high=MAX_SECONDS), fps)
        if start is not None
        else None
    )
    end_f = (
        to_frame(number(spec, ("end_time",), 0, p, w, low=0, high=MAX_SECONDS), fps)
        if end is not None
        else None
    )
    if start_f is not None and end_f is not None and end_f <= start_f:
        p.error(w, "end_time must be after start_time")
    return Effect(id=effect_id, kind=kind, params=params, start=start_f, end=end_f)


def _check_params(kind: str, params: Mapping[str, ParamValue], p: Problems, where: str) -> None:
    """Range-check every name of every numeric parameter the effect reads, aliases included:
    the worker takes the first that is a number, so each one present must be usable."""
    for spec in EFFECT_PARAMS.get(kind, ()):
        for name in spec.names:
            if name not in params:
                continue
            raw = params[name]
            # The worker reads true/false as 1/0, so they are numbers here too.
            value = float(raw) if isinstance(raw, bool) else to_float(raw)
            if value is None:
                p.warn(where, f"params.{name} is not a number ({shown(params[name])}); ignored")
                continue
            problem = out_of_range(value, spec.low, spec.high)
            if problem:
                p.error(where, f"params.{name} {problem}")
