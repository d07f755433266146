"""Font fallback: the face that draws each character a subtitle's own face lacks.

A face draws a character it has no glyph for as its .notdef box (tofu). So each character (with
its combining marks) is drawn by the first face of a fixed list that has it: the subtitle's own
face, then the faces of FALLBACK_FIRST, then every other family installed (workers.subtitle_fonts'
index: font-roboto's faces and the system font directories), by name, then the system's font
collections (.ttc, .otc), by path, each at the weight nearest the one asked for (CSS matching, a
synthetic bold where the family has no bold). Coverage is read from each file's cmap
(workers.font_cmap), not asked of fontconfig, whose answer depends on each node's configuration
and user fonts: nodes with the same font files choose the same faces, and the render fingerprint
hashes those files. A character no face has still draws the own face's box, and validate and
render say so (workers.subtitle_check). Characters that draw nothing whatever the face (format
characters such as U+200D zero width joiner, variation selectors) stay with their neighbours.

Text of several faces is drawn run by run, a run being characters of one face and one bidi
embedding level (a simplified Unicode Bidirectional Algorithm: strong, weak and neutral types,
no explicit embeddings), the runs in visual order and each shaped alone (HarfBuzz through raqm,
told the run's direction), so right-to-left text keeps its order and its letters their joins.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache, lru_cache

from PIL import features

from common.errors import RenderError
from workers import subtitle_fonts
from workers.font_cmap import coverage
from workers.subtitle_fonts import BOLD, SYNTHETIC_BOLD, FontFile, FreeTypeFont

#: Families tried first, before every other one by name: wide coverage, drawn alike.
FALLBACK_FIRST = ("roboto", "dejavusans")
#: Whether Pillow shapes with raqm (HarfBuzz, FriBiDi); without it, text has no direction.
RAQM = bool(features.check("raqm"))


@dataclass(frozen=True, eq=False)
class Face:
    """A font at a size, its synthetic bold stroke, and the code points it draws (None: not
    known, taken as all)."""

    font: FreeTypeFont
    bold: float
    cmap: frozenset[int] | None

    def covers(self, cluster: str) -> bool:
        """Whether the face has a glyph for every character of a cluster that draws one."""
        return self.cmap is None or all(ord(c) in self.cmap or blank(c) for c in cluster)


@dataclass(frozen=True, eq=False)
class Fallback:
    """A subtitle's face and the faces it falls back to, loaded as characters need them."""

    primary: Face
    weight: int
    size: int
    candidates: tuple[tuple[FontFile, int], ...]
    _loaded: dict[int, Face | None] = field(default_factory=dict)

    def face_of(self, cluster: str) -> Face:
        """The first face that draws a cluster (the primary's box when none does)."""
        return _face_of(self, cluster)

    def candidate(self, i: int) -> Face | None:
        """The i-th fallback face, loaded once (None: it cannot be drawn at this size)."""
        if i not in self._loaded:
            where, have = self.candidates[i]
            try:
                fnt = subtitle_fonts.load_file(where, self.size)
            except RenderError:  # a bitmap-only face: the same on every node with the file
                self._loaded[i] = None
            else:
                bold = self.size * SYNTHETIC_BOLD if self.weight >= BOLD > have else 0.0
                self._loaded[i] = Face(fnt, bold, cmap(where))
        return self._loaded[i]


@dataclass(frozen=True)
class Run:
    """Characters of one face and one bidi level, in logical order."""

    face: Face
    text: str
    level: int

    def direction(self) -> str | None:
        """raqm's direction for the run (None without raqm)."""
        return ("rtl" if self.level % 2 else "ltr") if RAQM else None

    def width(self) -> float:
        """The run's advance, shaped alone."""
        return _shaped_width(self.face.font, self.text, self.direction())


@lru_cache(maxsize=4096)
def _shaped_width(fnt: FreeTypeFont, text: str, direction: str | None) -> float:
    # Wrapping measures each line's runs again for every word added: most recur.
    return float(fnt.getlength(text, direction=direction))


