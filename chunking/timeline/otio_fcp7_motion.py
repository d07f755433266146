"""FCP 7 XML's Basic Motion filter (Premiere's Motion) as the clip's transform.

The adapter keeps a clip's ``<filter><effect><effectid>basic</effectid>`` only as metadata, so
a picture-in-picture, a reframe or a turned clip was drawn full frame, upright, with an "unknown
effect" warning. Its parameters, as Premiere writes them (``authoringApp="PremierePro"``):

- ``scale``: percent of the media's own pixels (Premiere places a clip 1:1 and writes the
  scale that fits it, 93.75 for 2048-wide media in a 1920-wide sequence). The renderer fits
  the picture inside the frame first, so the clip's scale is that percentage over the fit.
  Another writer's scale is taken of the fitted picture, as DaVinci Resolve means it (Final
  Cut 7's own would be of the media's pixels: where media and frame differ, with a warning).
- ``center`` (``horiz``/``vert``): the picture's centre from the frame's centre, right and
  down positive, in fractions of the media's width and height (Premiere; the fraction of the
  sequence frame for other writers, as Final Cut 7 and the tools that read its XML take it).
- ``rotation``: degrees, clockwise.
- ``centerOffset`` (Anchor Point): the point of the picture, from its centre in the same units
  as ``center``, that ``center`` places and the picture turns and scales around; folded into
  the position, as the renderer turns a picture around its centre.

The media's frame size is its ``<file>``'s (a generator's is the sequence's); where the export
does not give it, the sequence's is used, with a warning when that matters. A keyframed
parameter is played at its first keyframe's value, with a warning. The filter becomes an
``ADJUSTMENTS`` effect holding the transform, as Final Cut's adjustments do
(``otio_media.item_effects`` reads it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_fcpxml_adjust import ADJUSTMENTS
from chunking.timeline.otio_read import plain

#: Premiere's ``authoringApp``: its centre is measured in the media's size, not the frame's.
_PREMIERE = "premierepro"
#: The loader's ranges for a transform (``studio_visual.parse_transform``).
_MAX_SCALE = 100.0
_MAX_SHIFT = 100_000.0


def apply_basic_motion(tl: Any, size: Sequence[int] | None) -> None:
    """Replace each item's Basic Motion filter by an ``ADJUSTMENTS`` effect holding its
    transform (``size``: the sequence's width and height, None if unknown)."""
    frame = (size[0], size[1]) if size else None
    for item in tl.find_children():
        effects = getattr(item, "effects", None)
        if not effects:
            continue
        for index, fx in enumerate(list(effects)):
            found = plain(fx.metadata).get("fcp_xml")
            if not isinstance(found, dict) or str(found.get("effectid")).lower() != "basic":
                continue
            ref = getattr(item, "media_reference", None)
            # A generator (colour matte, bars, slug) is drawn at the sequence's size.
            own = frame if isinstance(ref, otio.schema.GeneratorReference) else _media_size(item)
            adjust = basic_motion(found, own, frame)
            effects[index] = otio.schema.Effect(
                name=str(fx.name or "Basic Motion"), effect_name=ADJUSTMENTS, metadata=adjust
            )


def basic_motion(
    effect: dict[str, Any], media: tuple[int, int] | None, frame: tuple[int, int] | None
) -> dict[str, Any]:
    """What a Basic Motion effect does: ``transform`` (the renderer's fields, left out when it
    changes nothing) and ``notes`` (``[part, text]`` warnings)."""
    notes: list[list[str]] = []
    params = _parameters(effect)
    premiere = any(str(p.get("@authoringApp", "")).lower() == _PREMIERE for p in params.values())
    scale = _number(params.get("scale"), 100.0, "Scale", notes)
    rotation = _number(params.get("rotation"), 0.0, "Rotation", notes)
    centre = _point(params.get("center"), "Center", notes)
    anchor = _point(params.get("centeroffset"), "Anchor Point", notes)
    moved = scale != 100 or centre != (0.0, 0.0) or anchor != (0.0, 0.0)
    if moved and frame is None:
        notes.append(["picture", "its Motion is left out: the sequence's frame size is unknown"])
        return {"notes": notes}
    if frame is None:
        frame = (1, 1)  # only rotation: no size is used
    if media is None:
        if moved:
            notes.append(
                [
                    "picture",
                    "its media's frame size is not in the export: its Motion is measured "
                    "against the sequence's",
                ]
            )
        media = frame
    transform: dict[str, float] = {}
    if not 0 < scale <= 10_000:
        notes.append(["picture", f"its Motion scale {scale:g} % is left out"])
        scale = 100.0
    fit = min(frame[0] / media[0], frame[1] / media[1])
    # Premiere measures its scale in the media's pixels; another writer's is taken of the
    # fitted picture, as DaVinci Resolve writes it (with a warning where the two differ).
    factor = scale / 100 / (fit if premiere else 1.0)
    if not premiere and scale != 100 and not math.isclose(fit, 1, rel_tol=1e-3):
        notes.append(
            [
                "picture",
                f"its Motion scale {scale:g} % is taken of the picture fitted to the frame (as "
                "DaVinci Resolve writes it; Final Cut 7 measures it in the media's pixels)",
            ]
        )
    if not math.isclose(factor, 1, rel_tol=1e-3):  # Premiere rounds to 0.1 %
        transform["scale_x"] = transform["scale_y"] = min(factor, _MAX_SCALE)
    unit = media if premiere else frame
    # The anchor point lies off the picture's centre by its offset, scaled and turned with it.
    ax, ay = anchor[0] * media[0] * scale / 100, anchor[1] * media[1] * scale / 100
    turn = math.radians(rotation)
    x = centre[0] * unit[0] - (ax * math.cos(turn) - ay * math.sin(turn))
    y = centre[1] * unit[1] - (ax * math.sin(turn) + ay * math.cos(turn))
    if abs(x) > 1e-6 or abs(y) > 1e-6:
        transform["position_x"] = max(-_MAX_SHIFT, min(_MAX_SHIFT, x))
        transform["position_y"] = max(-_MAX_SHIFT, min(_MAX_SHIFT, y))
    turned = math.fmod(rotation, 3600.0)
    if turned:
        transform["rotation"] = turned
    found: dict[str, Any] = {}
    if transform:
        found["transform"] = transform
    if notes:
        found["notes"] = notes
    return found


def _parameters(effect: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The effect's parameters by lower-case ``parameterid``."""
    raw = effect.get("parameter")
    found: dict[str, dict[str, Any]] = {}
    for param in raw if isinstance(raw, list) else [raw]:
        if isinstance(param, dict):
            found[str(param.get("parameterid", "")).lower()] = param
    return found


def _first(param: Mapping[str, Any], label: str, notes: list[list[str]]) -> Any:
    """A parameter's value, or its first keyframe's where it is keyframed (with a warning)."""
    keys = param.get("keyframe")
    keys = keys if isinstance(keys, list) else [keys] if keys is not None else []
    keys = [k for k in keys if isinstance(k, dict) and "value" in k]
    if keys:
        values = {repr(k.get("value")) for k in keys}
        if len(values) > 1:
            notes.append(
                ["picture", f"its Motion {label} keyframes are not rendered: the first is used"]
            )
        return keys[0].get("value")
    return param.get("value")


def _number(param: Any, default: float, label: str, notes: list[list[str]]) -> float:
    """A number parameter's value, or ``default`` (absent or unreadable: with a warning)."""
    if not isinstance(param, Mapping):
        return default
    value = _first(param, label, notes)
    try:
        number = float(str(value))
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        notes.append(["picture", f"its Motion {label} {value!r} is not a number: left out"])
        return default
    return number


def _point(param: Any, label: str, notes: list[list[str]]) -> tuple[float, float]:
    """A point parameter's (horiz, vert), or (0, 0) (absent or unreadable: with a warning)."""
    if not isinstance(param, Mapping):
        return (0.0, 0.0)
    value = _first(param, label, notes)
    try:
        point = (float(str(value["horiz"])), float(str(value["vert"])))
    except (KeyError, TypeError, ValueError):
        point = (math.nan, math.nan)
    if not all(math.isfinite(v) and abs(v) <= 1000 for v in point):
        notes.append(["picture", f"its Motion {label} {value!r} is not a point: left out"])
        return (0.0, 0.0)
    return point


def _media_size(item: Any) -> tuple[int, int] | None:
    """The (width, height) the export gives an item's media, or None."""
    ref = getattr(item, "media_reference", None)
    found = plain(ref.metadata).get("fcp_xml") if ref is not None else None
    media = found.get("media") if isinstance(found, dict) else None
    video = media.get("video") if isinstance(media, dict) else None
    sample = video.get("samplecharacteristics") if isinstance(video, dict) else None
    if not isinstance(sample, dict):
        return None
    try:
        width, height = int(str(sample.get("width"))), int(str(sample.get("height")))
    except ValueError:
        return None
    return (width, height) if 0 < width <= 65536 and 0 < height <= 65536 else None
