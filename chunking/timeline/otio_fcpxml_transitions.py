"""Final Cut Pro's transitions, which OpenTimelineIO's FCPXML adapter drops.

A ``<transition>`` in a storyline sits across the cut between the items before and after it:
its ``offset`` is where it starts in the storyline's time and the next item's ``offset`` is the
cut, so it takes ``cut - offset`` from the outgoing item's media past its end and the rest from
the incoming item's media before its start (the handles). Those are an OTIO transition's
``in_offset`` and ``out_offset``. One at a storyline's start fades in from nothing, one at its
end fades out. Each is carried on the item it touches (the next one, else the previous one) at
the end of its name, as retimes and adjustments are, and inserted into the read track beside
that item as an ``otio.schema.Transition`` (``apply_transitions``): a dissolve, whatever
Final Cut's effect was (its name is kept), except a dip through a colour.

Final Cut's "Fade To Color" effect (uid ``FxPlug:F779C565-...``; Final Cut names the
transition "Fade To Color" or "Dip to Color", DaVinci Resolve "Dip To Color Dissolve") fades
through a colour, black unless its ``color`` parameter says otherwise. Its name holds
"fade" and "dissolve", so it was drawn as a cross dissolve without a word. It is now the
renderer's dip through black (or white, where its colour is white); a colour that is neither
(or whose encoding is not known: Resolve's export of a dip Resolve showed black reads
``"0 0 1 1"``) dips through black with a warning naming the colour
(``DIP_KIND``/``DIP_NOTE`` in the transition's metadata, read by ``otio_transitions``).
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_fcpxml_time import fcpxml_time

_MARK = "\u2063transition:"
#: Final Cut's Fade To Color effect, which Resolve's export names too.
_FADE_TO_COLOR_UID = "FxPlug:F779C565-486D-4633-8035-0374B4DB8F5C"
#: Transition or effect names (lower case, letters only) of a dip through a colour.
_DIP_NAMES = ("fadetocolor", "diptocolor", "diptocolour", "fadetocolour")
#: The metadata keys of an OTIO transition that dips: the model kind, and a warning.
DIP_KIND, DIP_NOTE = "cloudrender_dip_kind", "cloudrender_dip_note"
_MARKED = re.compile(re.escape(_MARK) + r"(\{[^\u2063]*\})")


def mark_transitions(root: Any) -> bool:
    """Carry each storyline transition on the item after it (else before it) and remove it;
    False if there was none."""
    changed = False
    effects = {e.get("id"): e for e in root.iter("effect")}
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
                found.update(_dip(transition, effects))
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


def _dip(transition: Any, effects: dict[Any, Any]) -> dict[str, str]:
    """``kind`` (and ``note``) of a transition that dips through a colour, else nothing."""
    filters = transition.findall("filter-video")
    used = [effects.get(f.get("ref")) for f in filters]
    names = [transition.get("name"), *(e.get("name") for e in used if e is not None)]
    letters = ["".join(c for c in str(n or "").lower() if c.isalpha()) for n in names]
    uids = {str(e.get("uid")) for e in used if e is not None}
    if _FADE_TO_COLOR_UID not in uids and not any(d in n for n in letters for d in _DIP_NAMES):
        return {}
    value = next(
        (
            prm.get("value")
            for f in filters
            for prm in f.iter("param")
            if prm.get("name") == "color"
        ),
        None,
    )
    if value is None:
        return {"kind": "fade_black"}  # Final Cut's default colour
    try:
        rgb = [float(v) for v in str(value).split()][:3]
    except ValueError:
        rgb = []
    if len(rgb) == 3 and all(v <= 0.02 for v in rgb):
        return {"kind": "fade_black"}
    if len(rgb) == 3 and all(v >= 0.98 for v in rgb):
        return {"kind": "fade_white"}
    return {
        "kind": "fade_black",
        "note": f"its dip colour {str(value)[:40]!r} is not read (its encoding is not known): "
        "it dips through black",
    }


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
            if found.get("kind") in ("fade_black", "fade_white"):
                transition.metadata[DIP_KIND] = found["kind"]
                if isinstance(found.get("note"), str):
                    transition.metadata[DIP_NOTE] = found["note"]
            index = track.index(item)
            track.insert(index + 1 if found.get("side") == "after" else index, transition)
