"""An EDL's events whose source and record lengths differ with no M2 line to say why.

The CMX 3600 adapter refuses the whole file on the first such event ("Source and record
duration don't match: RationalTime(0, 24) != RationalTime(192, 24) for clip ..."), which said
neither the event nor what to do. Three kinds come from editors:

* **Black** (reel ``BL``): its source timecode means nothing, and Premiere Pro writes the black
  an audio fade runs into (``W001 025`` to ``BL``, "Constant Power") with a source the
  transition's length shorter than its record. Every black event is given a source as long as
  its record (its record times), which is what the editor meant: black or silence for its span.
* **No source timecode**: Avid Media Composer writes an event of media without timecode (a
  file linked as it is, a sound file without a time stamp) as source ``00:00:00:00
  00:00:00:00``. Which part of the media it plays is not in the EDL at all; such events are
  refused together, named, before the adapter reads (``unknown_sources``).
* **Any other** (a retimed event whose M2 line the export left out): named with both lengths
  when no frame rate reads the file (``mismatched``).
"""

from __future__ import annotations

import re

import opentimelineio as otio

from chunking.timeline.otio_edl_events import Block, event_blocks, joined
from common.errors import TimelineError

#: The reel of black (and silence) in CMX 3600.
BLACK_REEL = "BL"
_M2_LINE = re.compile(r"^\s*M2\b", re.IGNORECASE)
_NAME = re.compile(r"^\*\s*(?:FROM CLIP NAME|TO CLIP NAME)\s*:\s*(.+?)\s*$", re.IGNORECASE)
#: Events named in one message; the count of the others follows.
_NAMED = 5


def black_sources(text: str) -> str:
    """The EDL with each black event's source times set to its record times (see the module
    docstring)."""
    header, blocks = event_blocks(text)
    changed = False
    for block in blocks:
        for n, event in enumerate(block.events):
            if event["reel"].upper() != BLACK_REEL:
                continue
            if (event["src_in"], event["src_out"]) == (event["rec_in"], event["rec_out"]):
                continue
            line = block.lines.index(event.string)
            start, end = event.span("src_in")[0], event.span("src_out")[1]
            source = f"{event['rec_in']} {event['rec_out']}"
            block.lines[line] = event.string[:start] + source + event.string[end:]
            block.events[n] = event.re.match(block.lines[line]) or event
            changed = True
    return joined(header, blocks) if changed else text


def unknown_sources(text: str, path: str) -> None:
    """Raise TimelineError naming the events whose source is 00:00:00:00 to 00:00:00:00 over a
    record of some length (media without timecode, as Avid writes them)."""
    found = []
    for block in _plain_cuts(text):
        for event in block.events:
            zero = event["src_in"] == event["src_out"] and _is_zero(event["src_in"])
            if zero and event["rec_in"] != event["rec_out"]:
                found.append(f"{event['num']} ({_name(block, event['reel'])})")
    if not found:
        return
    more = f" and {len(found) - _NAMED} more" if len(found) > _NAMED else ""
    raise TimelineError(
        f"{path}: event {', '.join(found[:_NAMED])}{more}: the source is 00:00:00:00 to "
        "00:00:00:00 (media without timecode, as Avid writes it), so the EDL does not say which "
        "part of the media plays; export the sequence as AAF or XML, or give the media timecode"
    )


def mismatched(text: str, rate: float) -> list[str]:
    """Each cut event without an M2 line whose source and record lengths differ at ``rate``,
    described: its number, clip and both lengths in frames."""
    found = []
    for block in _plain_cuts(text):
        for event in block.events[-1:]:  # the adapter's clip: a transition's second line
            source = _length(event["src_in"], event["src_out"], rate)
            record = _length(event["rec_in"], event["rec_out"], rate)
            if source is not None and record is not None and source != record:
                found.append(
                    f"event {event['num']} ({_name(block, event['reel'])}) plays {source} "
                    f"source frames ({event['src_in']} to {event['src_out']}) over {record} "
                    "record frames with no M2 line giving its speed"
                )
    return found


def _plain_cuts(text: str) -> list[Block]:
    """The events without an M2 line (whose lengths may differ by their speed)."""
    return [
        block
        for block in event_blocks(text)[1]
        if block.events and not any(_M2_LINE.match(line) for line in block.lines)
    ]


def _name(block: Block, reel: str) -> str:
    """An event's clip name (its last ``FROM``/``TO CLIP NAME``), else its reel."""
    names = [m[1] for line in block.lines if (m := _NAME.match(line.strip())) is not None]
    return names[-1] if names else reel


def _is_zero(timecode: str) -> bool:
    """Whether a timecode is 00:00:00:00."""
    return not any(int(part) for part in re.split(r"[:;]", timecode))


def _length(start: str, end: str, rate: float) -> int | None:
    """Frames from one timecode to another at ``rate``; None where one does not fit it."""
    try:
        first = otio.opentime.from_timecode(start, rate)
        last = otio.opentime.from_timecode(end, rate)
    except ValueError:
        return None
    return int(round((last - first).value))
