"""A watchdog on opening a source: an open that does not finish in time is a clear error.

``workers.media_open.open_media`` refuses FIFOs, devices and network protocols, but a regular
file can still hang its open: a file on a network mount that stopped answering (NFS, SMB, a FUSE
mount of object storage) blocks ``open``/``read`` in the kernel, and a malformed file can keep
a demuxer reading for ever (as a 12 KB HEIF once did). The render then hung without a word: a
``--direct`` render or ``validate`` for ever, a cluster's chunk until the failover took its
silence for a stall, on every node in turn.

Here the open runs in a thread of its own, and the caller gets ``SourceOpenTimeout`` naming the
file after ``OPEN_SECONDS``. A thread blocked in the kernel or in FFmpeg's C code cannot be
stopped from Python: it is left behind (a daemon thread; what it opens, if it ever returns, is
closed at once), which is what the process would have been stuck in anyway.
"""

from __future__ import annotations

import threading
from typing import Any

from common.errors import DecodeError
from workers import media_open

#: Seconds an open of a source may take: probing a local file takes milliseconds, a 4 GB
#: camera file on a slow share a few seconds; a minute-long open is a stuck mount or file.
OPEN_SECONDS = 60.0


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


class _Opening:
    """One open in a thread of its own; whoever comes second (the open or the give-up) cleans
    up: a container opened after the caller gave up is closed."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.abandoned = False
        self.container: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            # Looked up at each call: tests (and the module's owner) may replace it.
            container = media_open.open_media(self.path)
        except BaseException as exc:  # handed to the caller's thread as it is
            self.error = exc
        else:
            with self.lock:
                if self.abandoned:
                    container.close()
                else:
                    self.container = container
        finally:
            self.done.set()

    def give_up(self) -> None:
        with self.lock:
            self.abandoned = True
            if self.container is not None:  # finished just now: nobody will use it
                self.container.close()
                self.container = None


def open_watched(path: str, seconds: float | None = None) -> Any:
    """``media_open.open_media(path)``, raising SourceOpenTimeout after ``seconds``
    (OPEN_SECONDS) instead of hanging; its own errors come through unchanged."""
    seconds = OPEN_SECONDS if seconds is None else seconds
    opening = _Opening(path)
    thread = threading.Thread(target=opening.run, name="source-open", daemon=True)
    thread.start()
    if not opening.done.wait(seconds):
        opening.give_up()
        raise SourceOpenTimeout(timed_out(path, seconds))
    if opening.error is not None:
        raise opening.error
    return opening.container
