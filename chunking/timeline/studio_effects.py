"""Effects and filters in ProjectSchema JSON: the ``effects[]``/``filters[]`` registry, the ids
clips and tracks refer to, and each entry read into one or more Effects.

An Effect entry has one kind (``effect_type``) and named parameters. A Filter (serde ``Filter``)
names its parameters after what they change: the editor's frontend copies every parameter of its
filter preset (``{"brightness": -0.05, "contrast": 1.2, "saturation": 0.9}``) and labels the filter
after the first one (timeline-to-project.ts ``convertFilters``), so each such parameter becomes an
Effect of the kind it names, in order. A filter without parameters takes its amount from
``intensity`` as the editor's renderer does (studio_params.INTENSITY_AMOUNTS); otherwise
``intensity`` (0..1) is how much of the result is mixed over the input (Effect.intensity).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction
from typing import Any

from chunking.timeline.catalogue import (
    EFFECT_PARAMS,
    effect_kind,
    known_params,
    not_picture_effect,
    text_param_problems,
)
from chunking.timeline.fields import Problems, canonical, flag, number, out_of_range, pick, shown
from chunking.timeline.fields import to_float as _to_float
from chunking.timeline.frames import to_frame
from chunking.timeline.model import REVERSE_EFFECT, Effect, ParamValue
from chunking.timeline.schema import MAX_SECONDS, entries
from chunking.timeline.studio_effect_catalogue import catalogue_params, catalogue_type
from chunking.timeline.studio_effect_panel import fit_params
from chunking.timeline.studio_keys import EFFECT_KEYS, NAMED, suggestion, warn_unknown
from chunking.timeline.studio_params import (
    DERIVED_PARAMS,
    INTENSITY_AMOUNTS,
    Unreadable,
    decode,
    non_finite,
)


class Registry(dict[str, Mapping[str, Any]]):
    """Effect and filter entries by id, and the Effects each was read as: an entry is read (and
    its problems named) once, at the first clip that uses it; thousands of clips may share it."""

    def __init__(self) -> None:
        super().__init__()
        self.read: dict[str, list[Effect]] = {}


def effect_registry(data: Mapping[str, Any]) -> Registry:
    """The document's top-level ``effects`` and ``filters`` by id, for references to them."""
    registry = Registry()
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
    span: tuple[int, int] | None = None,
) -> tuple[Effect, ...]:
    """A clip's or track's ``effects``/``filters``: inline objects or ids into the registry; a
    clip's ``span`` (its frames) is where an effect window must fall to show."""
    found: list[Effect] = []
    for group in ("effects", "filters"):
        for ref in entries(raw.get(group)):
            spec = ref if isinstance(ref, Mapping) else registry.get(str(ref))
            if spec is None:
                p.error(where, f"{group} refers to unknown id {shown(ref)}")
                continue
            shared = isinstance(registry, Registry) and not isinstance(ref, Mapping)
            effects = registry.read.get(str(ref)) if isinstance(registry, Registry) else None
            if effects is None or not shared:
                _warn_unknown_keys(spec, p, where)
                effects = read_effect(spec, fps, p, where)
                if shared and isinstance(registry, Registry):
                    registry.read[str(ref)] = effects
            found.extend(effects)
    if span is not None:
        for e in found:
            if (e.end is not None and e.end <= span[0]) or (
                e.start is not None and e.start >= span[1]
            ):
                p.warn(
                    f"{where} effect {e.id!r}",
                    f"its window (frames {e.start} to {e.end}) lies outside the clip (frames "
                    f"{span[0]} to {span[1]}); it never shows",
                )
    return tuple(found)


