"""Final Cut Pro's solid-colour generators (Generators > Solids > Custom), drawn in their colour.

A ``<video>`` showing one of Final Cut's Solids effects (its uid has ``/Solids.localized/``)
with a ``Color`` parameter of three or four numbers from 0 to 1 was read as a gap: black, or
the tracks below, where Final Cut shows that colour. Before the adapter reads the file it
becomes an asset-clip of a stand-in asset, its colour carried at the end of its name
(``mark_solids``); after, ``apply_solids`` gives each such clip a SolidColor generator of that
colour, which the loader draws. One that is cropped (``<adjust-crop>``) is left as it was (not
drawn, with the warning every generator gets): drawn whole it would cover the frame.
"""

from __future__ import annotations

import json
import re
from typing import Any

import opentimelineio as otio

_MARK = "\u2063solid:"
_MARKED = re.compile(re.escape(_MARK) + r"(\[[^\u2063\]]*\])")
#: The stand-in asset's id and file (never opened: apply_solids replaces the reference).
_STAND_IN = "cloudrender-solid-colour"
_STAND_IN_URL = "file:///cloudrender-solid-colour.mov"
#: The stand-in's length: longer than any project, so every solid's range lies inside it.
_LONG = "8640000s"


def solid_colour(item: Any, uids: dict[Any, str]) -> list[float] | None:
    """The RGBA colour (0..1) a ``<video>`` of a Final Cut solid draws, or None when it is not
    one, gives no colour the loader can draw, or is cropped."""
    uid = uids.get(item.get("ref"))
    if uid is None or "/Solids.localized/" not in uid or item.find("adjust-crop") is not None:
        return None
    for param in item.findall("param"):
        if str(param.get("name") or "").lower() not in ("color", "colour"):
            continue
        try:
            values = [float(v) for v in str(param.get("value") or "").split()]
        except ValueError:
            return None
        if len(values) in (3, 4) and all(0 <= v <= 1 for v in values):
            return values if len(values) == 4 else [*values, 1.0]
        return None
    return None


def effect_uids(root: Any) -> dict[Any, str]:
    """The document's effects' uids by id."""
    return {e.get("id"): str(e.get("uid") or "") for e in root.iter("effect")}


def mark_solids(root: Any) -> bool:
    """Make each storyline's or connected ``<video>`` of a drawable solid an asset-clip of the
    stand-in asset, its colour at the end of its name; False if there was none."""
    uids = effect_uids(root)
    resources = root.find("resources")
    if resources is None:
        return False
    parents = {child: parent for parent in root.iter() for child in parent}
    changed = False
    for item in list(root.iter("video")):
        parent = parents.get(item)
        if parent is None or (parent.tag != "spine" and item.get("lane") is None):
            continue
        colour = solid_colour(item, uids)
        if colour is None:
            continue
        if not changed:
            stand_in = resources.makeelement(
                "asset",
                {"id": _STAND_IN, "name": "solid colour", "start": "0s", "duration": _LONG,
                 "hasVideo": "1", "src": _STAND_IN_URL},
            )  # fmt: skip
            resources.append(stand_in)
        item.tag = "asset-clip"
        item.set("ref", _STAND_IN)
        item.set("name", f"{item.get('name') or ''}{_MARK}{json.dumps(colour)}")
        for param in item.findall("param"):
            item.remove(param)
        changed = True
    return changed


def apply_solids(timeline: Any) -> None:
    """Give the clips ``mark_solids`` marked a SolidColor generator of their colour, and their
    names back."""
    for clip in timeline.find_clips():
        name = str(clip.name or "")
        match = _MARKED.search(name)
        colour = [0.0, 0.0, 0.0, 0.0]  # its colour lost on the way: transparent, as a gap was
        if match is not None:
            clip.name = name[: match.start()] + name[match.end() :]
            try:
                colour = [float(v) for v in json.loads(match[1])]
            except (ValueError, TypeError):
                pass
        elif getattr(clip.media_reference, "target_url", None) != _STAND_IN_URL:
            continue
        clip.media_reference = otio.schema.GeneratorReference(
            name="Solid", generator_kind="SolidColor", parameters={"color": colour}
        )
