"""A ``Range`` header checked before a file is streamed, so that a malformed or unsatisfiable
one is answered in JSON like every other error (Starlette's own answers are plain text or
empty), and handed on rewritten to the parts the file can answer: Starlette refuses a whole
set with an empty 416 when one of its parts lies outside the file, where RFC 9110 serves the
others."""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.requests import Request

from server.errors import ApiError

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
#: Digits past which a position is past the end of any file: Python refuses to read an integer
#: of over 4300 digits (a header with one answered 500), and no file is 10**19 bytes.
_MAX_DIGITS = 19
_BEYOND = 10**_MAX_DIGITS


def _position(digits: str) -> int:
    """A byte position as written, any larger than a file can be read as past its end."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_DIGITS else _BEYOND


def range_header(header: str | None, size: int) -> str | None:
    """The ``Range`` to honour for a file of `size` bytes: its parts that overlap the file,
    clamped to it (``bytes=0-99,-64``); None for no header, or one in another unit than bytes
    (RFC 9110: ignored, the whole file is sent). ApiError 400 for a malformed header, 416 when
    no part of it overlaps the file."""
    if header is None:
        return None
    unit, equals, ranges = header.partition("=")
    if not equals:
        raise ApiError(f"Range header {header[:80]!r} is malformed (expected bytes=...)", 400)
    if unit.strip().lower() != "bytes":
        return None
    parts: list[str] = []
    for part in ranges.split(","):
        found = _SPEC.match(part)
        if found is None or not (found[1] or found[2]):
            raise ApiError(f"Range header {header[:80]!r} is malformed", 400)
        first = _position(found[1]) if found[1] else None
        last = _position(found[2]) if found[2] else None
        if first is not None and last is not None and last < first:
            raise ApiError(f"Range header {header[:80]!r} is malformed", 400)
        if first is not None:
            if first < size:
                parts.append(f"{first}-{min(last, size - 1)}" if last is not None else f"{first}-")
        elif last and size > 0:  # a suffix: the last `last` bytes
            parts.append(f"-{min(last, size)}")
    if not parts:
        raise ApiError(
            f"Range {header[:80]!r} is outside the video's {size} bytes",
            416,
            {"Content-Range": f"bytes */{size}"},
        )
    return "bytes=" + ",".join(parts)


def check_range(header: str | None, size: int) -> bool:
    """Whether a ``Range`` header is to be honoured (``range_header``: 400 for a malformed
    one, 416 when no part of it overlaps the file)."""
    return range_header(header, size) is not None


def apply_range(request: Request, size: int) -> None:
    """Check the request's ``Range`` for a file of `size` bytes (``range_header``) and leave
    on the request only what the file response is to serve: the parts that overlap the file,
    or no ``Range`` at all (another unit, which it would answer with a plain-text 400)."""
    # From the scope, not request.headers: those are cached, and HEAD took its Range off.
    headers = [(name, value) for name, value in request.scope["headers"] if name != b"range"]
    honoured = range_header(Headers(scope=request.scope).get("range"), size)
    if honoured is not None:
        headers.append((b"range", honoured.encode("latin-1")))
    request.scope["headers"] = headers
