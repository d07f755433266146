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
clip's keyframed Scale, Rotation, Center and Anchor Point become its transform keyframes: the
whole Motion worked out at each keyframe's time (each parameter linear between its own keys, as
Premiere's default), keys in frames (source or clip) made seconds from the clip's first frame
(otio_fcp7_filters' reading of opacity keys); where those frames cannot be placed, the first
keyframe's value is played, with a warning. The filter becomes an
``ADJUSTMENTS`` effect holding the transform, as Final Cut's adjustments do
(``otio_media.item_effects`` reads it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_fcp7_adapter import FRAMES
from chunking.timeline.otio_fcp7_filters import _fps
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
            keyed = keyed_motion(found, own, frame, _timing(item))
            if keyed:
                adjust["transform_keyframes"] = keyed
                notes = [n for n in adjust.get("notes", []) if "keyframes are not" not in n[1]]
                adjust.pop("notes", None)
                adjust.update({"notes": notes} if notes else {})
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


#: Parameters whose keyframes animate the transform.
_KEYED = ("scale", "rotation", "center", "centeroffset")
#: The transform fields of an unmoved clip: a key holds them all (the clip's fixed transform is
#: its first keyframe's, which a later key must not inherit).
_UNMOVED = {"scale_x": 1.0, "scale_y": 1.0, "position_x": 0.0, "position_y": 0.0, "rotation": 0.0}


def keyed_motion(
    effect: dict[str, Any],
    media: tuple[int, int] | None,
    frame: tuple[int, int] | None,
    timing: tuple[float, float, float] | None,
) -> list[dict[str, Any]]:
    """A Basic Motion's keyframes as ``transform_keyframes`` (none when nothing changes over
    time or its keys cannot be placed in the clip); ``timing``: the clip's first and last
    source frames and the seconds of one frame (``_timing``)."""
    params = _parameters(effect)
    all_keys = {pid: _keys(params.get(pid)) for pid in _KEYED}
    tracks = {pid: keys for pid, keys in all_keys.items() if len({repr(v) for _, v in keys}) > 1}
    if not tracks or timing is None:
        return []
    first, last, seconds = timing
    whens = sorted({w for keys in tracks.values() for w, _ in keys})
    if whens[-1] >= first - 1 and whens[0] <= last + 1:
        shift = first  # in the clip's source frames
    elif -1 <= whens[0] and whens[-1] <= last - first + 1:
        shift = 0.0  # counted from the clip's start
    else:
        return []
    found = []
    for when in whens:
        still = [
            {**param, "value": _at(tracks[pid], when), "keyframe": None} if pid in tracks else param
            for pid, param in params.items()
        ]
        moved = basic_motion({**effect, "parameter": still}, media, frame).get("transform", {})
        found.append({"time": (when - shift) * seconds, **_UNMOVED, **moved, "easing": "linear"})
    return found


def _keys(param: Any) -> list[tuple[float, Any]]:
    """A parameter's (frame, value) keyframes in time order (unreadable ones left out)."""
    raw = param.get("keyframe") if isinstance(param, Mapping) else None
    found = []
    for key in raw if isinstance(raw, list) else [raw]:
        if not isinstance(key, Mapping) or "value" not in key:
            continue
        try:
            when = float(str(key.get("when")))
        except ValueError:
            continue
        value = key["value"]
        if math.isfinite(when) and (_numeric(value) is not None or _pair(value) is not None):
            found.append((when, value))
    return sorted(found, key=lambda k: k[0])


def _at(keys: list[tuple[float, Any]], when: float) -> Any:
    """A parameter's value at frame ``when``: linear between its keys, held outside them."""
    if when <= keys[0][0]:
        return keys[0][1]
    for (w0, v0), (w1, v1) in zip(keys, keys[1:], strict=False):
        if w0 <= when <= w1:
            part = (when - w0) / (w1 - w0) if w1 > w0 else 1.0
            a, b = _numeric(v0), _numeric(v1)
            if a is not None and b is not None:
                return str(a + (b - a) * part)
            p, q = _pair(v0), _pair(v1)
            if p is None or q is None:
                return v0
            return {"horiz": str(p[0] + (q[0] - p[0]) * part),
                    "vert": str(p[1] + (q[1] - p[1]) * part)}  # fmt: skip
    return keys[-1][1]


def _numeric(value: Any) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _pair(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, Mapping):
        return None
    h, v = _numeric(value.get("horiz")), _numeric(value.get("vert"))
    return (h, v) if h is not None and v is not None else None


def _timing(item: Any) -> tuple[float, float, float] | None:
    """The clip's first and last source frames and the timeline seconds of one source frame
    (a speed change stretches them), or None when the export does not say."""
    frames = plain(item.metadata).get(FRAMES)
    fps = _fps(item)
    if not fps or not isinstance(frames, list) or len(frames) != 4:
        return None
    first, last, start, end = (float(f) for f in frames)
    if last <= first:
        return None
    scale = (end - start) / (last - first) if start >= 0 and end > start else 1.0
    return first, last, scale / fps
