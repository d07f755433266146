"""The storage interface every backend implements, key rules and error translation.

Keys are '/'-separated relative names ("jobs/42/chunk-0003.mkv"). Writes are atomic: a reader
sees the whole previous object, the whole new one, or nothing, never a partial file.
"""

from __future__ import annotations

import builtins
import errno
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Protocol, runtime_checkable

from common.errors import RenderError

#: Name prefix of temporary files next to their destination; listings skip them.
TMP_PREFIX = ".cloudrender-tmp-"


class StorageError(RenderError):
    """A storage operation failed; ``transient`` says whether retrying may help."""

    def __init__(self, message: str, key: str | None = None, transient: bool = False) -> None:
        super().__init__(message)
        self.key = key
        self.transient = transient

    def __reduce__(self) -> tuple[type[StorageError], tuple[str, str | None, bool]]:
        # Default exception pickling keeps only args; workers hand errors across processes.
        return (type(self), (str(self), self.key, self.transient))


class ObjectNotFound(StorageError):
    """The requested key holds no object."""


@runtime_checkable
class Storage(Protocol):
    """A flat store of objects under '/'-separated keys (local directory, S3, GCS, Azure Blob)."""

    #: A URL that opens this same storage again with ``open_storage``.
    url: str

    def put_file(self, key: str, path: str) -> None:
        """Upload a local file as ``key``, atomically replacing any existing object."""
        ...

    def get_file(self, key: str, path: str) -> None:
        """Download ``key`` to a local path, written atomically (temp file + rename)."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def size(self, key: str) -> int:
        """Size of the object in bytes; ObjectNotFound when missing."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; returns how many."""
        ...

    def list(self, prefix: str) -> builtins.list[str]:
        """Sorted keys starting with ``prefix`` (a plain string prefix, as in S3)."""
        ...

    def local_path(self, key: str) -> str | None:
        """A filesystem path workers can read the object from directly, or None if remote."""
        ...


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative object name, else raise StorageError naming it."""
    problem = _key_problem(key, allow_empty=False)
    if problem:
        raise StorageError(f"invalid storage key {key!r}: {problem}", key=key)
    if key.endswith("/"):
        raise StorageError(f"invalid storage key {key!r}: must not end with '/'", key=key)
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is empty or a safe key prefix, else raise StorageError naming it."""
    problem = _key_problem(prefix, allow_empty=True)
    if problem:
        raise StorageError(f"invalid storage prefix {prefix!r}: {problem}", key=prefix)
    return prefix


def _key_problem(key: str, *, allow_empty: bool) -> str | None:
    """What is wrong with a key or prefix, or None."""
    if not key:
        return None if allow_empty else "empty"
    if "\x00" in key:
        return "contains a NUL character"
    if "\\" in key:
        return "contains a backslash; use '/' between parts"
    if key.startswith("/"):
        return "must be relative, not start with '/'"
    # The last part of a prefix may be partial ("jobs/4" matches "jobs/42/..."), so only whole
    # parts are checked; "" after a trailing '/' is fine.
    parts = key.split("/")
    for i, part in enumerate(parts):
        if part == "..":
            return "must not contain '..' parts"
        if part == ".":
            return "must not contain '.' parts"
        if part == "" and i < len(parts) - 1:
            return "must not contain empty parts ('//')"
    return None


# Errors that can clear up on their own: contention, timeouts, a flaky network filesystem.
_TRANSIENT_ERRNOS = frozenset(
    {
        errno.EAGAIN,
        errno.EWOULDBLOCK,
        errno.ETIMEDOUT,
        errno.EINTR,
        errno.EBUSY,
        errno.ESTALE,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
    }
)

_MISSING_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EISDIR})

_HINTS = {
    errno.ENOSPC: "free disk space or point storage somewhere larger",
    errno.EDQUOT: "raise the disk quota or free space",
    errno.EACCES: "check the permissions of the storage directory",
    errno.EPERM: "check the permissions of the storage directory",
    errno.EROFS: "the storage location is read-only; choose a writable one",
}


@contextmanager
def map_storage_errors(key: str, *, reading: bool = False) -> Iterator[None]:
    """Translate OSError raised inside the block into StorageError or ObjectNotFound for ``key``.

    With ``reading`` a missing file (or a directory or non-directory where the object should be)
    means the object does not exist: ObjectNotFound.
    """
    try:
        yield
    except StorageError:
        raise
    except OSError as exc:
        code = exc.errno
        if reading and code in _MISSING_ERRNOS:
            raise ObjectNotFound(f"storage object {key!r} not found", key=key) from exc
        if code is None:
            raise StorageError(f"storage operation on {key!r} failed: {exc}", key=key) from exc
        reason = exc.strerror or os.strerror(code)
        name = errno.errorcode.get(code, str(code))
        message = f"storage operation on {key!r} failed: {reason} [{name}]"
        if exc.filename:
            message += f" ({exc.filename})"
        if code in _HINTS:
            message += f"; {_HINTS[code]}"
        raise StorageError(message, key=key, transient=code in _TRANSIENT_ERRNOS) from exc


def is_valid_key(name: str) -> bool:
    """Whether a name (relative to a store's prefix) is a valid key."""
    try:
        validate_key(name)
    except StorageError:
        return False
    return True


def open_source(key: str, path: str) -> IO[bytes]:
    """Open a local file to store as ``key``; StorageError naming both when it cannot be read."""
    try:
        return open(path, "rb")
    except OSError as exc:
        raise StorageError(
            f"cannot store {key!r}: local file {path!r} cannot be read: {exc.strerror or exc}",
            key=key,
        ) from exc


def write_atomic(dest: str, fill: Callable[[IO[bytes]], None]) -> None:
    """Let ``fill`` write a synced temp file beside ``dest``; rename it into place if it succeeds.

    Readers see the old file or the new one, never a half-written one; the temp file carries
    LocalStorage's prefix, so a write into a local store's directory is never listed.
    """
    dest = os.path.abspath(dest)
    directory = os.path.dirname(dest)
    created = _missing_ancestors(directory)
    tmp = os.path.join(directory, TMP_PREFIX + secrets.token_hex(8))
    for attempt in range(3):
        os.makedirs(directory, exist_ok=True)
        try:
            # os.open honours the umask, unlike mkstemp's 0600: other processes read these files.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
            break
        except FileNotFoundError:
            # A concurrent delete_prefix (or failed write) pruned the directory meanwhile.
            if attempt == 2:
                raise
    try:
        with os.fdopen(fd, "wb") as out:
            fill(out)
            out.flush()
            # Without fsync a crash after the rename could leave a complete name on empty data.
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        # A failed write (say, of a missing object) leaves no directories behind either.
        for made in created:
            try:
                os.rmdir(made)
            except OSError:
                break  # not empty: someone else is using it
        raise
    fsync_dir(directory)


def _missing_ancestors(directory: str) -> list[str]:
    """``directory`` and its parents that do not exist yet, deepest first."""
    missing: list[str] = []
    while directory and not os.path.exists(directory):
        missing.append(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return missing


def fsync_dir(directory: str) -> None:
    """Make a rename durable; best effort, as some filesystems refuse fsync on directories."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