def blank(char: str) -> bool:
    """A character no face needs a glyph for: format characters and variation selectors draw
    nothing (HarfBuzz hides them), line and word breaks are never drawn."""
    return (
        unicodedata.category(char) in ("Cf", "Zl", "Zp")
        or "\ufe00" <= char <= "\ufe0f"
        or "\U000e0100" <= char <= "\U000e01ef"
        or char in "\n\r\t"
    )


@lru_cache(maxsize=64)
def fallback(family: str, weight: int, size: int) -> Fallback:
    """A family's face at a weight and size, and what it falls back to."""
    fnt, bold = subtitle_fonts.face(family, weight, size)
    chosen = subtitle_fonts.resolved(family, weight)
    own = None if chosen is None else chosen[0]
    primary = Face(fnt, bold, None if own is None else cmap(own))
    listed = tuple(c for c in candidates(weight) if c[0] != own)
    return Fallback(primary, weight, size, listed)


def uncovered(family: str, weight: int, text: str) -> list[tuple[int, str]]:
    """The characters of a text (index, character) no installed face draws."""
    chosen = subtitle_fonts.resolved(family, weight)
    if chosen is None:
        return []  # Pillow's own font: its coverage is not known (a warning says so)
    own = cmap(chosen[0])
    missing: list[tuple[int, str]] = []
    for i, char in enumerate(text):
        if blank(char) or ord(char) in own:
            continue
        if not any(ord(char) in cmap(where) for where, _ in candidates(weight)):
            missing.append((i, char))
    return missing


@lru_cache(maxsize=8)
def candidates(weight: int) -> tuple[tuple[FontFile, int], ...]:
    """Fallback files in the order tried, each with the weight it draws."""
    index = subtitle_fonts._index()
    first = [key for key in FALLBACK_FIRST if key in index]
    keys = first + sorted(key for key in index if key not in FALLBACK_FIRST)
    found = [subtitle_fonts._match_weight(index[key], weight) for key in keys]
    found += [(("path", path), 400) for path in subtitle_fonts._collections()]
    unique: dict[FontFile, tuple[FontFile, int]] = {}
    for where, have in found:
        unique.setdefault(where, (where, have))
    return tuple(unique.values())


@cache
def cmap(where: FontFile) -> frozenset[int]:
    """The code points a font file draws (empty when it cannot be read)."""
    try:
        return coverage(subtitle_fonts.font_bytes(where))
    except (OSError, RenderError):
        return frozenset()


def clear_caches() -> None:
    """Forget fallback faces and coverage (with subtitle_fonts.clear_caches)."""
    for cached in (fallback, candidates, cmap, _first_index, _face_of, _shaped_width):
        cached.cache_clear()


@lru_cache(maxsize=4096)
def _face_of(chain: Fallback, cluster: str) -> Face:
    if chain.primary.covers(cluster):
        return chain.primary
    i = _first_index(chain, cluster)
    if i is None:
        return chain.primary
    face = chain.candidate(i)
    return face if face is not None else chain.primary


@lru_cache(maxsize=4096)
def _first_index(chain: Fallback, cluster: str) -> int | None:
    for i, (where, _) in enumerate(chain.candidates):
        have = cmap(where)
        if all(ord(c) in have or blank(c) for c in cluster) and chain.candidate(i) is not None:
            return i
    return None


def faces_of(chain: Fallback | None, primary: Face, clusters: list[str]) -> list[Face]:
    """The face drawing each cluster of a line."""
    if chain is None:
        return [primary] * len(clusters)
    faces: list[Face] = []
    for cluster in clusters:
        face = _face_of(chain, cluster)
        if faces and face is not faces[-1] and all(blank(c) for c in cluster):
            face = faces[-1]  # a joiner stays in its neighbours' run
        faces.append(face)
    return faces


