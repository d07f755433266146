"""Transitions between clips in ProjectSchema JSON, and the overlap rule they relax.

A transition joins two clips on one track: overlapping clips make the overlap its window, touching
clips centre it on the cut. Clips that overlap without a transition are an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from chunking.timeline.catalogue import TRANSITION_ALIASES
from chunking.timeline.fields import Problems, canonical, number, pick
from chunking.timeline.frames import to_frame
from chunking.timeline.model import Track, TrackKind, Transition
from chunking.timeline.schema import MAX_SECONDS


def parse_transitions(
    raws: list[Any], tracks: tuple[Track, ...], fps: Fraction, p: Problems
) -> tuple[Transition, ...]:
    """The document's ``transitions``, placed in frames against the parsed clips."""
    clips = {c.id: c for t in tracks for c in t.clips}
    result = []
    for i, raw in enumerate(raws):
        if not isinstance(raw, Mapping):
            p.error(f"transition #{i}", "must be an object")
            continue
        tid = str(raw.get("id", f"#{i}"))
        where = f"transition {tid!r}"
        kind = _transition_kind(raw, p, where)
        ids = [
            str(pick(raw, f"{end}_clip_id", f"{end}_clip", default="")) for end in ("from", "to")
        ]
        if any(cid not in clips for cid in ids):
            missing = [cid for cid in ids if cid not in clips]
            p.error(where, f"refers to unknown clip(s) {', '.join(map(repr, missing))}")
            continue
        a, b = clips[ids[0]], clips[ids[1]]
        if b.start < a.start:
            p.error(where, f"to_clip {b.id!r} starts before from_clip {a.id!r}")
            continue
        seconds = number(raw, ("duration",), 1.0, p, where, low=0, high=MAX_SECONDS)
        length = max(1, to_frame(seconds, fps))
        if b.start < a.end:  # the clips overlap: the overlap is the transition
            start, end = b.start, min(a.end, b.end)
        elif b.start == a.end:  # a cut: centre the transition on it
            start = max(0, b.start - length // 2)
            end = start + length
        else:
            p.error(
                where,
                f"clips {a.id!r} and {b.id!r} do not touch (gap of "
                f"{b.start - a.end} frames); move them together",
            )
            continue
        result.append(Transition(tid, kind, a.id, b.id, start, end))
    return tuple(result)


def _transition_kind(raw: Mapping[str, Any], p: Problems, where: str) -> str:
    name = canonical(str(pick(raw, "transition_type", "type", "kind", default="dissolve")))
    direction = pick(raw, "direction", default=None)
    params = raw.get("params")
    if direction is None and isinstance(params, Mapping):
        direction = params.get("direction")
    if direction is not None and name in ("wipe", "slide"):
        name += canonical(str(direction))
    kind = TRANSITION_ALIASES.get(name)
    if kind is None:
        p.warn(where, f"unknown transition type {name!r} rendered as a dissolve")
        return "dissolve"
    return kind


def check_overlaps(
    tracks: tuple[Track, ...], transitions: tuple[Transition, ...], p: Problems
) -> None:
    """Record an error for each pair of overlapping clips that no transition joins."""
    joined = {frozenset((t.from_clip, t.to_clip)) for t in transitions}
    for track in tracks:
        if track.kind is TrackKind.SUBTITLE:
            continue
        for a, b in zip(track.clips, track.clips[1:], strict=False):
            if b.start < a.end and frozenset((a.id, b.id)) not in joined:
                p.error(
                    f"track {track.id!r}",
                    f"clips {a.id!r} and {b.id!r} overlap by {a.end - b.start} frames "
                    "(add a transition between them or move one)",
                )
