"""A ProjectSchema transition entry's own fields: its kind (type and direction), duration and
easing, each read with its problems named; studio_transitions places the transition between
clips."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.catalogue_transitions import (
    ALL_TRANSITION_ALIASES,
    DIRECTED_TRANSITIONS,
    DIRECTIONS,
    PARTLY_DRAWN_EDITOR_TRANSITIONS,
    UNDRAWN_EDITOR_TRANSITIONS,
)
from chunking.timeline.fields import Problems, canonical, number, pick, shown
from chunking.timeline.frames import to_frame
from chunking.timeline.schema import MAX_SECONDS
from chunking.timeline.studio_keys import NAMED, suggestion

#: The parameters (``params``/``parameters``) a transition reads.
_PARAMETERS = {"direction", "easing"}
#: The easings (after canonical()) the editor gives a transition: CSS's timing keywords, and
#: ``bounce``, its catalogue's easing for squeeze (transitions.json).
_EASINGS = ("linear", "ease", "easein", "easeout", "easeinout", "bounce")


def transition_frames(seconds: float, fps: Fraction, p: Problems, where: str) -> int | None:
    """A transition's duration in frames; None (an error) when it is under one frame."""
    frames = to_frame(seconds, fps)
    if frames < 1:
        p.error(
            where, f"duration must be at least one frame ({float(1 / fps):.4g}s), not {seconds:g}s"
        )
        return None
    return frames


def transition_seconds(raw: Mapping[str, Any], p: Problems, where: str) -> float:
    """``duration``: seconds, serde's ``{value, min, max}`` or the frontend's
    ``{min, max, default, current}``."""
    duration = raw.get("duration")
    if isinstance(duration, Mapping):
        key = next((k for k in ("value", "current", "default") if duration.get(k) is not None), "")
        if not key:
            p.error(where, 'duration has no value (expected {"value": seconds})')
            return 1.0
        return number(duration, (key,), 1.0, p, where, low=0, high=MAX_SECONDS, section="duration")
    return number(raw, ("duration",), 1.0, p, where, low=0, high=MAX_SECONDS)


def transition_kind(raw: Mapping[str, Any], p: Problems, where: str) -> str:
    """The canonical kind of a transition entry: its type, completed by its ``direction``
    (its own, or its parameters'); an unknown type is a dissolve, with a warning."""
    name = canonical(str(pick(raw, "transition_type", "type", "kind", default="dissolve")))
    direction = pick(raw, "direction", default=None)
    params = pick(raw, "params", "parameters", default={})
    params = params if isinstance(params, Mapping) else {}
    if direction is None and params.get("direction") is not None:
        direction = params["direction"]
        if isinstance(direction, Mapping):  # {"String": "left"} / {"type": "String", ...}
            direction = (
                next(iter(direction.values()), None)
                if "value" not in direction
                else (direction["value"])
            )
    unread = [key for key in params if key not in _PARAMETERS]
    for n, key in enumerate(unread[:NAMED]):
        hint = suggestion(key, _PARAMETERS, n)
        p.warn(where, f"parameter {str(key)!r} is not used by transitions; ignored{hint}")
    if len(unread) > NAMED:  # a hostile entry may hold millions: one line for the rest
        p.warn(where, f"{len(unread) - NAMED} more parameters not used by transitions; ignored")
    if direction is not None and name in DIRECTED_TRANSITIONS:
        directed = ALL_TRANSITION_ALIASES.get(
            DIRECTED_TRANSITIONS[name] + canonical(str(direction))
        )
        if directed is not None:
            return directed
        # A direction it cannot take ("center", "topleft"): still that transition, its usual way.
        usual = ALL_TRANSITION_ALIASES[name]
        ways = DIRECTIONS[DIRECTED_TRANSITIONS[name]]
        p.warn(where, f"direction {shown(direction)} isn't {ways}; {usual} drawn")
        return usual
    kind = ALL_TRANSITION_ALIASES.get(name)
    if kind is None and name in PARTLY_DRAWN_EDITOR_TRANSITIONS:
        drawn, left_out = PARTLY_DRAWN_EDITOR_TRANSITIONS[name]
        p.warn(
            where + _between(raw),
            f"the editor's transition type {name!r} is drawn as its preview's {drawn} without "
            f"{left_out} (no transition here draws it)",
        )
        return drawn
    if kind is None and name in UNDRAWN_EDITOR_TRANSITIONS:
        why, preview = UNDRAWN_EDITOR_TRANSITIONS[name]
        p.warn(
            where + _between(raw),
            f"the editor's transition type {name!r} is not drawn by its export ({why}); "
            f"its preview {preview} as it fades out, not drawn here: rendered as a dissolve",
        )
        return "dissolve"
    if kind is None:
        p.warn(where, f"unknown transition type {name!r} rendered as a dissolve")
        return "dissolve"
    return kind


def _between(raw: Mapping[str, Any]) -> str:
    """`` between clips 'a' and 'b'`` where the entry names the clips it joins, else nothing."""
    ids = [pick(raw, f"{end}_clip_id", f"{end}_clip", default=None) for end in ("from", "to")]
    if not all(isinstance(i, str) and i for i in ids):
        return ""
    return f" between clips {ids[0]!r} and {ids[1]!r}"


def check_easing(raw: Mapping[str, Any], p: Problems, where: str) -> None:
    """Warn about a transition's ``easing`` (its own or its parameters') that is no easing; any
    easing runs linearly, as the editor runs every transition (its export's xfade, gl and blend
    filters never read it; its preview times every one on one CSS curve whatever it says)."""
    params = pick(raw, "params", "parameters", default={})
    easing = raw.get("easing")
    if easing is None and isinstance(params, Mapping):
        easing = params.get("easing")
    if easing is not None and canonical(str(easing)) not in _EASINGS:
        p.warn(where, f"easing {shown(easing)} is not one of {', '.join(_EASINGS)}; linear is used")
