"""A ``Range`` header checked before a file is streamed, so that a malformed or unsatisfiable
one is answered in JSON like every other error (Starlette's own answers are plain text or
empty)."""

from __future__ import annotations

import re

from server.errors import ApiError

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


def check_range(header: str | None, size: int) -> None:
    """Raise ApiError 400 for a malformed ``Range`` header, 416 when no range of it overlaps a
    file of `size` bytes; a missing header, or one in a unit other than bytes, passes (the
    whole file is sent)."""
    if header is None:
        return
    unit, _, ranges = header.partition("=")
    if unit.strip().lower() != "bytes":
        return
    satisfiable = False
    for part in ranges.split(","):
        found = _SPEC.match(part)
        if found is None or not (found[1] or found[2]):
            raise ApiError(f"Range header {header[:80]!r} is malformed", 400)
        first, last = found[1], found[2]
        if first and last and int(last) < int(first):
            raise ApiError(f"Range header {header[:80]!r} is malformed", 400)
        if first:
            satisfiable |= int(first) < size
        else:
            satisfiable |= int(last) > 0 and size > 0
    if not satisfiable:
        raise ApiError(
            f"Range {header[:80]!r} is outside the video's {size} bytes",
            416,
            {"Content-Range": f"bytes */{size}"},
        )
