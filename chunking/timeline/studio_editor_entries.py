"""The editor's resource definitions as ProjectSchema entries: effects (VideoEffect), filters
(VideoFilter) and transitions (Transition), as its timeline-to-project.ts converts them
(convertEffects, convertEffectParameters, convertFilters; transitions are a TODO there)."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.fields import Problems, shown, to_float
from chunking.timeline.frames import to_frame
from chunking.timeline.schema import MAX_SECONDS
from chunking.timeline.studio_editor_library import as_map, js_or, text

#: The editor's VideoEffect ``type`` values (src/features/effects/types.ts): an applied effect
#: whose definition the document lost (a ``.tlsp`` writes a sequence's resource Maps as ``{}``)
#: is still rendered when its id is one of these, as the editor's catalogue ids equal its types.
EFFECT_TYPES = frozenset(
    "blur brightness contrast speed reverse grayscale sepia saturation hue-rotate vintage duotone "
    "noir cyberpunk dreamy infrared matrix arctic sunset lomo twilight neon invert vignette "
    "film-grain chromatic-aberration lens-flare glow sharpen noise-reduction stabilization "
    # effects.json's ids beyond types.ts's union (the catalogue's current effects)
    "temperature tint exposure motion-blur glitch pixelate edge-enhance emboss solarize "
    "zoom-blur hologram".split()
)
#: convertFilters: a filter's type is the first of these parameters it sets.
_FILTER_TYPES = (
    "brightness contrast saturation gamma temperature tint hue vibrance shadows highlights "
    "blacks whites clarity dehaze vignette grain blur sharpen".split()
)
#: The editor's transition types (src/features/transitions/data/transitions.json) that name one
#: of ours; any other is written in the editor's enum spelling (the loader warns and dissolves).
_TRANSITIONS = {
    "fade": "Dissolve",
    "dissolve": "Dissolve",
    "wipe-horizontal": "WipeHorizontal",
    "wipe-vertical": "WipeVertical",
    # Its preview's slide moves the outgoing clip out, unfaded, as the incoming one fades in.
    "slide": "SlideOut",
    # A push slides the incoming clip in (as the loader draws Push), so it takes a direction.
    "push": "Slide",
}
_DIRECTIONS = ("left", "right", "up", "down")
#: The editor's types whose horizontal ``direction`` names the side the incoming picture comes
#: from, where ours name the way it moves: its catalogue gives push and wipe-horizontal "right"
#: and its ffmpeg templates draw both entering from the right edge (``overlay=x='W-w*t/d'``,
#: xfade's ``wipeleft``), as its preview moves a push's outgoing clip out to the left. Up and
#: down are the way it moves, as wipe-vertical's "down" is its template's ``wipedown``.
_FROM_SIDE = frozenset({"push", "wipe-horizontal"})
_OPPOSITE = {"left": "right", "right": "left"}
#: The editor's transition catalogue (src/features/transitions/data/transitions.json; MIT with
#: Commons Clause, Copyright (c) 2023-2025 Alexander Kireyev (Chatman Media)): each type's
#: ``direction``, ``easing`` and default ``duration``, what an application whose definition
#: the document lost (a .tlsp saves a sequence's resources as ``{}``) plays with.
CATALOGUE_TRANSITIONS: dict[str, tuple[str | None, str | None, float]] = {
    "zoom": ("center", "ease-in-out", 1.0),
    "fade": (None, "ease-in-out", 0.8),
    "slide": ("left", "ease-out", 1.2),
    "scale": ("center", "ease-in-out", 1.0),
    "rotate": ("center", "ease-in-out", 1.5),
    "flip": ("left", "ease-in-out", 1.0),
    # Its "right" is where the picture comes from: its preview and its ffmpeg template move it
    # left, as a push without a direction is drawn.
    "push": (None, "ease-out", 1.3),
    "squeeze": ("center", "bounce", 1.8),
    "diagonal": ("up", "ease-in-out", 1.2),
    "spiral": ("center", "ease-in-out", 2.0),
    "wipe-horizontal": ("right", "ease-in-out", 1.5),
    "wipe-vertical": ("down", "ease-in-out", 1.5),
    "wipe-diagonal": ("topleft", "ease-in-out", 1.8),
    "radial-wipe": ("center", "ease-in-out", 2.0),
    "cube-3d": ("horizontal", "ease-in-out", 2.5),
    "page-turn": ("right", "ease-out", 2.0),
    "ripple": (None, "ease-in-out", 2.5),
    "pixelize": (None, "ease-in-out", 1.5),
    "dissolve": (None, "ease-in-out", 1.5),
    "morph": (None, None, 3.0),
    "glitch": (None, None, 1.0),
    "kaleidoscope": (None, None, 2.5),
    "shatter": (None, None, 2.0),
    "burn": (None, None, 2.5),
    "blinds": ("horizontal", "ease-in-out", 1.5),
    "iris": (None, None, 1.5),
    "swirl": (None, None, 2.0),
    "zoom-blur": (None, None, 1.0),
    "wave": ("horizontal", None, 1.8),
    "tv-static": (None, None, 0.8),
}


def switched_off(applied: Mapping[str, Any]) -> bool:
    """Whether the user switched an applied effect, filter or transition off: AppliedEffect's
    ``enabled`` (what the editor's toggle writes) or AppliedFilter's ``isEnabled``."""
    return applied.get("enabled") is False or applied.get("isEnabled") is False


def param_values(raw: Any) -> dict[str, Any]:
    """Parameter values as ``{name: value}``: an object as it is, or the editor's BaseEffect
    array ``[{id, defaultValue, currentValue}]`` read as its convertEffectParameters reads it
    (``currentValue`` when set, else ``value``, the EffectParameter type's, else
    ``defaultValue``)."""
    if isinstance(raw, Mapping):
        return dict(raw)
    values: dict[str, Any] = {}
    for item in raw if isinstance(raw, list) else ():
        entry = as_map(item)
        name = text(entry.get("id")) or text(entry.get("name"))
        value = entry.get("currentValue")
        value = entry.get("value") if value is None else value
        value = entry.get("defaultValue") if value is None else value
        if name and value is not None:
            values[name] = value
    return values


#: The editor catalogue's own parameters for its effects (src/features/effects/data/effects.json,
#: "params"; MIT with Commons Clause, Copyright (c) 2023-2025 Alexander Kireyev (Chatman Media)):
#: what its preview applies for an id whose definition a document lost. Neon's ``intensity``
#: is left out: its look is fixed here, as in the editor's preview (cssFilter).
CATALOGUE_PARAMS: dict[str, dict[str, float]] = {
    "brightness": {"intensity": 1.2},
    "contrast": {"intensity": 1.5},
    "saturation": {"intensity": 2.0},
    "sepia": {"intensity": 0.8},
    "vignette": {"intensity": 0.3, "radius": 0.8},
    "sharpen": {"intensity": 1.0},
    "chromatic-aberration": {"intensity": 0.5},
    "lens-flare": {"intensity": 0.5},
    "glow": {"intensity": 0.5},
    "film-grain": {"intensity": 0.02, "amount": 0.5},
    "invert": {"intensity": 0.8},
    "hue-rotate": {"angle": 90.0},
    "blur": {"radius": 2.0},
    "noise-reduction": {"intensity": 3.0},
    "temperature": {"temperature": 0.0},
    "tint": {"tint": 0.0},
    "exposure": {"exposure": 0.0},
    "motion-blur": {"radius": 2.0, "angle": 180.0},
    "glitch": {"intensity": 50.0},
    "pixelate": {"pixelSize": 4.0},
    "edge-enhance": {"intensity": 0.5},
    "emboss": {"intensity": 0.8},
    "solarize": {"threshold": 0.5},
    "zoom-blur": {"intensity": 2.0},
    "hologram": {"intensity": 0.5},
}


def applied_params(applied: Mapping[str, Any]) -> dict[str, Any]:
    """What an application sets itself: its ``customParams`` (set when it was applied) and its
    ``parameters`` (what the effect panel's edits write), the edits winning."""
    return {**param_values(applied.get("customParams")), **param_values(applied.get("parameters"))}


def rust_enum(name: str) -> str:
    """The editor's toRustEnumCase: kebab-case to PascalCase ("hue-rotate" -> "HueRotate")."""
    return "".join(word[:1].upper() + word[1:] for word in name.split("-"))


def effect_entry(ident: str, kind: str, name: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """convertEffects: the editor's effect as a ProjectSchema ``effects[]`` entry."""
    # convertEffectParameters: these three take their strength from ``intensity`` as ``value``.
    if kind in ("brightness", "contrast", "saturation") and js_or(params.get("intensity"), None):
        parameters: dict[str, Any] = {"value": params["intensity"]}
    else:
        parameters = dict(params)
    return {
        "id": ident,
        "effect_type": rust_enum(kind),
        "name": name,
        "enabled": True,
        "parameters": parameters,
    }


def filter_type(params: Mapping[str, Any]) -> str:
    """convertFilters' type of a filter: the first parameter it sets in the editor's order,
    else "custom"."""
    return next((k for k in _FILTER_TYPES if params.get(k) is not None), "custom")


def filter_entry(ident: str, name: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """convertFilters: the editor's filter as a ProjectSchema ``filters[]`` entry, its type the
    first parameter it sets in the editor's order."""
    parameters = {k: v for k, v in params.items() if v is not None}
    return {
        "id": ident,
        "filter_type": filter_type(parameters).capitalize(),
        "name": name,
        "enabled": True,
        "parameters": parameters,
    }


def transition_entry(
    ref: str, definition: Mapping[str, Any], applied: Mapping[str, Any], pair: tuple[str, str]
) -> dict[str, Any]:
    """An AppliedTransition joining the clips `pair` as a ProjectSchema ``transitions[]`` entry
    (the TS Transition shape); `definition` is the editor's Transition it refers to, if known."""
    kind = text(definition.get("type")) or ref or "fade"
    if "parameters" not in definition and "duration" not in definition:
        # Its catalogue easing is left out: no part of the editor runs a transition along it
        # (studio_transition_fields.check_easing).
        direction, _, usual = CATALOGUE_TRANSITIONS.get(kind, (None, None, 1.0))
        found = {"direction": direction}
        definition = {"parameters": {k: v for k, v in found.items() if v}, "duration": {
            "default": usual}, **definition}  # fmt: skip
    params = {**param_values(definition.get("parameters")), **applied_params(applied)}
    default = as_map(definition.get("duration")).get("default")
    seconds = to_float(applied.get("duration"))
    entry: dict[str, Any] = {
        "id": text(applied.get("id")) or f"{pair[0]}->{pair[1]}",
        "transition_type": _TRANSITIONS.get(kind, rust_enum(kind)),
        "name": js_or(definition.get("name"), kind),
        "from_clip_id": pair[0],
        "to_clip_id": pair[1],
        "duration": {"value": seconds if seconds is not None else js_or(default, 1.0)},
    }
    if params.get("direction") in _DIRECTIONS:
        direction = params["direction"]
        entry["direction"] = (
            _OPPOSITE.get(direction, direction) if kind in _FROM_SIDE else direction
        )
    if isinstance(params.get("easing"), str):
        entry["easing"] = params["easing"]  # convertTransitionParams
    return entry


def duration_unusable(applied: Mapping[str, Any]) -> str | None:
    """Why a transition's own ``duration`` draws nothing (a cut), or None: a value that is not
    a number of seconds, or one of 0 or less (the editor plays those as a cut)."""
    raw = applied.get("duration")
    if raw is None:
        return None  # the definition's default
    seconds = to_float(raw)
    if seconds is None:
        return f"duration {shown(raw)} is not a number of seconds; not rendered (a cut)"
    if not seconds > 0:
        return f"duration {seconds:g}s is a cut; not rendered"
    return None


def without_subframe(transitions: list[dict[str, Any]], fps: int | str, p: Problems) -> list[Any]:
    """The transitions that last at least one frame at ``fps``; each shorter one (the editor
    plays it as a cut) is left out with a warning naming it."""
    rate = Fraction(str(fps))
    kept = []
    for entry in transitions:
        seconds = to_float(as_map(entry.get("duration")).get("value"))
        if seconds is not None and 0 <= seconds < MAX_SECONDS and to_frame(seconds, rate) < 1:
            names = f"{entry['from_clip_id']!r} and {entry['to_clip_id']!r}"
            p.warn(f"transition {entry['id']!r}", f"{seconds:g}s between {names} is under one "
                   f"frame ({float(1 / rate):.4g}s): a cut; not rendered")  # fmt: skip
            continue
        kept.append(entry)
    return kept


def pan_effect(
    track_id: str, raw: Any, where: str, p: Problems, effects: dict[str, dict[str, Any]]
) -> str | None:
    """A track's ``pan`` (-1 left to 1 right: the editor's audio mixer, played by a
    StereoPannerNode) as an audio pan effect added to ``effects``, its id; None when the track
    is centred, or its pan is not one the mixer sets (named, and the track left centred)."""
    if raw is None:
        return None
    pan = to_float(raw)
    if pan is None or not -1 <= pan <= 1:  # NaN too
        p.warn(where, f"pan {shown(raw)} is not a balance from -1 to 1; rendered centred")
        return None
    if pan == 0:
        return None
    ident = f"{track_id}#pan"
    effects[ident] = effect_entry(ident, "audio-pan", "pan", {"pan": pan})
    return ident
