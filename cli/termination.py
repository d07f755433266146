"""SIGTERM and SIGHUP end a render as Ctrl-C does: its cleanups run, its temp files go.

Their default action kills the process on the spot, leaving a half-written output (a
``--direct`` render) or a job rendering, and billed, with nobody waiting (a cluster render).
Here the first one raises ``Terminated`` in the main thread.

Raising from a signal handler is not enough on its own: CPython runs the handler wherever the
main thread happens to be, and where that is a finalizer (a generator or an object collected
mid-frame) the exception is printed as "Exception ignored" and dropped. The render then went on
to its end, deaf to further signals, a CI timeout's SIGTERM included. So the signal is also
recorded, and the render asks ``check()`` between frames and polls, which raises it again.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNUMS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: raised in the main thread so that cleanups run on the way out.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Termination:
    """The signal that asked this process to end, once one has."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def handle(self, signum: int, _frame: object) -> None:
        """The signal handler: record the first signal and raise it; later ones are ignored
        (they must not interrupt the cleanup the first one started)."""
        if self.signum is None:
            self.signum = signum
            raise Terminated(signum)

    def check(self) -> bool:
        """A render's cancel poll: False while no signal came, else raises ``Terminated`` (its
        first raise was dropped, or the render would not still be polling)."""
        if self.signum is not None:
            raise Terminated(self.signum)
        return False


@contextmanager
def terminable() -> Iterator[Termination]:
    """Turn SIGTERM and SIGHUP into ``Terminated`` for the block, and make sure it leaves with
    it: one recorded in the block but dropped is raised at its end."""
    termination = Termination()
    if threading.current_thread() is not threading.main_thread():
        yield termination  # handlers can only be set from the main thread; its own are in force
        return
    previous = {each: signal.signal(each, termination.handle) for each in SIGNUMS}
    try:
        yield termination
        termination.check()  # the block ended normally: a signal in it was dropped
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)
