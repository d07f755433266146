"""Final Cut Pro's keyframed transform (``<adjust-transform>``'s ``<param name="position" |
"scale" | "rotation">`` holding a ``<keyframeAnimation>`` of ``<keyframe time value interp>``)
as the clip's ``transform_keyframes``: Ken Burns-style moves and zooms made in the inspector.

Each parameter is keyed on its own; chunking.timeline.key_tracks merges them into whole
transform keys, each holding only the fields keyed (the others are the clip's fixed
transform). Values convert as the fixed ones do (otio_fcpxml_adjust): position in percent of
the frame's height from its centre, up positive; rotation counter-clockwise. Key times are in
the clip's own time (from its ``start``), as Final Cut writes them; a list that only fits the
clip counted from 0 is read that way (as volume keys are: otio_fcpxml_volume).
"""

from __future__ import annotations

import math
from typing import Any

from chunking.timeline.key_tracks import Track, merged
from chunking.timeline.otio_fcpxml_time import fcpxml_time

#: FCPXML's ``interp`` -> the fade_curves easing drawing it (``ease`` eases both ends).
_INTERP = {"linear": "linear", "ease": "ease-in-out", "easein": "ease-in", "easeout": "ease-out"}
#: Slack for keys a little before the clip's start (seconds).
_SLACK = 1 / 30


def keyed_transform(
    adjust: Any, item: Any, height: int | None, notes: list[str]
) -> list[dict[str, Any]]:
    """An ``<adjust-transform>``'s keyframes as ``transform_keyframes`` (seconds from the
    clip's start); what cannot be read is added to ``notes`` and left out."""
    tracks: dict[str, Track] = {}
    for param in adjust.findall("param"):
        name = (param.get("name") or "").strip().lower()
        animation = param.find("keyframeAnimation")
        if animation is None:
            continue
        if name not in ("position", "scale", "rotation"):
            notes.append(f"its {param.get('name')!r} keyframes are not rendered")
            continue
        if name == "position" and height is None:
            notes.append("its position keyframes are left out: the frame height is unknown")
            continue
        for key in animation.findall("keyframe"):
            _add(tracks, name, key, height or 0, notes)
    tracks = {name: sorted(track) for name, track in tracks.items() if track}
    if not tracks:
        return []
    shift = _shift(tracks, item)
    return [
        {"time": time - shift, **values, "easing": easing}
        for time, values, easing in merged(tracks)
    ]


def _add(tracks: dict[str, Track], name: str, key: Any, height: int, notes: list[str]) -> None:
    """One keyframe's values onto its parameter's tracks (left out, noted, when unreadable)."""
    when = fcpxml_time(key.get("time"))
    interp = (key.get("interp") or "linear").strip().lower()
    easing = _INTERP.get(interp)
    if easing is None:
        notes.append(f"its keyframe interpolation {key.get('interp')!r} is drawn linear")
        easing = "linear"
    try:
        values = [float(v) for v in (key.get("value") or "").split()]
    except ValueError:
        values = []
    count = 1 if name == "rotation" else 2
    if when is None or len(values) != count or not all(math.isfinite(v) for v in values):
        notes.append(f"its {name} keyframe {key.get('time')!r} {key.get('value')!r} is "
                     "unreadable: left out")  # fmt: skip
        return
    if name == "position":
        fields = {"position_x": values[0] * height / 100, "position_y": -values[1] * height / 100}
    elif name == "scale":
        if not all(0 < v <= 100 for v in values):
            notes.append(f"its scale keyframe {key.get('value')!r} (a mirroring or none) is "
                         "left out")  # fmt: skip
            return
        fields = {"scale_x": values[0], "scale_y": values[1]}
    else:
        if abs(values[0]) > 3600:
            notes.append(f"its rotation keyframe {key.get('value')!r} is left out")
            return
        fields = {"rotation": -values[0]}
    for field, value in fields.items():
        tracks.setdefault(field, []).append((float(when), value, easing))


def _shift(tracks: dict[str, Track], item: Any) -> float:
    """Where the clip's first frame lies in its keys' time: its ``start`` unless the keys only
    fit the clip counted from 0."""
    start = float(fcpxml_time(item.get("start")) or 0)
    first = min(track[0][0] for track in tracks.values())
    return start if first >= start - _SLACK else 0.0
