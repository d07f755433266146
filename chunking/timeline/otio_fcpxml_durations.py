"""FCPXML items written without a ``duration``: the one Final Cut implies, or a problem.

The DTD lets an ``<asset-clip>`` leave its duration out ("where applicable the duration
attribute is implied, and comes from the underlying media"), as tools that write FCPXML for
Final Cut to finish do: the clip plays its asset from its ``start`` to the asset's end. The
adapter dropped such a clip without a word, and every other item without a duration too, so
a render was shorter than the cut with nothing said. Now an asset-clip, or an ``<audio>`` or
``<video>`` of an asset, without one gets the rest of its asset; a ``<ref-clip>`` (a compound
clip) the length of its compound's sequence and an ``<mc-clip>`` that of its multicam, when
those say it. Such an item without a ``start`` starts at its asset's first frame (read as
0 s, a clip of media whose timecode starts at 01:00:00:00 began an hour before them and was
refused). Any other item of a project without a duration is named in a problem
(``missing_durations``, which ``otio_fcpxml_checks`` reports with the file's other faults).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from chunking.timeline.otio_fcpxml_time import fcpxml_text, fcpxml_time

#: Items that play their resource's own media, whose length the resource gives.
_OF_ASSETS = ("asset-clip", "video", "audio")
#: Items that play a ``<media>`` resource's sequence or multicam.
_OF_MEDIA = {"ref-clip": "sequence", "mc-clip": "multicam"}
#: Items of a storyline that must say how long they are (an audition is as long as its pick).
NEED_DURATION = ("asset-clip", "clip", "ref-clip", "sync-clip", "mc-clip", "video", "audio",
                 "gap", "title", "transition")  # fmt: skip


def imply_durations(root: Any) -> bool:
    """Give each item that may leave its duration out the one its resource implies (see the
    module docstring); whether any was given."""
    resources = {r.get("id"): r for r in root.iterfind("resources/*") if r.get("id")}
    changed = False
    for item in root.iter():
        if item.tag in _OF_ASSETS and item.get("start") is None:
            changed |= _start_at_media(item, resources.get(item.get("ref")))
        if item.get("duration") is not None or item.tag not in (*_OF_ASSETS, *_OF_MEDIA):
            continue
        implied = _implied(item, resources.get(item.get("ref")))
        if implied is not None:
            item.set("duration", fcpxml_text(implied))
            changed = True
    return changed


def _start_at_media(item: Any, asset: Any) -> bool:
    """Start an item without a ``start`` at its asset's first frame (whether it was moved):
    read as 0 s, a clip of media whose timecode starts at 01:00:00:00 began an hour before
    them and was refused."""
    begins = fcpxml_time(asset.get("start")) if asset is not None and asset.tag == "asset" else None
    if not begins:
        return False
    item.set("start", fcpxml_text(begins))
    return True


def _implied(item: Any, resource: Any) -> Fraction | None:
    """What is left of ``resource``'s media from ``item``'s start, or None when the resource
    does not say (or nothing is left)."""
    if resource is None:
        return None
    if item.tag in _OF_ASSETS:
        if resource.tag != "asset":
            return None
        media, begins = resource, fcpxml_time(resource.get("start") or "0s")
    else:
        media = resource.find(_OF_MEDIA[item.tag]) if resource.tag == "media" else None
        if media is None:
            return None
        begins = fcpxml_time(media.get("tcStart") or "0s")
    length = fcpxml_time(media.get("duration"))
    start = fcpxml_time(item.get("start")) if item.get("start") is not None else begins
    if length is None or begins is None or start is None:
        return None
    # A start before the media's (a clip written with start 0 of media starting at its
    # timecode) counts from the media's start, as the clip's media time does.
    left = begins + length - max(start, begins)
    return left if left > 0 else None


def missing_duration(item: Any) -> str | None:
    """Why ``item`` cannot be placed for want of a duration, or None when it need not have
    one or has one."""
    if item.tag not in NEED_DURATION or item.get("duration") is not None:
        return None
    if item.tag in _OF_ASSETS or item.tag in _OF_MEDIA:
        what = "its media" if item.tag in _OF_ASSETS else "its compound or multicam"
        return (
            f"has no duration, and {what} ({item.get('ref')!r}) does not say how long it is "
            "from the clip's start; export it from the editor again"
        )
    return "has no duration (the FCPXML DTD requires one); export it from the editor again"
