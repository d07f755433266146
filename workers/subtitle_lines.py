"""Subtitle lines: characters with their marks, wrapping at breaking spaces, and measuring.

A line is measured as it is drawn (workers.subtitle_text): shaped whole (run by run, in visual
order, where characters fall back to other faces: workers.subtitle_fallback), or glyph by glyph
with each character at its place in the shaped line (its advance plus the kerning with the next
one) plus the letter spacing.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from workers.subtitle_fallback import Face, Fallback, Run, faces_of, runs
from workers.subtitle_fonts import FreeTypeFont

#: Where a line may break: the breaking spaces (ASCII whitespace and Unicode's Zs spaces), never
#: the no-break ones (U+00A0, U+2007 figure space, U+202F narrow no-break space) nor U+2060
#: word joiner, which str.split() would treat alike ("100\u00a0km" must stay on one line).
BREAKS = (
    " \t\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2008\u2009\u200a\u2028\u2029\u205f\u3000"
)
_BREAK = re.compile(f"[{re.escape(BREAKS)}]+")


def clusters_of(line: str) -> list[str]:
    """A line split into characters, each with the combining marks that follow it."""
    out: list[str] = []
    for char in line:
        if out and (unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me")):
            out[-1] += char
        else:
            out.append(char)
    return out


def needs_shaping(text: str) -> bool:
    """Whether the text has right-to-left or shaped scripts (Arabic, Hebrew, Indic, Thai, ...),
    whose characters drawn one by one would come out in the wrong order or unjoined: such text
    is always drawn line by line (no letter spacing, no per-character animation)."""
    for char in text:
        if (
            unicodedata.bidirectional(char) in ("R", "AL", "AN")
            or unicodedata.category(char) == "Mc"
        ):
            return True
        if "\u0900" <= char <= "\u109f":  # Indic, Sinhala, Thai, Lao, Tibetan, Myanmar
            return True
    return False


def line_width(
    fnt: FreeTypeFont, line: str, spacing: float = 0.0, fallback: Fallback | None = None
) -> float:
    """Advance width of a line: shaped whole (run by run where faces fall back), or, with
    ``spacing`` pixels between its characters, as drawn glyph by glyph (see ``pens``)."""
    if not line:
        return 0.0
    if spacing:
        return pens(fnt, line, spacing, fallback)[1]
    found = line_runs(fnt, line, fallback)
    if drawn_whole(fnt, found):
        return float(fnt.getlength(line))
    return sum(run.width() for run in found)


def pens(
    fnt: FreeTypeFont, line: str, spacing: float = 0.0, fallback: Fallback | None = None
) -> tuple[list[float], float]:
    """Where each character of a line drawn glyph by glyph starts (pixels from the line's
    start), and the line's width: each one's advance plus its kerning with the next (as the
    whole line is shaped) plus ``spacing``, never below 0, so a very negative spacing piles
    the letters up rather than running them backwards off the canvas."""
    clusters = clusters_of(line)
    faces = faces_of(fallback, primary_face(fnt, fallback), clusters)
    x, found = 0.0, []
    for j, (cluster, face) in enumerate(zip(clusters, faces, strict=True)):
        found.append(x)
        if j + 1 == len(clusters):
            x += _advance(face.font, cluster)
        elif faces[j + 1] is face:
            after = clusters[j + 1]
            step = _advance(face.font, cluster + after) - _advance(face.font, after)
            x += max(step + spacing, 0.0)
        else:
            x += max(_advance(face.font, cluster) + spacing, 0.0)
    return found, x


@lru_cache(maxsize=4096)
def _advance(fnt: FreeTypeFont, text: str) -> float:
    return float(fnt.getlength(text))


def primary_face(fnt: FreeTypeFont, fallback: Fallback | None) -> Face:
    """The face a line is set in (its own coverage when known)."""
    return fallback.primary if fallback is not None else Face(fnt, 0.0, None)


def line_runs(fnt: FreeTypeFont, line: str, fallback: Fallback | None) -> list[Run]:
    """A line as runs of one face and direction, in visual order."""
    return runs(fallback, primary_face(fnt, fallback), clusters_of(line))


def drawn_whole(fnt: FreeTypeFont, found: list[Run]) -> bool:
    """Whether the runs are the line in its own face alone (drawn in one call, as before
    fallback existed: the same pixels)."""
    return len(found) <= 1 and all(run.face.font is fnt for run in found)


def wrap_text(
    text: str,
    fnt: FreeTypeFont,
    max_width: float,
    outline: float,
    *,
    spacing: float = 0.0,
    fallback: Fallback | None = None,
) -> list[str]:
    """Split text at newlines and wrap each paragraph greedily so lines fit ``max_width`` px,
    breaking at breaking spaces only (BREAKS)."""

    def width(line: str) -> float:
        return line_width(fnt, line, spacing, fallback) + 2 * outline

    lines: list[str] = []
    for paragraph in text.split("\n"):
        words = [word for word in _BREAK.split(paragraph) if word]
        if not words:
            lines.append("")
            continue
        line = ""
        for word in words:
            candidate = f"{line} {word}" if line else word
            if width(candidate) <= max_width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            # A word wider than the canvas is broken between characters rather than overflowing.
            for char in clusters_of(word):
                if line and width(line + char) > max_width:
                    lines.append(line)
                    line = ""
                line += char
        lines.append(line)
    return lines
