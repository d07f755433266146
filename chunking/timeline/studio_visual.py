"""A clip's and track's visual parts in ProjectSchema JSON: transform, crop, colour, effects.

Each reader takes the raw section, the problems collector and a where-string naming the clip or
track for messages; a missing or non-object section means the default (identity) value.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.catalogue import effect_kind
from chunking.timeline.fields import Problems, canonical, number, pick
from chunking.timeline.frames import to_frame
from chunking.timeline.model import ColorCorrection, Crop, Effect, Transform
from chunking.timeline.schema import MAX_SECONDS, MAX_SIDE, entries


def parse_transform(raw: Any, p: Problems, where: str) -> Transform:
    """A clip's ``transform`` section (scale, position, rotation, anchor)."""
    if not isinstance(raw, Mapping):
        return Transform()
    w = where + ".transform"
    scale = pick(raw, "scale")
    base_scale = float(scale) if isinstance(scale, int | float) else 1.0
    return Transform(
        scale_x=number(raw, ("scale_x",), base_scale, p, w, low=0, high=100),
        scale_y=number(raw, ("scale_y",), base_scale, p, w, low=0, high=100),
        position_x=number(raw, ("position_x", "x"), 0.0, p, w, low=-1e5, high=1e5),
        position_y=number(raw, ("position_y", "y"), 0.0, p, w, low=-1e5, high=1e5),
        rotation=number(raw, ("rotation",), 0.0, p, w, low=-3600, high=3600),
        anchor_x=number(raw, ("anchor_x",), 0.5, p, w, low=-10, high=10),
        anchor_y=number(raw, ("anchor_y",), 0.5, p, w, low=-10, high=10),
    )


def parse_crop(raw: Any, p: Problems, where: str) -> Crop:
    """A clip's ``crop`` section: pixels off each edge."""
    if not isinstance(raw, Mapping):
        return Crop()
    w = where + ".crop"
    edges = [
        int(number(raw, (k,), 0, p, w, low=0, high=MAX_SIDE))
        for k in ("left", "top", "right", "bottom")
    ]
    return Crop(*edges)


def parse_color(raw: Any, p: Problems, where: str) -> ColorCorrection:
    """A clip's ``color_correction`` section."""
    if not isinstance(raw, Mapping):
        return ColorCorrection()
    w = where + ".color_correction"
    return ColorCorrection(
        brightness=number(raw, ("brightness",), 0.0, p, w, low=-1, high=1),
        contrast=number(raw, ("contrast",), 1.0, p, w, low=0, high=4),
        saturation=number(raw, ("saturation",), 1.0, p, w, low=0, high=4),
        hue=number(raw, ("hue",), 0.0, p, w, low=-360, high=360),
        gamma=number(raw, ("gamma",), 1.0, p, w, low=0.1, high=10),
    )


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
                p.error(where, f"{group} refers to unknown id {ref!r}")
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