def runs(chain: Fallback | None, primary: Face, clusters: list[str]) -> list[Run]:
    """A line's clusters as runs of one face and bidi level, in visual order (left to right)."""
    faces = faces_of(chain, primary, clusters)
    levels = _levels(clusters)
    found: list[Run] = []
    for cluster, face, level in zip(clusters, faces, levels, strict=True):
        if found and found[-1].face is face and found[-1].level == level:
            found[-1] = Run(face, found[-1].text + cluster, level)
        else:
            found.append(Run(face, cluster, level))
    return _visual(found)


def _visual(found: list[Run]) -> list[Run]:
    """Runs reordered as the UBA's rule L2 does: from the highest level down to the lowest odd
    one, every stretch of runs at that level or higher is reversed."""
    if not found:
        return found
    top = max(r.level for r in found)
    lowest_odd = min((r.level for r in found if r.level % 2), default=top + 1)
    order = list(found)
    for level in range(top, lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if order[i].level < level:
                i += 1
                continue
            j = i
            while j < len(order) and order[j].level >= level:
                j += 1
            order[i:j] = order[i:j][::-1]
            i = j
    return order


_NEUTRAL = {"B", "S", "WS", "ON", "BN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI"}


def _levels(clusters: list[str]) -> list[int]:
    """Each cluster's embedding level in a line (the paragraph's direction from its first
    strong character, as raqm finds it); all 0 for text without right-to-left characters."""
    types = [unicodedata.bidirectional(c[0]) or "L" for c in clusters]
    if not any(t in ("R", "AL", "AN") for t in types):
        return [0] * len(types)
    base = next((0 if t == "L" else 1 for t in types if t in ("L", "R", "AL")), 0)
    edge = "R" if base else "L"
    strong = edge
    for i, t in enumerate(types):  # W1-W3, W7's strong context
        if t == "NSM":
            t = types[i - 1] if i else edge
        if t == "EN" and strong == "AL":
            t = "AN"
        if t in ("L", "R", "AL"):
            strong = t
        types[i] = "R" if t == "AL" else t
    for i in range(1, len(types) - 1):  # W4
        if types[i] in ("ES", "CS") and types[i - 1] == types[i + 1] == "EN":
            types[i] = "EN"
        elif types[i] == "CS" and types[i - 1] == types[i + 1] == "AN":
            types[i] = "AN"
    for i, t in enumerate(types):  # W5 (ET next to EN), W6
        if t == "ET":
            types[i] = "EN" if _next_to(types, i, "EN") else "ON"
        elif t in ("ES", "CS", "PDI", "NSM"):
            types[i] = "ON"
    strong = edge
    for i, t in enumerate(types):  # W7
        if t in ("L", "R"):
            strong = t
        elif t == "EN" and strong == "L":
            types[i] = "L"
    resolved = _neutrals(types, edge)
    levels = []
    for t in resolved:
        if base == 0:
            levels.append({"R": 1, "AN": 2, "EN": 2}.get(t, 0))
        else:
            levels.append(2 if t in ("L", "AN", "EN") else 1)
    return levels


def _next_to(types: list[str], i: int, wanted: str) -> bool:
    """Whether the run of ET around i touches a ``wanted`` type on either side."""
    j = i
    while j > 0 and types[j - 1] == "ET":
        j -= 1
    k = i
    while k < len(types) - 1 and types[k + 1] == "ET":
        k += 1
    return (j > 0 and types[j - 1] == wanted) or (k < len(types) - 1 and types[k + 1] == wanted)


def _neutrals(types: list[str], edge: str) -> list[str]:
    """N1, N2: a stretch of neutrals takes the direction on both its sides when they agree
    (numbers counting as right-to-left), else the paragraph's."""
    out = list(types)
    i = 0
    while i < len(out):
        if out[i] not in _NEUTRAL:
            i += 1
            continue
        j = i
        while j < len(out) and out[j] in _NEUTRAL:
            j += 1
        before = edge if i == 0 else out[i - 1]
        after = edge if j == len(out) else out[j]
        before = "R" if before in ("AN", "EN") else before
        after = "R" if after in ("AN", "EN") else after
        side = before if before == after else edge
        out[i:j] = [side] * (j - i)
        i = j
    return out
