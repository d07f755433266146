"""A clip's visual parts in ProjectSchema JSON: transform, crop, colour correction, fade curves,
opacity and transform keyframes.

Each reader takes the raw section, the problems collector and a where-string naming the clip or
track for messages; a missing or non-object section means the default (identity) value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chunking.timeline.fade_curves import FADE_CURVES
from chunking.timeline.fields import Problems, number, shown
from chunking.timeline.model import ColorCorrection, Crop, OpacityKey, Transform, TransformKey
from chunking.timeline.schema import MAX_SECONDS, MAX_SIDE

#: The keys each section reads (serde's fields and the aliases read here); any other key is
#: something the file meant drawn that is not, and is named in a warning.
_KEYS = {
    "transform": frozenset(
        "scale scale_x scale_y position_x x position_y y rotation anchor_x anchor_y".split()
    ),
    "crop": frozenset("left top right bottom".split()),
    "color_correction": frozenset(
        "brightness contrast saturation hue gamma highlights shadows whites blacks".split()
    ),
}


_IDENTITY = Transform()


def _unread(section: str, raw: Mapping[str, Any], p: Problems, where: str, named: str = "") -> None:
    """Warn about each key of ``raw`` that ``section`` does not read (named ``named``)."""
    named = named or section
    for key in raw:
        if key not in _KEYS[section]:
            takes = ", ".join(sorted(_KEYS[section]))
            p.warn(where, f"{named}.{key} is not rendered ({named} takes {takes}); ignored")


def parse_transform(
    raw: Any, p: Problems, where: str, base: Transform = _IDENTITY, section: str = "transform"
) -> Transform:
    """A clip's ``transform`` section (scale, position, rotation, anchor); a field it leaves
    out is ``base``'s (a transform key's base is the clip's ``transform``)."""
    if not isinstance(raw, Mapping):
        return base
    _unread("transform", raw, p, where, section)

    def read(names: tuple[str, ...], default: float, low: float, high: float) -> float:
        return number(raw, names, default, p, where, low=low, high=high, section=section)

    # `scale` sets both axes; it is a number or {"x", "y"}, range-checked like scale_x/scale_y.
    scale = raw.get("scale")
    base_x, base_y = base.scale_x, base.scale_y
    if isinstance(scale, Mapping) and "value" not in scale:
        axis = f"{section}.scale"
        base_x = number(scale, ("x",), base_x, p, where, low=0, high=100, section=axis)
        base_y = number(scale, ("y",), base_y, p, where, low=0, high=100, section=axis)
    elif scale is not None:
        base_x = base_y = read(("scale",), 1.0, 0, 100)
    return Transform(
        scale_x=read(("scale_x",), base_x, 0, 100),
        scale_y=read(("scale_y",), base_y, 0, 100),
        position_x=read(("position_x", "x"), base.position_x, -1e5, 1e5),
        position_y=read(("position_y", "y"), base.position_y, -1e5, 1e5),
        rotation=read(("rotation",), base.rotation, -3600, 3600),
        anchor_x=read(("anchor_x",), base.anchor_x, -10, 10),
        anchor_y=read(("anchor_y",), base.anchor_y, -10, 10),
    )


