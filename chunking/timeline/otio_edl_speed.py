"""An EDL's motion effects (``M2`` lines): speed changes.

An ``M2`` line after an event gives a reel, the speed its source plays at in frames a second
and the source timecode it starts from. The CMX 3600 adapter refused one written with ``;`` (a
drop-frame EDL's, as Resolve and Premiere write every timecode of one) with "'NoneType' object
has no attribute 'group'": its pattern wants colons, so the line is given to it with colons.
"""

from __future__ import annotations

import re

from chunking.timeline.otio_edl_events import event_blocks, joined
from common.errors import TimelineError

_M2 = re.compile(
    r"^\s*M2\s+(?P<reel>.*?)\s+(?P<speed>[-+]?(?:\d+\.?\d*|\.\d+))\s+"
    r"(?P<tc>\d\d[:;.,]\d\d[:;.,]\d\d[:;.,]\d\d)\s*$",
    re.IGNORECASE,
)
_M2_LINE = re.compile(r"^\s*M2\b", re.IGNORECASE)


def readable_m2_lines(text: str, path: str) -> str:
    """The EDL with its M2 lines written as the adapter reads them; TimelineError for an M2
    line that is not a reel, a speed and a timecode."""
    header, blocks = event_blocks(text)
    for block in blocks:
        for n, line in enumerate(block.lines):
            if not _M2_LINE.match(line):
                continue
            m2 = _M2.match(line)
            if m2 is None:
                number = block.events[0]["num"] if block.events else str(block.number)
                raise TimelineError(
                    f"{path}: event {number}: its M2 line {line.strip()!r} is not a reel, a "
                    "speed in frames a second and a source timecode"
                )
            start, end = m2.span("tc")
            block.lines[n] = line[:start] + re.sub(r"[;.,]", ":", m2["tc"]) + line[end:]
    return joined(header, blocks)
