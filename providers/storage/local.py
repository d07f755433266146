"""Storage in a local (or network-mounted) directory: the backend for single-host renders."""

from __future__ import annotations

import builtins
import contextlib
import errno
import os
import shutil
import stat
from pathlib import Path
from typing import IO, TYPE_CHECKING

from providers.storage.base import (
    TMP_PREFIX,
    ObjectNotFound,
    Storage,
    StorageError,
    map_storage_errors,
    open_source,
    validate_key,
    validate_prefix,
    write_atomic,
)

__all__ = ["LocalStorage", "map_storage_errors", "remove_temps"]

#: Names of in-progress writes; never listed, and reserved so no key can collide with one.
_TMP_PREFIX = TMP_PREFIX
_COPY_BUFFER = 1 << 20
#: Seconds a temp file must stand untouched before a write beside it removes it as a killed
#: writer's: a live write touches its file at every buffer it copies.
TMP_STALE = 3600.0


class LocalStorage:
    """Objects as files under ``root``; every write goes to a temp file and is renamed in place."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))
        self.url = Path(self.root).as_uri()

    def __repr__(self) -> str:
        return f"LocalStorage({self.root!r})"

    def put_file(self, key: str, path: str) -> None:
        """Copy a local file in as ``key``; readers see the old object or the new, never half."""
        dest = self._path(key)
        src = open_source(key, path)  # closed by the with below
        with src, map_storage_errors(key):
            _write_atomic(dest, src)
        # A completed job's directory is never deleted as a whole (its video stays): the temp
        # files of uploads killed in it go here, or they stay for ever, never listed. Aged by
        # the file system's clock (the new file's time), not this machine's: a worker's clock
        # hours ahead (or stepped) must not take live writes for dead ones.
        with contextlib.suppress(OSError):
            _remove_stale_temps(os.path.dirname(dest), os.stat(dest).st_mtime - TMP_STALE)

    def get_file(self, key: str, path: str) -> None:
        """Copy ``key`` to a local path via a temp file in the same directory and a rename."""
        with map_storage_errors(key, reading=True):
            src = open(self._path(key), "rb")  # closed by the with below
        with src, map_storage_errors(key):
            _write_atomic(os.path.abspath(path), src)

    def exists(self, key: str) -> bool:
        """Whether a file is stored under ``key``."""
        path = self._path(key)
        try:
            with map_storage_errors(key, reading=True):
                return stat.S_ISREG(os.stat(path).st_mode)
        except ObjectNotFound:
            return False

    def size(self, key: str) -> int:
        """Size of the object in bytes; ObjectNotFound when missing."""
        path = self._path(key)
        with map_storage_errors(key, reading=True):
            info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ObjectNotFound(f"storage object {key!r} not found", key=key)
        return info.st_size

    def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""
        if self._unlink(key):
            self._prune(key)  # a lasting storage must not fill with empty job directories

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with ``prefix``; returns how many were removed."""
        removed = 0
        for key in self.list(prefix):
            if self._unlink(key):
                removed += 1
                self._prune(key)
        # Temp files of writes killed mid-way, never listed: left, they kept the prefix's
        # directories (and a segment's worth of bytes each) for ever. A write still under way
        # into a prefix being removed fails at its rename, which is what its end calls for.
        self.remove_temps(prefix)
        return removed

    def remove_temps(self, prefix: str) -> int:
        """Remove every temp file (a write in progress, or a killed one's) under ``prefix``,
        for a caller that knows no write there is still wanted; how many."""
        names = self._names(prefix, temps=True)
        for name in names:
            with contextlib.suppress(FileNotFoundError), map_storage_errors(prefix):
                os.unlink(os.path.join(self.root, *name.split("/")))
            self._prune(name)
        return len(names)

    def list(self, prefix: str) -> builtins.list[str]:
        """Sorted keys starting with ``prefix`` as a plain string ("jobs/4" finds "jobs/42/a")."""
        return self._names(prefix, temps=False)

    def _names(self, prefix: str, *, temps: bool) -> builtins.list[str]:
        """Sorted names under ``prefix`` of the objects, or (``temps``) of the temp files."""
        validate_prefix(prefix)
        head = prefix.rpartition("/")[0]
        base = os.path.join(self.root, *head.split("/")) if head else self.root
        keys: builtins.list[str] = []

        def fail(exc: OSError) -> None:
            # A missing base directory just means no objects; anything else must not pass silently.
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                raise exc

        with map_storage_errors(prefix):
            for dirpath, dirnames, filenames in os.walk(base, onerror=fail):
                rel = os.path.relpath(dirpath, self.root)
                at = "" if rel == "." else rel.replace(os.sep, "/") + "/"
                keys.extend(
                    at + name
                    for name in filenames
                    if name.startswith(_TMP_PREFIX) is temps and (at + name).startswith(prefix)
                )
                # Only descend where keys can still match the prefix.
                dirnames[:] = [
                    d
                    for d in dirnames
                    if (at + d + "/").startswith(prefix) or prefix.startswith(at + d + "/")
                ]
        return sorted(keys)

    def local_path(self, key: str) -> str | None:
        """The file that holds (or would hold) ``key``; workers may read it in place."""
        return self._path(key)

    def _path(self, key: str) -> str:
        """Filesystem path of a validated key."""
        validate_key(key)
        if key.rpartition("/")[2].startswith(_TMP_PREFIX):
            raise StorageError(
                f"invalid storage key {key!r}: names starting with {_TMP_PREFIX!r} are reserved",
                key=key,
            )
        return os.path.join(self.root, *key.split("/"))

    def _unlink(self, key: str) -> bool:
        """Remove the file for ``key``; False when there was none."""
        path = self._path(key)
        try:
            with map_storage_errors(key, reading=True):
                os.unlink(path)
        except ObjectNotFound:
            return False
        return True

    def _prune(self, key: str) -> None:
        """Remove directories left empty by deleting ``key``, up to (not including) the root."""
        parts = key.split("/")[:-1]
        while parts:
            try:
                os.rmdir(os.path.join(self.root, *parts))
            except OSError:
                return  # not empty (or already gone): stop, as every parent holds it
            parts.pop()