def parse_transform_keys(
    raw: Any, base: Transform, p: Problems, where: str
) -> tuple[TransformKey, ...]:
    """A clip's ``transform_keyframes``: ``[{time (seconds from the clip's start), the
    ``transform`` keys, easing}]``, in time order; a field a key leaves out is the clip's
    ``transform``'s; none when absent."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        p.error(where, f"transform_keyframes must be a list, not {shown(raw)}")
        return ()
    keys, errors = [], len(p.errors)
    for i, item in enumerate(raw):
        at = f"{where} transform_keyframes[{i}]"
        if not isinstance(item, Mapping):
            p.error(at, f"must be an object, not {shown(item)}")
            continue
        time = number(item, ("time",), 0.0, p, at, low=-MAX_SECONDS, high=MAX_SECONDS)
        fields = {k: v for k, v in item.items() if k not in ("time", "easing")}
        moved = parse_transform(fields, p, at, base, section="transform_keyframes")
        keys.append(TransformKey(time, moved, parse_fade_curve(item, "easing", p, at)))
    times = [key.time for key in keys]
    # A key refused above reads as its default time: its order says nothing more.
    if len(p.errors) == errors and (times != sorted(times) or len(set(times)) != len(times)):
        p.error(where, "transform_keyframes must be in strictly increasing time order")
    return tuple(keys)


def parse_crop(raw: Any, p: Problems, where: str) -> Crop:
    """A clip's ``crop`` section: pixels off each edge."""
    if not isinstance(raw, Mapping):
        return Crop()
    _unread("crop", raw, p, where)
    edges = []
    for side in ("left", "top", "right", "bottom"):
        value = number(raw, (side,), 0, p, where, low=0, high=MAX_SIDE, section="crop")
        if value != int(value):
            # A source has whole pixels; cutting a fraction of one would need resampling. An
            # editor's drag can leave one: the nearest whole pixel is what it meant, said so.
            p.warn(
                where,
                f"crop.{side} {value:g} is not a whole number of pixels: cropped {round(value)}",
            )
        edges.append(round(value))
    return Crop(*edges)


def parse_color(raw: Any, p: Problems, where: str) -> ColorCorrection:
    """A clip's ``color_correction`` section."""
    if not isinstance(raw, Mapping):
        return ColorCorrection()
    _unread("color_correction", raw, p, where)

    def read(name: str, default: float, low: float, high: float) -> float:
        return number(raw, (name,), default, p, where, low=low, high=high, section=_COLOR)

    return ColorCorrection(
        brightness=read("brightness", 0.0, -1, 1),
        contrast=read("contrast", 1.0, 0, 4),
        saturation=read("saturation", 1.0, 0, 4),
        hue=read("hue", 0.0, -360, 360),
        gamma=read("gamma", 1.0, 0.1, 10),
        highlights=read("highlights", 0.0, -1, 1),
        shadows=read("shadows", 0.0, -1, 1),
        whites=read("whites", 0.0, -1, 1),
        blacks=read("blacks", 0.0, -1, 1),
    )


_COLOR = "color_correction"


def parse_fade_curve(raw: Mapping[str, Any], name: str, p: Problems, where: str) -> str:
    """A picture fade's ``name`` curve (fade_curves' names); linear when absent."""
    value = raw.get(name)
    if value is None:
        return "linear"
    if value not in FADE_CURVES:
        p.error(where, f"{name} {shown(value)} must be one of {', '.join(FADE_CURVES)}")
        return "linear"
    return str(value)


def parse_opacity_keys(raw: Any, p: Problems, where: str) -> tuple[OpacityKey, ...]:
    """A clip's ``opacity_keyframes``: ``[{time (seconds from the clip's start), opacity 0..1,
    easing}]``, in time order; none when absent."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        p.error(where, f"opacity_keyframes must be a list, not {shown(raw)}")
        return ()
    keys, errors = [], len(p.errors)
    for i, item in enumerate(raw):
        at = f"{where} opacity_keyframes[{i}]"
        if not isinstance(item, Mapping):
            p.error(at, f"must be an object, not {shown(item)}")
            continue
        time = number(item, ("time",), 0.0, p, at, low=-MAX_SECONDS, high=MAX_SECONDS)
        opacity = number(item, ("opacity",), 1.0, p, at, low=0, high=1)
        keys.append(OpacityKey(time, opacity, parse_fade_curve(item, "easing", p, at)))
    times = [key.time for key in keys]
    # A key refused above reads as its default time: its order says nothing more.
    if len(p.errors) == errors and (times != sorted(times) or len(set(times)) != len(times)):
        p.error(where, "opacity_keyframes must be in strictly increasing time order")
    return tuple(keys)
