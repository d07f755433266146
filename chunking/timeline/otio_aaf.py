"""What OpenTimelineIO's AAF adapter reads differently from OTIO's own conventions.

* **A reversed clip's span.** In an AAF a reverse motion effect (Avid's -100 %) holds a source
  clip whose StartTime and Length are the media it plays, lowest frame first; the adapter
  makes that StartTime the OTIO clip's ``source_range`` start, beside a LinearTimeWarp of
  negative scalar. OTIO's time maps (and the loader, ``otio_layout.Placed.emit``) play such a
  clip backwards *from* its start, over the media before it: Avid's render of the adapter's
  ``misc_speed_effects.aaf`` shows frames 86431 down to 86424 for the clip starting at 86424,
  which played 86423 down to 86416, and a reverse of a clip's first frames ran before its
  media (held on the first frame, warned of). The start is moved to the span's other end.

* **A damaged file.** The AAF library reports a truncated file as "array index out of range"
  and any other file as "invalid file magic signature": ``check_aaf`` says which it is first.
"""

from __future__ import annotations

import os
from typing import Any

import opentimelineio as otio

from chunking.timeline.otio_read import TIME_ERRORS
from common.errors import TimelineError

#: How every AAF begins: the signature of a Microsoft compound file (Structured Storage).
_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
#: A compound file's header: its sector size (a power of two) at byte 30.
_HEADER = 512
#: What a file that is no AAF may be, by its first character (after a byte-order mark).
_TEXTS = {"<": "XML text", "{": "JSON text"}


def check_aaf(path: str) -> None:
    """Refuse a file that is no AAF, or one cut short, naming which (the AAF library's own
    words for these are "invalid file magic signature" and "array index out of range")."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            head = handle.read(_HEADER)
    except OSError:
        return  # the adapter names the unreadable file
    if head[: len(_SIGNATURE)] != _SIGNATURE:
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1].decode("latin-1")
        kind = _TEXTS.get(first)
        if kind:
            found = f"it is {kind}: an export of another kind named .aaf?"
        else:
            found = "its first bytes are not those every AAF begins with"
        raise TimelineError(f"{path}: not an AAF file ({found})")
    shift = int.from_bytes(head[30:32], "little") if len(head) >= 32 else 0
    sector = 1 << shift if 7 <= shift <= 16 else 0
    if len(head) < _HEADER or size % (sector or 1):
        found = f"{size} bytes, not whole sectors"
    elif not sector:
        found = "its header names no sector size"
    else:
        return
    raise TimelineError(
        f"{path}: not a readable AAF file: it is truncated or damaged ({found}); export it again"
    )


def reverse_spans(tl: Any) -> None:
    """Start each reversed clip of an AAF read where OTIO's reverse plays from (see the
    module docstring): after the last frame of the media span it plays."""
    for clip in tl.find_clips():
        scalar = 1.0
        for effect in clip.effects:
            if isinstance(effect, otio.schema.LinearTimeWarp):
                scalar *= float(effect.time_scalar)
        if scalar >= 0 or clip.source_range is None:
            continue
        try:
            start, duration = clip.source_range.start_time, clip.source_range.duration
            played = otio.opentime.RationalTime(duration.value * -scalar, duration.rate)
            clip.source_range = otio.opentime.TimeRange(start + played, duration)
        except TIME_ERRORS:
            continue  # the loader names a range it cannot read
