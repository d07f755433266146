"""When each segment cache entry was last used, kept where the entry is, so that an index built
anew (the private Redis of each ``cloudrender render``) evicts in the order the last one would.

Storage keeps no time of use, but a file on a local disk has a modification time: a use sets it
to now (``mark_used``), and a rebuild orders entries by it (``last_used``). Storage whose objects
are not local files (a bucket) has no such time here: its entries come out in key order, as
before, and a cluster's lasting Redis keeps their order instead.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable

from providers.storage.base import Storage, StorageError


def _disk_path(storage: Storage, name: str) -> str | None:
    """The local file holding object ``name`` (ciphertext included), or None."""
    for layer in (storage, getattr(storage, "inner", None)):
        if layer is None:
            continue
        with contextlib.suppress(StorageError):
            path = layer.local_path(name)
            if path is not None:
                return str(path)
    return None


def mark_used(storage: Storage, names: Iterable[str]) -> None:
    """Record that objects ``names`` were used now (best effort: a file that cannot be touched
    only costs the order of a later rebuild)."""
    # Times of our own, a nanosecond apart: the clock utime(None) reads ticks only every few
    # milliseconds, and entries used in one go must keep the order they were used in.
    now = time.time_ns()
    for step, name in enumerate(names):
        path = _disk_path(storage, name)
        if path is not None:
            with contextlib.suppress(OSError):
                os.utime(path, ns=(now + step, now + step))


def last_used(storage: Storage, name: str) -> int:
    """When object ``name`` was last used, in ns since the epoch; 0 when storage cannot say."""
    path = _disk_path(storage, name)
    if path is None:
        return 0
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0
