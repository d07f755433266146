"""An EDL's frame-code mode lines (``FCM: DROP FRAME``, ``FCM: NON-DROP FRAME``).

CMX 3600 declares drop-frame counting in its FCM line; writing the last separator of a
timecode as ``;`` is a later convention (``.`` where a ``;`` cannot be typed: Sony, Panasonic
and Grass Valley write ``01:00:00.02``), and EDLs that follow only the standard write ``:``
throughout. Counted as non-drop, such timecodes are two frames late a minute (about 3.6 s an
hour). Before the adapter and the rate detection read the EDL, the timecodes of each event
under a drop-frame FCM line, and those written with ``.`` or ``,`` under none, are written
``HH:MM:SS;FF``; an FCM line may switch the mode for the events after it.
"""

from __future__ import annotations

import functools
import re

_FCM = re.compile(r"^\s*FCM\s*:\s*(?P<mode>NON[\s-]*DROP|DROP)", re.IGNORECASE)
_EVENT = re.compile(r"^\s*\d+\s")
_TIMECODE = re.compile(r"\b(\d\d)[:;.,](\d\d)[:;.,](\d\d)([:;.,])(\d\d)\b")


def drop_frame_marked(text: str) -> str:
    """The EDL with the timecodes of its drop-frame events written with ``;``."""
    drop: bool | None = None  # None: no FCM line yet
    lines = text.splitlines(keepends=True)
    for n, line in enumerate(lines):
        mode = _FCM.match(line)
        if mode is not None:
            drop = not mode.group("mode").upper().startswith("NON")
        elif _EVENT.match(line):
            lines[n] = _TIMECODE.sub(functools.partial(_written, drop=drop), line)
    return "".join(lines)


def _written(tc: re.Match[str], *, drop: bool | None) -> str:
    """A timecode as the adapter reads it: ``;`` before the frames where it counts drop-frame
    (its mode's, else its own ``;``, ``.`` or ``,``), ``:`` everywhere else."""
    dropped = drop if drop is not None else tc[4] != ":"
    return f"{tc[1]}:{tc[2]}:{tc[3]}{';' if dropped else ':'}{tc[5]}"
