"""Which characters a font file maps to glyphs: its ``cmap`` table read without FreeType.

Pillow has no call that says whether a face has a glyph for a character (a missing one draws the
face's .notdef box), so subtitle font fallback reads the table itself. The Unicode subtables are
read (formats 4 and 12, and 0, 6 and 13 where a font has only those), the first face of a
collection (``.ttc``, ``.otc``) included; a file that cannot be read covers nothing.
"""

from __future__ import annotations

import struct

#: (platform, encoding) of the Unicode cmap subtables, the full-repertoire ones first.
_UNICODE = ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0))
#: Tables with glyph outlines; a file without any is bitmap-only (colour emoji): it cannot be
#: drawn at an arbitrary size.
_OUTLINES = (b"glyf", b"CFF ", b"CFF2")


def coverage(data: bytes) -> frozenset[int]:
    """The code points the first face in ``data`` (a font file's bytes) draws; empty when the
    file cannot be read or has no outlines."""
    try:
        return _coverage(data)
    except (struct.error, ValueError, IndexError):
        return frozenset()


def _coverage(data: bytes) -> frozenset[int]:
    start = 0
    if data[:4] in (b"ttcf",):
        (start,) = struct.unpack_from(">I", data, 12)  # the first face's table directory
    tables = _tables(data, start)
    if not any(tag in tables for tag in _OUTLINES) or b"cmap" not in tables:
        return frozenset()
    base = tables[b"cmap"]
    _, count = struct.unpack_from(">HH", data, base)
    subtables: dict[tuple[int, int], int] = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, base + 4 + 8 * i)
        subtables.setdefault((platform, encoding), base + offset)
    for key in _UNICODE:
        if key in subtables:
            found = _subtable(data, subtables[key])
            if found is not None:
                return frozenset(found)
    return frozenset()


def _tables(data: bytes, start: int) -> dict[bytes, int]:
    """Table tags of an sfnt face to their offsets."""
    (count,) = struct.unpack_from(">H", data, start + 4)
    out: dict[bytes, int] = {}
    for i in range(count):
        tag, _, offset, _ = struct.unpack_from(">4sIII", data, start + 12 + 16 * i)
        out[tag] = offset
    return out


def _subtable(data: bytes, at: int) -> set[int] | None:
    """Code points of one cmap subtable that map to a glyph other than .notdef; None for a
    format not read here (14: variation sequences, 2, 8, 10: legacy CJK encodings)."""
    (fmt,) = struct.unpack_from(">H", data, at)
    if fmt == 0:
        glyphs = data[at + 6 : at + 6 + 256]
        return {c for c, g in enumerate(glyphs) if g}
    if fmt == 6:
        first, count = struct.unpack_from(">HH", data, at + 6)
        ids = struct.unpack_from(f">{count}H", data, at + 10)
        return {first + i for i, g in enumerate(ids) if g}
    if fmt == 4:
        return _format4(data, at)
    if fmt in (12, 13):
        (groups,) = struct.unpack_from(">I", data, at + 12)
        found: set[int] = set()
        for i in range(groups):
            low, high, glyph = struct.unpack_from(">III", data, at + 16 + 12 * i)
            high = min(high, 0x10FFFF)
            if fmt == 12:
                found.update(range(low if glyph else low + 1, high + 1))
            elif glyph:
                found.update(range(low, high + 1))
        return found
    return None


def _format4(data: bytes, at: int) -> set[int]:
    """A format 4 subtable (the BMP as segments); a glyph id of 0 is .notdef (missing)."""
    (doubled,) = struct.unpack_from(">H", data, at + 6)
    segs = doubled // 2
    ends = struct.unpack_from(f">{segs}H", data, at + 14)
    starts = struct.unpack_from(f">{segs}H", data, at + 16 + doubled)
    deltas = struct.unpack_from(f">{segs}h", data, at + 16 + 2 * doubled)
    range_at = at + 16 + 3 * doubled
    offsets = struct.unpack_from(f">{segs}H", data, range_at)
    found: set[int] = set()
    for i in range(segs):
        start, end = starts[i], min(ends[i], 0xFFFE)
        if start > end:
            continue
        if offsets[i] == 0:
            # The glyph is the code plus delta (mod 65536): .notdef where that wraps to 0.
            found.update(c for c in range(start, end + 1) if (c + deltas[i]) & 0xFFFF)
            continue
        for c in range(start, end + 1):
            where = range_at + 2 * i + offsets[i] + 2 * (c - start)
            (glyph,) = struct.unpack_from(">H", data, where)
            if glyph and (glyph + deltas[i]) & 0xFFFF:
                found.add(c)
    return found
