"""Video tracks listed top first.

OpenTimelineIO stacks a timeline's tracks bottom first, and editors number their video tracks
from the bottom up (V1 under V2). Kdenlive's own export (25.04, ``otioexport.cpp``) writes its
tracks from the top down (V2, V1, A1, A2) and reads them back that way, so taken as OTIO
defines the order, its upper tracks were drawn under the lower ones. When every video track
is named ``V<number>`` (or ``V<number> - <name>``, Kdenlive's full name of a track the user
named) and they are listed with their numbers falling, they are stacked by their numbers (V1
at the bottom), with a warning.
"""

from __future__ import annotations

import re
from typing import Any

import opentimelineio as otio

from chunking.timeline.fields import Problems

#: "V2", or Kdenlive's full track name "V2 - Titles" (its tag, then the name the user gave it).
_NUMBERED = re.compile(r"^\s*V\s*(\d+)\s*(?:-\s.*)?$", re.I | re.S)


def stack_by_numbers(tl: Any, p: Problems) -> None:
    """Put video tracks listed top first (V2 before V1) in OTIO's bottom-first order."""
    stack = tl.tracks
    video = [
        (i, t)
        for i, t in enumerate(stack)
        if isinstance(t, otio.schema.Track) and t.kind == otio.schema.TrackKind.Video
    ]
    numbers = [_NUMBERED.match(str(t.name)) for _, t in video]
    if len(video) < 2 or any(n is None for n in numbers):
        return
    values = [int(n[1]) for n in numbers if n is not None]
    if any(a <= b for a, b in zip(values, values[1:], strict=False)):
        return  # not listed top first (or numbers repeat): OTIO's order stands
    slots = [i for i, _ in video]
    tracks = [t for _, t in video]
    children = list(stack)
    for slot, track in zip(slots, reversed(tracks), strict=True):
        children[slot] = track
    while len(stack):
        stack.pop()
    for child in children:
        stack.append(child)
    names = ", ".join(str(t.name) for t in tracks)
    p.warn("tracks", f"video tracks listed top first ({names}, as Kdenlive writes them): "
                     "stacked by their numbers, V1 at the bottom")  # fmt: skip