def read_effect(spec: Mapping[str, Any], fps: Fraction, p: Problems, where: str) -> list[Effect]:
    """One effect or filter entry as the Effects it renders (none when disabled or unknown)."""
    if not flag(spec, "enabled", True, p, where):
        return []
    is_filter = "filter_type" in spec and "effect_type" not in spec
    raw_type = pick(spec, "effect_type", "filter_type", "type", "kind", "name", default="")
    if isinstance(raw_type, Mapping) and len(raw_type) == 1:  # {"Custom": "..."}
        raw_type = next(iter(raw_type))
    raw_type = str(raw_type)
    effect_id = str(spec.get("id", raw_type))
    # Named as the key check names it (_warn_unknown_keys): a filter's problems say "filter".
    w = f"{where} {'filter' if is_filter else 'effect'} {effect_id!r}"
    params = _decoded(spec, p, w)
    start, end = _window(spec, fps, p, w)
    own = canonical(raw_type)
    ctype = None if is_filter else catalogue_type(spec, own, params)
    if ctype is not None:  # the current editor typed it by its category (sepia as Vintage)
        own, params = canonical(ctype), catalogue_params(ctype, params)
        fit_params(own, params, p, w)  # what the editor's effect panel set
    # An effect's intensity (0..1) is how much of it is mixed in (the editor's AppliedEffect
    # opacity); a filter's without parameters is its amount, in that filter's own range.
    low, high = (0.0, 1.0)
    if is_filter and not params and own in INTENSITY_AMOUNTS:
        low, high = INTENSITY_AMOUNTS[own][2]
        w = f"{w} ({raw_type} without parameters)"
    intensity = number(spec, ("intensity",), 1.0, p, w, low=low, high=high) if is_filter else 1.0
    if not is_filter and pick(spec, "intensity") is not None:
        intensity = number(spec, ("intensity",), 1.0, p, w, low=0.0, high=1.0)
    kind = effect_kind(own)
    if kind is None and own == "reverse":
        # Timing, not a look: the clip reader turns it into the clip's reverse (studio_clips).
        return [Effect(effect_id, REVERSE_EFFECT, {}, start, end)]
    if not is_filter:
        if kind is None:
            why = not_picture_effect(own) or "is not an effect this renderer knows"
            p.warn(w, f"effect type {raw_type!r} {why}; ignored")
            return []
        _check_params(kind, params, p, w)
        return [Effect(effect_id, kind, params, start, end, intensity=intensity)]
    refusal = not_picture_effect(own) if kind is None else None
    if refusal:
        p.warn(w, f"filter type {raw_type!r} {refusal}; ignored")
        return []
    if not params:
        return _from_intensity(own, kind, raw_type, effect_id, intensity, (start, end), p, w)
    # Each parameter goes to the kind it belongs to: the filter's own, else the kind its name
    # names; parameters of one kind make one effect, the filter's own kind first.
    groups: dict[str, dict[str, ParamValue]] = {kind: {}} if kind is not None else {}
    unread = 0  # parameters named so far as not rendered
    derived: list[Effect] = []
    for name, value in params.items():
        named = effect_kind(canonical(name))
        if (
            named is None
            and canonical(name) in DERIVED_PARAMS
            and (kind is None or name not in known_params(kind))
        ):
            derived += _derived(canonical(name), name, value, effect_id, (start, end), p, w)
            continue
        target = (
            kind if kind is not None and (name in known_params(kind) or named == kind) else named
        )
        if target is None or not known_params(target):
            names = {*EFFECT_PARAMS, *DERIVED_PARAMS, *(known_params(kind) if kind else ())}
            hint, unread = suggestion(name, names, unread), unread + 1
            p.warn(w, f"parameter {name!r} of {raw_type!r} is not rendered; ignored{hint}")
            continue
        key = name if name in known_params(target) else _primary(target)
        groups.setdefault(target, {})[key] = value
    effects = []
    for target, values in groups.items():
        if values:
            eid = effect_id if target == kind else f"{effect_id}.{target}"
            _check_params(target, values, p, w)
            effects.append(Effect(eid, target, values, start, end, intensity=intensity))
    return effects + [replace(e, intensity=intensity) for e in derived]


def _warn_unknown_keys(spec: Mapping[str, Any], p: Problems, where: str) -> None:
    """Name the keys of an effect or filter entry nothing reads (a misspelt ``enabeld: false``
    leaves the effect on), with the clip that uses it."""
    is_filter = "filter_type" in spec and "effect_type" not in spec
    label = spec.get("id", pick(spec, "effect_type", "filter_type", "type", "kind", "name"))
    noun, what = ("filter", "a filter's") if is_filter else ("effect", "an effect's")
    warn_unknown(spec, EFFECT_KEYS, what, p, f"{where} {noun} {str(label)!r}")


def _derived(
    name: str,
    raw_name: str,
    value: ParamValue,
    effect_id: str,
    window: tuple[int | None, int | None],
    p: Problems,
    w: str,
) -> list[Effect]:
    """A parameter the editor renders with other filters (studio_params.DERIVED_PARAMS) as
    those effects; one whose value they cannot take is refused naming it."""
    number_value = float(value) if isinstance(value, bool) else _to_float(value)
    if number_value is None:
        p.warn(w, f"parameter {raw_name!r} is not a number ({shown(value)}); ignored")
        return []
    parts = DERIVED_PARAMS[name](number_value)
    effects = []
    for n, (kind, values) in enumerate(parts):
        ((key, amount),) = values.items()
        spec = next(s for s in EFFECT_PARAMS[kind] if key in s.names)
        problem = out_of_range(amount, spec.low, spec.high)
        if problem:
            p.error(w, f"parameter {raw_name!r} {number_value:g} makes {kind} {amount:g}, which "
                    f"{problem}")  # fmt: skip
            return []
        eid = f"{effect_id}.{name}" + (f".{n}" if len(parts) > 1 else "")
        effects.append(Effect(eid, kind, values, *window))
    return effects


