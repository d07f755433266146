"""Video tracks listed top first.

OpenTimelineIO stacks a timeline's tracks bottom first, and editors number their video tracks
from the bottom up (V1 under V2). Kdenlive's own export (25.04, ``otioexport.cpp``) writes its
tracks from the top down (V2, V1, A1, A2) and reads them back that way, so taken as OTIO
defines the order, its upper tracks were drawn under the lower ones. When every video track
is named ``V<number>`` (or ``V<number> - <name>``, Kdenlive's full name of a track the user
named) and they are listed with their numbers falling, they are stacked by their numbers (V1
at the bottom), with a warning.

Later releases (the export of Kdenlive's own tests/dataset, ``test-color-clips.otio``) name a
track by the name its user gave it, none by default, so its numbers cannot tell. Such an
export is known by what its writer puts and leaves out: every track has a range of its own
starting at 0 and as long as what it holds (``trackDuration``), its video tracks come before
its audio tracks, and nothing carries metadata (an adapter or another editor keeps its own in
some). Its video tracks are stacked in reverse, with a warning.
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
    if len(video) < 2:
        return
    numbers = [_NUMBERED.match(str(t.name)) for _, t in video]
    values = [int(n[1]) for n in numbers if n is not None]
    numbered = len(values) == len(video)
    if numbered and any(a <= b for a, b in zip(values, values[1:], strict=False)):
        return  # not listed top first (or numbers repeat): OTIO's order stands
    if not numbered and not _kdenlive_listing(tl):
        return
    slots = [i for i, _ in video]
    tracks = [t for _, t in video]
    children = list(stack)
    for slot, track in zip(slots, reversed(tracks), strict=True):
        children[slot] = track
    while len(stack):
        stack.pop()
    for child in children:
        stack.append(child)
    if numbered:
        names = ", ".join(str(t.name) for t in tracks)
        p.warn("tracks", f"video tracks listed top first ({names}, as Kdenlive writes them): "
                         "stacked by their numbers, V1 at the bottom")  # fmt: skip
        return
    p.warn(
        "tracks",
        f"{len(tracks)} video tracks listed top first, as Kdenlive's export writes them (each "
        "track's own range from 0, no metadata): stacked in reverse, the first on top",
    )


def _kdenlive_listing(tl: Any) -> bool:
    """Whether a timeline reads as Kdenlive's export writes one (see the module docstring)."""
    if _has_metadata(tl) or _has_metadata(tl.tracks):
        return False
    kinds = []
    for track in tl.tracks:
        if not isinstance(track, otio.schema.Track) or _has_metadata(track):
            return False
        own = track.source_range
        if own is None or own.start_time.value != 0:
            return False
        held = sum((c.duration().to_seconds() for c in track if not _is_transition(c)), 0.0)
        if abs(own.duration.to_seconds() - held) > 1e-6:
            return False
        kinds.append(track.kind)
        for item in track:
            if _has_metadata(item) or _has_metadata(getattr(item, "media_reference", None)):
                return False
    audio = [i for i, k in enumerate(kinds) if k == otio.schema.TrackKind.Audio]
    video = [i for i, k in enumerate(kinds) if k == otio.schema.TrackKind.Video]
    return not audio or max(video) < min(audio)


def _has_metadata(thing: Any) -> bool:
    """Whether an OTIO object carries metadata (a missing one carries none)."""
    meta = getattr(thing, "metadata", None)
    return bool(meta) if meta is not None else False


def _is_transition(item: Any) -> bool:
    return isinstance(item, otio.schema.Transition)
