"""What validate and render say about subtitle text that will not draw as written.

Two things depend on the fonts a node has, so the loader (which does not know them) cannot say
them: a ``font_family`` none of whose names is installed (another face draws it), and characters
no installed face has a glyph for (they draw as boxes, workers.subtitle_fallback). Both are
warnings naming the subtitle (a subtitle clip's id), and, for characters, which ones and where.
"""

from __future__ import annotations

import unicodedata

from chunking.timeline.fields import shown
from chunking.timeline.model import Timeline
from workers.subtitle_fallback import uncovered
from workers.subtitle_fonts import face_name, missing_family

#: Characters listed by name in one warning; the rest are counted.
LISTED = 5


def text_warnings(timeline: Timeline) -> list[str]:
    """One warning per subtitle whose family is not installed here, and one per subtitle with
    characters no installed font draws."""
    found: list[str] = []
    for sub in timeline.subtitles:
        where = f"subtitle {sub.id!r}"
        family, weight = sub.font_family, int(sub.font_weight)
        if family and missing_family(family):
            # The default face draws it (asked for by "", so the render's log line about the
            # family is not also printed here).
            family = ""
            found.append(
                f"{where}: font_family {shown(sub.font_family)} is not installed on this node; "
                f"{face_name(family, weight)} draws it instead (install the font on every "
                "render node)"
            )
        missing = uncovered(family, weight, sub.text)
        if missing:
            found.append(f"{where}: {_missing(missing)}")
    return found


def _missing(missing: list[tuple[int, str]]) -> str:
    """'no installed font has ...' for characters (index, character), each named once at its
    first place in the text (counted from 1)."""
    first: dict[str, int] = {}
    for i, char in missing:
        first.setdefault(char, i)
    named = [
        f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')} at character {i + 1}"
        for char, i in list(first.items())[:LISTED]
    ]
    more = len(first) - LISTED
    listed = ", ".join(named) + (f" and {more} other characters" if more > 0 else "")
    return (
        f"no installed font has {listed}: they draw as boxes (install a font that has them "
        "on every render node)"
    )
