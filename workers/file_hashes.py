"""Content hashes of large files remembered across processes, by each file's identity on disk.

The render fingerprint (``workers.fingerprint``) hashes some 120 MB of shared libraries (PyAV's
FFmpeg and codecs, NumPy's BLAS, Pillow's image libraries): 0.11 CPU-s in every process that
computes it, the client and each worker among them. A file's hash is kept in a small JSON memo
beside its identity: device, inode, size, modification and change times in nanoseconds. An
in-place upgrade writes new files (another inode, another change time, which no ``touch`` can
set back), so a memo entry never outlives the bytes it describes; whatever does not match is
hashed again. A memo that is missing, unreadable, not the user's own or writable by others is
ignored (and not written over where it is not ours): the hashes are then computed as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable

#: Memo format version: bumped when an entry's meaning changes.
FORMAT = 1
#: Entries a memo keeps at most: a node's libraries, a few installations' worth.
MAX_ENTRIES = 2000


def file_hash(path: str) -> str:
    """The first 16 hex digits of the file's sha256, "unreadable" if it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return "unreadable"
    return digest.hexdigest()[:16]


def identity(path: str) -> str | None:
    """What names these bytes on disk (device, inode, size, mtime and ctime in ns), or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def hashes(paths: Iterable[str], memo: str | None) -> dict[str, str]:
    """``file_hash`` of each path, taken from the memo file ``memo`` where a path's identity
    is the one recorded; the memo is updated with what had to be hashed (None: no memo)."""
    known = _read(memo) if memo else {}
    found: dict[str, str] = {}
    fresh: dict[str, list[str]] = {}
    for path in paths:
        ident = identity(path)
        entry = known.get(path)
        if ident is not None and entry is not None and entry[0] == ident:
            found[path] = entry[1]
            continue
        found[path] = file_hash(path)
        if ident is not None and found[path] != "unreadable" and identity(path) == ident:
            fresh[path] = [ident, found[path]]  # unchanged while it was read
    if memo and fresh:
        _write(memo, {**known, **fresh})
    return found


def _trusted(handle_stat: os.stat_result) -> bool:
    """A memo this user owns and nobody else may write: another user's could lie."""
    return (
        stat.S_ISREG(handle_stat.st_mode)
        and handle_stat.st_uid == os.getuid()
        and not handle_stat.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def _read(memo: str) -> dict[str, list[str]]:
    """The memo's entries (path -> [identity, hash]), empty when it cannot be trusted."""
    try:
        with open(memo, encoding="utf-8") as handle:
            if not _trusted(os.fstat(handle.fileno())):
                return {}
            data = json.load(handle)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return {}
    entries = data.get("files")
    if not isinstance(entries, dict):
        return {}
    return {
        str(path): [str(entry[0]), str(entry[1])]
        for path, entry in entries.items()
        if isinstance(entry, list) and len(entry) == 2
    }


def _write(memo: str, entries: dict[str, list[str]]) -> None:
    """Replace the memo atomically (best effort: a read-only home only costs the hashing)."""
    if len(entries) > MAX_ENTRIES:
        entries = dict(list(entries.items())[-MAX_ENTRIES:])  # the newest, as inserted
    folder = os.path.dirname(memo) or "."
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if os.path.lexists(memo) and not _trusted(os.lstat(memo)):
            return  # not ours to replace
        fd, partial = tempfile.mkstemp(prefix=".fingerprint-", dir=folder)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"format": FORMAT, "files": entries}, handle, separators=(",", ":"))
        os.replace(partial, memo)
    except OSError:
        try:
            os.unlink(partial)
        except OSError:
            pass
