"""Final Cut Pro's transitions, which OpenTimelineIO's FCPXML adapter drops.

A ``<transition>`` in a storyline sits across the cut between the items before and after it:
its ``offset`` is where it starts in the storyline's time and the next item's ``offset`` is the
cut, so it takes ``cut - offset`` from the outgoing item's media past its end and the rest from
the incoming item's media before its start (the handles). Those are an OTIO transition's
``in_offset`` and ``out_offset``. One at a storyline's start fades in from nothing, one at its
end fades out. Each is carried on the item it touches (the next one, else the previous one) at
the end of its name, as retimes and adjustments are, and inserted into the read track beside
that item as an ``otio.schema.Transition`` (``apply_transitions``): a dissolve, whatever
Final Cut's effect was (its name is kept).
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_fcpxml_time import fcpxml_time

_MARK = "\u2063transition:"
_MARKED = re.compile(re.escape(_MARK) + r"(\{[^\u2063]*\})")


def mark_transitions(root: Any) -> bool:
    """Carry each storyline transition on the item after it (else before it) and remove it;
    False if there was none."""
    changed = False
    for spine in root.iter("spine"):
        items = list(spine)
        for i, transition in enumerate(items):
            if transition.tag != "transition":
                continue
            spine.remove(transition)
            changed = True
            mark = _mark(transition, items[:i], items[i + 1 :])
            if mark is not None:
                target, found = mark
                name = target.get("name") or ""
                target.set("name", f"{name}{_MARK}{json.dumps(found, separators=(',', ':'))}")
    return changed


def _mark(
    transition: Any, before: list[Any], after: list[Any]
) -> tuple[Any, dict[str, Any]] | None:
    """The item a transition is carried on and what it carries, or None if it touches none."""
    start = fcpxml_time(transition.get("offset"))
    length = fcpxml_time(transition.get("duration"))
    shown = [x for x in before if x.tag != "transition"]
    coming = [x for x in after if x.tag != "transition"]
    if start is None or not length:
        return None
    found: dict[str, Any] = {"name": transition.get("name") or "Cross Dissolve"}
    if coming and (cut := fcpxml_time(coming[0].get("offset"))) is not None:
        target, found["side"] = coming[0], "before"
    elif shown and (end := _end(shown[-1])) is not None:
        target, found["side"], cut = shown[-1], "after", end
    else:
        return None
    found["in"] = str(min(max(cut - start, Fraction(0)), length))
    found["out"] = str(length - Fraction(found["in"]))
    return target, found


def _end(item: Any) -> Fraction | None:
    offset, length = fcpxml_time(item.get("offset")), fcpxml_time(item.get("duration"))
    return None if offset is None or length is None else offset + length


def apply_transitions(timeline: Any) -> None:
    """Insert the transitions ``mark_transitions`` carried beside their items in the read
    tracks, and give the items their names back."""
    for item in list(timeline.find_children()):
        name = str(getattr(item, "name", "") or "")
        marks = _MARKED.findall(name)
        if not marks:
            continue
        item.name = _MARKED.sub("", name)
        track = item.parent()
        if not isinstance(track, otio.schema.Track):
            continue
        rate = item.duration().rate or 24.0
        for text in marks:
            try:
                found = json.loads(text)
                cut_in, cut_out = Fraction(found["in"]), Fraction(found["out"])
            except (ValueError, KeyError, TypeError, ZeroDivisionError):
                continue
            transition = otio.schema.Transition(
                name=str(found.get("name", "")),
                transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                in_offset=otio.opentime.RationalTime(float(cut_in) * rate, rate),
                out_offset=otio.opentime.RationalTime(float(cut_out) * rate, rate),
            )
            index = track.index(item)
            track.insert(index + 1 if found.get("side") == "after" else index, transition)
