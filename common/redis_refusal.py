"""What Redis refused a user (an ACL ``NOPERM`` reply): the command and key, in words.

redis-py's ``NoPermissionError`` says only "this user has no permissions to access one of the
keys used as arguments"; the command and its key are in the frames it was raised through, and
an operator needs them to see which role's user the process should have had.
"""

from __future__ import annotations

from types import TracebackType
from urllib.parse import urlsplit

#: Commands whose arguments may hold secrets: named, their arguments never shown.
_SECRET_ARGUMENTS = frozenset({"AUTH", "HELLO", "ACL", "CONFIG", "MIGRATE"})
#: Characters of a key shown before it is cut with "...".
_KEY_CHARS = 80


def refused(exc: BaseException) -> str:
    """The refused command and key with Redis's reason, e.g. ``SMEMBERS 'cr:x' (this user has
    no permissions ...)``; only the reason when the command cannot be found."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    found = _command(exc.__traceback__)
    if found is None:
        return reason
    name = found[0].upper()
    if len(found) > 1 and name not in _SECRET_ARGUMENTS:
        key = found[1]
        key = key if len(key) <= _KEY_CHARS else key[: _KEY_CHARS - 3] + "..."
        return f"{name} {key!r} ({reason})"
    return f"{name} ({reason})"


def redis_user(url: str) -> str:
    """The user a Redis URL logs in as ("default" without one)."""
    try:
        return urlsplit(url).username or "default"
    except ValueError:
        return "default"


def _command(tb: TracebackType | None) -> list[str] | None:
    """The innermost command redis-py was executing in ``tb``, as text, or None."""
    found = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_name in ("execute_command", "_execute_command") and "redis" in (
            frame.f_code.co_filename
        ):
            args = frame.f_locals.get("args")
            if isinstance(args, tuple) and args:
                found = [_text(a) for a in args[:2]]
        tb = tb.tb_next
    return found


def _text(value: object) -> str:
    """A command argument as text (bytes decoded, anything undecodable escaped)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)
