"""The editor's ClipPosition (where a clip sits in the frame) as a ProjectSchema ``transform``.

A TimelineClip's ``position`` is ``{x, y, width, height, rotation, scaleX, scaleY}``: ``x`` and
``y`` the centre of the clip's box as fractions of the frame (createTimelineClip writes 0.5, 0.5;
createSubtitleClip's caption box 0.5, 0.85), ``width`` and ``height`` the box as fractions of the
frame, ``rotation`` degrees clockwise (CSS's rotate), ``scaleX``/``scaleY`` factors on the box.
The clip's picture fitted to the frame is scaled by ``width * scaleX`` and ``height * scaleY``
and its centre moved to ``(x, y)``: a picture of the frame's shape fills its box exactly. Older
documents wrote ``x = y = 0`` for an unmoved clip; with an unchanged size that is read as unmoved.

The transform's position is in pixels, and the frame size is known only once the whole document
is read, so a clip carries its position as fractions (``FRACTIONS``) until ``place`` turns them
into pixels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chunking.timeline.fields import Problems, shown, to_float

#: The clip-dict key holding (x, y) fractions of the frame until ``place`` reads them.
FRACTIONS = "_position_fractions"
DEFAULTS = {"x": 0.5, "y": 0.5, "width": 1.0, "height": 1.0, "rotation": 0.0,
             "scaleX": 1.0, "scaleY": 1.0}  # fmt: skip
#: The transform's own limits (studio_visual.parse_transform): scale 0 to 100, degrees ±3600.
MAX_SCALE, MAX_TURN = 100.0, 3600.0
#: How far a centre may lie from the frame's, in frames: 5.5 frames of the widest frame (16384
#: pixels) stay within the transform's ±100000 pixels.
MAX_CENTRE = 5.0


def clip_position(raw: Any, where: str, p: Problems) -> dict[str, Any] | None:
    """A clip's ``position`` as a transform whose position is still in fractions of the frame
    (None when it leaves the clip where it is); a value that cannot be drawn is warned about,
    naming the clip and the property, and the clip is drawn unmoved."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        p.warn(where, f"position {shown(raw)} is not an object; the clip is drawn unmoved")
        return None
    values: dict[str, float] = {}
    for key, default in DEFAULTS.items():
        value = to_float(raw[key]) if raw.get(key) is not None else default
        if value is None or not math.isfinite(value):
            p.warn(where, f"position.{key} {shown(raw.get(key))} is not a number; the clip is "
                   "drawn unmoved")  # fmt: skip
            return None
        values[key] = value
    for key in ("x", "y"):
        if not -MAX_CENTRE <= values[key] <= MAX_CENTRE:
            p.warn(where, f"position.{key} {values[key]:g} is outside ±{MAX_CENTRE:g} frames; "
                   "the clip is drawn unmoved")  # fmt: skip
            return None
    scale_x = values["width"] * values["scaleX"]
    scale_y = values["height"] * values["scaleY"]
    for label, scale in (("width * scaleX", scale_x), ("height * scaleY", scale_y)):
        if not 0 <= scale <= MAX_SCALE:
            # A negative size would mirror the picture, which no transform here draws.
            p.warn(where, f"position {label} {scale:g} is outside 0 to {MAX_SCALE:g} (a "
                   "negative one mirrors); the clip is drawn unmoved")  # fmt: skip
            return None
    if abs(values["rotation"]) > MAX_TURN:
        p.warn(where, f"position.rotation {values['rotation']:g} is outside ±{MAX_TURN:g} "
               "degrees; the clip is drawn unmoved")  # fmt: skip
        return None
    unmoved = (scale_x, scale_y, values["rotation"]) == (1, 1, 0)
    if unmoved and (values["x"], values["y"]) in ((0.5, 0.5), (0.0, 0.0)):
        return None
    return {
        "scale_x": scale_x,
        "scale_y": scale_y,
        "rotation": values["rotation"],
        FRACTIONS: (values["x"] - 0.5, values["y"] - 0.5),
    }


def place(tracks: list[dict[str, Any]], width: int, height: int) -> None:
    """Turn every clip's position fractions into the transform's pixels of a ``width`` x
    ``height`` frame (in place)."""
    for track in tracks:
        for clip in track.get("clips", ()):
            transform = clip.get("transform")
            for moved in (transform, *clip.get("transform_keyframes", ())):
                if isinstance(moved, dict) and FRACTIONS in moved:
                    fx, fy = moved.pop(FRACTIONS)
                    moved["position_x"] = fx * width
                    moved["position_y"] = fy * height