def _from_intensity(
    own: str,
    kind: str | None,
    raw_type: str,
    effect_id: str,
    intensity: float,
    window: tuple[int | None, int | None],
    p: Problems,
    w: str,
) -> list[Effect]:
    if own in INTENSITY_AMOUNTS:
        target, amounts, _ = INTENSITY_AMOUNTS[own]
        if target in EFFECT_PARAMS:
            params: dict[str, ParamValue] = {k: f(intensity) for k, f in amounts.items()}
            _check_params(target, params, p, w)
            return [Effect(effect_id, target, params, *window)]
    if kind is not None:  # intensity (read as 0..1) is how much of the result is mixed in
        return [Effect(effect_id, kind, {}, *window, intensity=intensity)]
    p.warn(w, f"unknown filter type {raw_type!r} ignored")
    return []


def _decoded(spec: Mapping[str, Any], p: Problems, w: str) -> dict[str, ParamValue]:
    raw = pick(spec, "parameters", "params", default={})
    if not isinstance(raw, Mapping):
        p.warn(w, f"parameters must be an object, not {shown(raw)}; ignored")
        return {}
    params: dict[str, ParamValue] = {}
    for key, value in raw.items():
        try:
            params[str(key)] = decode(value)
        except Unreadable as bad:
            if (wrong := non_finite(bad.args[0])) is not None:
                p.error(w, f"parameter {str(key)!r} must be a finite number, not {wrong}")
            else:
                p.warn(
                    w, f"parameter {str(key)!r} is not a value the renderer reads ({shown(value)})"
                )
    return params


def _window(
    spec: Mapping[str, Any], fps: Fraction, p: Problems, w: str
) -> tuple[int | None, int | None]:
    frames: list[int | None] = []
    seconds: list[float] = []
    for name in ("start_time", "end_time"):
        if pick(spec, name) is None:
            frames.append(None)
        else:
            seconds.append(number(spec, (name,), 0, p, w, low=0, high=MAX_SECONDS))
            frames.append(to_frame(seconds[-1], fps))
    start, end = frames
    if start is not None and end is not None and end <= start:
        if seconds[1] > seconds[0]:
            p.error(
                w,
                f"start_time {seconds[0]:g}s and end_time {seconds[1]:g}s fall on the same frame "
                f"({start}): the window must be at least one frame long",
            )
        else:
            p.error(w, "end_time must be after start_time")
    return start, end


def _primary(kind: str) -> str:
    specs = EFFECT_PARAMS.get(kind, ())
    return specs[0].names[0] if specs else "amount"


def _check_params(kind: str, params: Mapping[str, ParamValue], p: Problems, where: str) -> None:
    """Warn about each parameter the worker does not read for this kind (it would be dropped),
    and range-check every name of every numeric parameter it reads, aliases included: the worker
    takes the first that is a number, so each one present must be usable."""
    known = known_params(kind)
    unread = [name for name in params if name not in known]
    expected = ", ".join(sorted(known)) or "no parameters"
    for n, name in enumerate(unread[:NAMED]):
        hint = suggestion(name, known, n)
        p.warn(where, f"parameter {name!r} is not used by {kind} ({expected}); ignored{hint}")
    if len(unread) > NAMED:  # a hostile entry may hold millions: one line for the rest
        p.warn(where, f"{len(unread) - NAMED} more parameters not used by {kind}; ignored")
    for spec in EFFECT_PARAMS.get(kind, ()):
        for name in spec.names:
            if name not in params:
                continue
            raw = params[name]
            # The worker reads true/false as 1/0, so they are numbers here too.
            value = float(raw) if isinstance(raw, bool) else _to_float(raw)
            if value is None:
                p.warn(where, f"params.{name} is not a number ({shown(params[name])}); ignored")
                continue
            problem = out_of_range(value, spec.low, spec.high)
            if problem:
                p.error(where, f"params.{name} {problem}")
    for name, why in text_param_problems(kind, params):
        p.error(where, f"params.{name}: {why}")
