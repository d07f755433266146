"""A watchdog on opening a source: an open that does not finish in time is a clear error.

``workers.media_open.open_media`` refuses FIFOs, devices and network protocols, but a regular
file can still hang its open: a file on a network mount that stopped answering (NFS, SMB, a FUSE
mount of object storage) blocks ``open``/``read`` in the kernel, and a malformed file can keep
a demuxer reading for ever (as a 12 KB HEIF once did). The render then hung without a word: a
``--direct`` render or ``validate`` for ever, a cluster's chunk until the failover took its
silence for a stall, on every node in turn. Every open of a source goes through here: rendering,
probing, a clip's audio and the merge's segments alike (``open_media`` is the watched open).

Here the open runs in a thread of its own, and the caller gets ``SourceOpenTimeout`` naming the
file after ``OPEN_SECONDS``. A thread blocked in the kernel or in FFmpeg's C code cannot be
stopped from Python: it is left behind (a daemon thread; what it opens, if it ever returns, is
closed at once), which is what the process would have been stuck in anyway. Those threads are
bounded: a file whose earlier open is still stuck gets no second thread (the new open waits on
the stuck one), and once ``MAX_STUCK`` opens are stuck in a process no further one starts: the
open fails at once, saying so, until one of them returns.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from common.errors import DecodeError

#: Seconds an open of a source may take: probing a local file takes milliseconds, a 4 GB
#: camera file on a slow share a few seconds; a minute-long open is a stuck mount or file.
OPEN_SECONDS = 60.0

#: Opens given up on that may still be stuck in one process (each holds a thread): a stuck
#: mount's every file, retried, would otherwise add a thread per try for as long as it hangs.
MAX_STUCK = 8


class SourceOpenTimeout(DecodeError):
    """Opening a source did not finish in time (a stuck mount, a file that never ends).

    Transient: another try, on another node's mount or after the share recovers, may work."""

    transient = True


def timed_out(path: str, seconds: float) -> str:
    """The one-line message of an open that did not finish in ``seconds``."""
    return (
        f"opening {path} did not finish in {seconds:g} s: is it on a network mount that "
        "stopped answering, or a file that is still being written? copy it to a local disk "
        "and use the copy"
    )


def too_many_stuck(path: str, stuck: int) -> str:
    """The one-line refusal of an open while ``stuck`` earlier opens have not returned."""
    return (
        f"opening {path} was not tried: {stuck} earlier opens of source files on this node have "
        "not finished (a network mount that stopped answering?); copy the media to a local "
        "disk and use the copies"
    )


class _Opening:
    """One open in a thread of its own; whoever comes second (the open or the give-up) cleans
    up: a container opened after the caller gave up is closed."""

    def __init__(self, key: str, path: str, opener: Callable[[str], Any]) -> None:
        self.key = key
        self.path = path
        self.opener = opener
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.finished = False
        self.abandoned = False
        self.container: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        container: Any = None
        error: BaseException | None = None
        try:
            container = self.opener(self.path)
        except BaseException as exc:  # handed to the caller's thread as it is
            error = exc
        with self.lock:
            self.finished = True
            abandoned = self.abandoned
            if not abandoned:
                self.container, self.error = container, error
        if abandoned:
            if container is not None:  # nobody will use it
                container.close()
            _release(self)
        self.done.set()

    def give_up(self) -> None:
        """The caller stops waiting: a finished open's container is closed, an unfinished
        one is counted as stuck until it returns."""
        with self.lock:
            container, self.container = self.container, None
            if not self.finished:
                self.abandoned = True
                # Under this open's lock: its thread cannot release it before it is counted.
                with _registry:
                    _stuck.setdefault(self.key, self)
        if container is not None:  # finished just now: nobody will use it
            container.close()


#: Opens given up on and not yet returned, by absolute path (see MAX_STUCK).
_stuck: dict[str, _Opening] = {}
_registry = threading.Lock()


def _release(opening: _Opening) -> None:
    with _registry:
        if _stuck.get(opening.key) is opening:
            del _stuck[opening.key]


def _forget_after_fork() -> None:
    # A forked pool process has none of its parent's threads: their opens are not stuck in it,
    # and the registry's lock may have been held by one of them at the fork.
    global _registry
    _registry = threading.Lock()
    _stuck.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


def stuck_opens() -> int:
    """How many opens given up on in this process have not returned yet."""
    with _registry:
        return len(_stuck)


def watched(path: str, opener: Callable[[str], Any], seconds: float | None = None) -> Any:
    """``opener(path)`` in a thread of its own, raising SourceOpenTimeout after ``seconds``
    (OPEN_SECONDS) instead of hanging; its own errors come through unchanged."""
    seconds = OPEN_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + seconds
    key = os.path.abspath(path)
    with _registry:
        earlier, stuck = _stuck.get(key), len(_stuck)
    if earlier is not None:
        # The same file is still stuck: a second thread would only hang beside the first.
        if not earlier.done.wait(seconds):
            raise SourceOpenTimeout(timed_out(path, seconds))
    elif stuck >= MAX_STUCK:
        raise SourceOpenTimeout(too_many_stuck(path, stuck))
    opening = _Opening(key, path, opener)
    thread = threading.Thread(target=opening.run, name="source-open", daemon=True)
    thread.start()
    try:
        finished = opening.done.wait(max(0.0, deadline - time.monotonic()))
    except BaseException:  # a signal's exception (SIGTERM, Ctrl-C) while waiting
        opening.give_up()
        raise
    if not finished:
        opening.give_up()
        raise SourceOpenTimeout(timed_out(path, seconds))
    if opening.error is not None:
        raise opening.error
    return opening.container


def open_watched(path: str, seconds: float | None = None) -> Any:
    """``media_open.open_media`` with its own time limit (``seconds``, else OPEN_SECONDS)."""
    # Imported here: media_open's open_media is itself watched through this module.
    from workers import media_open

    return watched(path, media_open.open_unwatched, seconds)
