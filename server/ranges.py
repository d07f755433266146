"""A ``Range`` header checked before a file is streamed, so that a malformed or unsatisfiable
one is answered in JSON like every other error (Starlette's own answers are plain text or
empty)."""

from __future__ import annotations

import re

from starlette.requests import Request

from server.errors import ApiError

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


def check_range(header: str | None, size: int) -> bool:
    """Whether a ``Range`` header is to be honoured: ApiError 400 for a malformed one, 416 when
    no range of it overlaps a file of `size` bytes; False for none, or one in another unit than
    bytes (RFC 9110: ignored, the whole file is sent)."""
    if header is None:
        return False
    unit, equals, ranges = header.partition("=")
    if not equals:
        raise ApiError(f"Range header {header[:80]!r} is malformed (expected bytes=...)", 400)
    if unit.strip().lower() != "bytes":
        return False
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
    return True


def apply_range(request: Request, size: int) -> None:
    """Check the request's ``Range`` for a file of `size` bytes (``check_range``); one that is
    not honoured is taken off the request, so the file response sends the whole file (it would
    answer another unit with a plain-text 400)."""
    if not check_range(request.headers.get("range"), size):
        request.scope["headers"] = [
            (name, value) for name, value in request.scope["headers"] if name != b"range"
        ]
