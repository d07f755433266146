"""An EDL's frame-code mode lines (``FCM: DROP FRAME``, ``FCM: NON-DROP FRAME``).

CMX 3600 declares drop-frame counting in its FCM line; writing the last separator of a
timecode as ``;`` is a later convention, and EDLs that follow only the standard write ``:``
throughout. Counted as non-drop, such timecodes are two frames late a minute (about 3.6 s an
hour). Before the adapter and the rate detection read the EDL, the timecodes of each event
under a drop-frame FCM line are written with ``;``; an FCM line may switch the mode for the
events after it.
"""

from __future__ import annotations

import re

_FCM = re.compile(r"^\s*FCM\s*:\s*(?P<mode>NON[\s-]*DROP|DROP)", re.IGNORECASE)
_EVENT = re.compile(r"^\s*\d+\s")
_TIMECODE = re.compile(r"\b(\d\d[:;]\d\d[:;]\d\d):(\d\d)\b")


def drop_frame_marked(text: str) -> str:
    """The EDL with the timecodes of its drop-frame events written with ``;``."""
    drop = False
    lines = text.splitlines(keepends=True)
    for n, line in enumerate(lines):
        mode = _FCM.match(line)
        if mode is not None:
            drop = not mode.group("mode").upper().startswith("NON")
        elif drop and _EVENT.match(line):
            lines[n] = _TIMECODE.sub(r"\1;\2", line)
    return "".join(lines)