def remove_temps(storage: object, prefix: str) -> int:
    """``remove_temps`` of ``storage`` or of the storage it wraps (``inner``, as the encrypting
    wrappers hold it): a local storage's temp files, an S3 bucket's unfinished multipart
    uploads; 0 for other backends, which keep nothing of a killed write."""
    while not callable(getattr(type(storage), "remove_temps", None)):
        storage = getattr(storage, "inner", None)
        if storage is None:
            return 0
    return int(storage.remove_temps(prefix))  # type: ignore[attr-defined]


def _remove_stale_temps(directory: str, before: float) -> None:
    """Remove the temp files in ``directory`` last written before ``before`` (epoch seconds)."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return  # no directory yet (or unreadable: the write itself will say so)
    for entry in entries:
        if not entry.name.startswith(_TMP_PREFIX):
            continue
        with contextlib.suppress(OSError):  # gone meanwhile: another write removed it
            if entry.stat(follow_symlinks=False).st_mtime < before:
                os.unlink(entry.path)


def _write_atomic(dest: str, src: IO[bytes]) -> None:
    """Copy ``src`` to ``dest`` atomically (base.write_atomic: synced temp file, then rename)."""
    write_atomic(dest, lambda out: _copy_stream(src, out))


def _copy_stream(src: IO[bytes], dst: IO[bytes]) -> None:
    """Copy all bytes from one open file to another."""
    shutil.copyfileobj(src, dst, _COPY_BUFFER)


if TYPE_CHECKING:
    _conforms: type[Storage] = LocalStorage
