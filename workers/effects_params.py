"""Reading an effect's parameters, and the small caches the effect families share.

Parameters are read leniently from Effect.params: a missing, non-numeric or non-finite value
falls back to the default; of several names the first that reads as a number wins. The value is
then clamped to its range (the loader refuses values outside it; the names, ranges and defaults
live in chunking.timeline.catalogue.EFFECT_PARAMS).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypeVar

from chunking.timeline.catalogue import EFFECT_PARAMS, VIDEO_EFFECT_TEXT_PARAMS, effect_kind
from chunking.timeline.catalogue_params import RGB, parse_color, parse_points
from chunking.timeline.model import Effect, ParamValue
from common.errors import TimelineError
from workers.layer import Image

#: One effect's implementation: (RGB image, effect, timeline frame) -> RGB image.
EffectFn = Callable[[Image, Effect, int], Image]

K = TypeVar("K")
V = TypeVar("V")

#: Entries per cache (masks, blur plans, curves): a render uses a handful of sizes and settings.
CACHE_SIZE = 16


def remember(cache: dict[K, V], key: K, value: V, size: int = CACHE_SIZE) -> V:
    """Store a value in a small cache, dropping the oldest entry when it is full."""
    if len(cache) >= size:
        cache.pop(next(iter(cache)), None)
    cache[key] = value
    return value


def param(params: Mapping[str, ParamValue], names: tuple[str, ...], default: float) -> float:
    """The first of these params that reads as a finite number, else the default."""
    for name in names:
        number = _number(params, name)
        if number is not None:
            return number
    return default


def _number(params: Mapping[str, ParamValue], name: str) -> float | None:
    if name not in params:
        return None
    try:
        number = float(params[name])
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _kind(effect: Effect) -> str:
    return effect_kind(effect.kind) or effect.kind


def setting(effect: Effect, index: int = 0) -> float:
    """The effect's `index`-th numeric parameter (chunking.timeline.catalogue.EFFECT_PARAMS):
    read leniently, then clamped to its range, so a timeline built without the loader's range
    check still cannot overflow the pixel maths."""
    spec = EFFECT_PARAMS[_kind(effect)][index]
    return min(max(param(effect.params, spec.names, spec.default), spec.low), spec.high)


def settings(effect: Effect) -> list[float]:
    """All of the effect's numeric parameters, in catalogue order (see setting)."""
    return [setting(effect, i) for i in range(len(EFFECT_PARAMS[_kind(effect)]))]


def given(effect: Effect, index: int) -> bool:
    """Whether the effect sets its `index`-th numeric parameter to a usable number."""
    spec = EFFECT_PARAMS[_kind(effect)][index]
    return any(_number(effect.params, name) is not None for name in spec.names)


def _raw(effect: Effect, index: int) -> ParamValue | None:
    """The effect's `index`-th text parameter (catalogue.VIDEO_EFFECT_TEXT_PARAMS) as given."""
    spec = VIDEO_EFFECT_TEXT_PARAMS[_kind(effect)][index]
    for name in spec.names:
        if name in effect.params and str(effect.params[name]).strip():
            return effect.params[name]
    return None


def text(effect: Effect, index: int) -> str | None:
    """The effect's `index`-th text parameter as a string, or None."""
    value = _raw(effect, index)
    return None if value is None else str(value)


def color(effect: Effect, index: int) -> RGB | None:
    """The effect's `index`-th text parameter read as a colour (a string, or a number such as
    the editor's RGBA Color), or None; a bad one is a TimelineError."""
    value = _raw(effect, index)
    if value is None:
        return None
    try:
        return parse_color(value)
    except ValueError as exc:
        raise TimelineError(f"effect {effect.id!r}: {exc}") from None


def points(effect: Effect, index: int) -> list[tuple[float, float]] | None:
    """The effect's `index`-th text parameter read as curve points; bad ones: TimelineError."""
    value = text(effect, index)
    if value is None:
        return None
    try:
        return parse_points(value)
    except ValueError as exc:
        raise TimelineError(f"effect {effect.id!r}: {exc}") from None
