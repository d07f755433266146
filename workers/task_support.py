"""What the chunk, audio and merge tasks share (``workers.tasks``, ``workers.merge_task``): how
a task stops on purpose, the lease-renewing thread, whether its job ended, and which errors are
the node's own.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import threading
from collections.abc import Callable, Iterator

from common.errors import RenderCancelled
from workers import hooks


class Stopped(RenderCancelled):
    """A running chunk stopped on purpose: its job ended, another copy won, or eviction."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"chunk stopped: {reason}")
        self.reason = reason


@contextlib.contextmanager
def renewing(renew: Callable[[], None], interval: float) -> Iterator[None]:
    """Call ``renew`` every ``interval`` seconds in a thread while the block runs."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                renew()
            except Exception:  # noqa: BLE001 - Redis away: the next renewal may get through
                pass

    thread = threading.Thread(target=loop, name="lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def cancelled(service: hooks.Hooks, job_id: str) -> bool:
    """Whether the job was cancelled (failed, or lost with Redis's data); False while Redis
    cannot say."""
    return service.should_stop(job_id, -1, "") in ("cancelled", "gone")


#: Errors of a node's own disk: another node may well succeed.
NODE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS})


def node_trouble(exc: BaseException) -> bool:
    """Whether an error comes from this node's disk (full, read-only, failing)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in NODE_ERRNOS:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


#: Free bytes under which this node's scratch disk counts as full: a chunk needs its sources'
#: copies and its segment there.
SCRATCH_FREE_MIN = 64 * 1024 * 1024


def scratch_in_trouble(root: str | None = None) -> bool:
    """Whether this node's scratch disk (its temporary directory) is full or read-only now:
    a full disk error is then this node's, not shared storage's, and another node may do
    better."""
    try:
        stats = os.statvfs(root or tempfile.gettempdir())
    except OSError:
        return True
    read_only = bool(stats.f_flag & os.ST_RDONLY)
    return read_only or stats.f_bavail * stats.f_frsize < SCRATCH_FREE_MIN
