"""FCPXML split edits (J and L cuts), which OpenTimelineIO's adapter leaves out (see
``otio_fcpxml``).

An item whose sound starts or ends apart from its picture carries ``audioStart`` and
``audioDuration`` (its sound's span, in its own time as ``start``): the adapter cut the sound
with the picture. An asset-clip's sound becomes a clip's detached audio of that span, its
picture alone staying in the storyline; an ``<audio>``'s (or a sound-only asset-clip's) span is
its sound's. The other items' split edits (clips, synchronized, compound and multicam clips)
are named in a warning.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from chunking.timeline.otio_fcpxml_retime import conform_speed, sequence_rate
from chunking.timeline.otio_fcpxml_time import connect_sound, fcpxml_text, fcpxml_time

#: Items whose split edits are rendered.
_SPLIT = ("asset-clip", "audio")
#: What a gap keeps of a sound-only storyline item whose sound moves.
_GAP_ATTRIBUTES = ("name", "offset", "start", "duration")


def _span(item: Any, rate: Fraction | None) -> tuple[Fraction, Fraction, Fraction, Fraction] | None:
    """An item's (start, duration, audio start, audio duration) in a project of ``rate``, or
    None when it has no split edit, malformed times or a retime."""
    if item.get("audioStart") is None and item.get("audioDuration") is None:
        return None
    if item.find("timeMap") is not None or conform_speed(item, rate) is not None:
        # Its sound's media times would need the retime too: named instead. (A clip of
        # another rate Final Cut does not conform, 23.98 fps footage in a 30 fps project,
        # plays at its speed: its ``<conform-rate>`` changes nothing here.)
        return None
    start = fcpxml_time(item.get("start") or "0s")
    duration = fcpxml_time(item.get("duration"))
    sound = fcpxml_time(item.get("audioStart")) if item.get("audioStart") else start
    length = fcpxml_time(item.get("audioDuration")) if item.get("audioDuration") else duration
    if start is None or not duration or sound is None or not length:
        return None
    return start, duration, sound, length


def split_edits(root: Any) -> bool:
    """Play the sound of each asset-clip or ``<audio>`` with a split edit over its own span
    (see the module docstring); False if there was none."""
    assets = {a.get("id"): a for a in root.iter("asset")}
    parents = {child: parent for parent in root.iter() for child in parent}
    rate = sequence_rate(root)
    changed = False
    for item in list(root.iter()):
        split = item.tag in _SPLIT and item.get("enabled") != "0"
        span = _span(item, rate) if split else None
        parent, asset = parents.get(item), assets.get(item.get("ref"))
        if span is None or parent is None or asset is None:
            continue
        start, _, sound, length = span
        item.attrib.pop("audioStart", None)
        item.attrib.pop("audioDuration", None)
        changed = True
        if item.tag == "asset-clip" and (
            asset.get("hasAudio") != "1" or item.get("srcEnable") == "video"
        ):
            continue  # no sound to split off
        name, ref = item.get("name") or "", str(item.get("ref"))
        if item.tag == "asset-clip" and asset.get("hasVideo") == "1":
            item.set("srcEnable", "video")  # the picture stays; the sound goes beside it
            lane = item.get("lane") or "0"
            connect_sound(item, ref, fcpxml_text(sound), fcpxml_text(sound),
                          fcpxml_text(length), lane, name)  # fmt: skip
        elif parent.tag == "spine" and item.get("lane") is None:
            # A storyline item keeps its span: a gap of it, the sound connected to it.
            kept = {k: v for k, v in item.attrib.items() if k in _GAP_ATTRIBUTES}
            connected = [child for child in item if child.get("lane") is not None]
            item.clear()
            item.tag = "gap"
            item.attrib.update(kept)
            item.extend(connected)
            connect_sound(item, ref, fcpxml_text(sound), fcpxml_text(sound),
                          fcpxml_text(length), "0", name)  # fmt: skip
        else:
            offset = fcpxml_time(item.get("offset") or "0s") or Fraction(0)
            item.set("offset", fcpxml_text(offset + sound - start))
            item.set("start", fcpxml_text(sound))
            item.set("duration", fcpxml_text(length))
    return changed


def split_notes(root: Any) -> list[str]:
    """The split edits not rendered, one message naming the items."""
    rate = sequence_rate(root)
    named = [
        repr(item.get("name") or item.tag)
        for item in root.iter()
        if item.get("enabled") != "0"
        and (item.get("audioStart") is not None or item.get("audioDuration") is not None)
        and (item.tag not in _SPLIT or _span(item, rate) is None)
    ]
    if not named:
        return []
    shown = ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")
    return [
        f"split edit(s) (J/L cuts) of {shown} are not rendered: their sound cuts with their picture"
    ]
