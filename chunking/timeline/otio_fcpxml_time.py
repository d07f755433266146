"""FCPXML's times and the pieces the FCPXML amendments share (``otio_fcpxml``,
``otio_fcpxml_nesting``)."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any
from xml.etree import ElementTree

#: Items whose connected items (and nested content) live in the item's own time from ``start``.
HOLDERS = ("clip", "asset-clip", "ref-clip", "sync-clip", "mc-clip", "gap", "audition")
#: The lane of the audio clips given to asset-clips (a name of its own: "sound 0", "sound 1"...).
SOUND_LANE = "sound "
#: An FCPXML time value: a whole number of seconds or a fraction of them.
_FCPXML_TIME = re.compile(r"^\s*(\d+)(?:/(\d+))?s\s*$")
_MAX_LENGTH = 64


def fcpxml_time(value: str | None) -> Fraction | None:
    """An FCPXML time ("3600s", "1001/30000s") in seconds, or None when absent or malformed."""
    match = _FCPXML_TIME.match(value or "")
    # Thousands of digits: int() refuses them (check_time_sizes names such a time).
    if match is None or len(match[0]) > _MAX_LENGTH:
        return None
    return Fraction(int(match[1]), int(match[2] or 1)) if int(match[2] or 1) else None


def fcpxml_text(value: Fraction) -> str:
    """A time in FCPXML's notation."""
    return f"{value.numerator}/{value.denominator}s"


def connect_sound(
    holder: Any, asset: str, offset: str, start: str, duration: str, lane: str, name: str
) -> Any:
    """Connect to ``holder``, at ``offset`` of its own time, the sound of ``asset`` from media
    time ``start`` for ``duration``, as Final Cut writes a clip's detached audio (a clip holding
    a gap holding the audio, which the adapter reads), in the sound lane of ``lane``; the
    connected clip."""
    connected = ElementTree.SubElement(
        holder,
        "clip",
        {
            "name": name,
            "lane": f"{SOUND_LANE}{lane}",
            "offset": offset,
            "start": start,
            "duration": duration,
        },
    )
    gap = ElementTree.SubElement(connected, "gap", {"offset": "0s", "duration": duration})
    ElementTree.SubElement(gap, "audio", {"offset": "0s", "ref": asset, "duration": duration})
    return connected
