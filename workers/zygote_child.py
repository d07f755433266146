"""A chunk's render process as its zygote forked it (``ZygoteChild``), and taking the segment
it wrote out of the zygote's scratch (``take``): what ``workers.sandbox`` waits on and collects,
as it does a fresh render process (``workers.child``)."""

from __future__ import annotations

import os
import shutil
import stat
from typing import TYPE_CHECKING

from workers.atomic import write_error

if TYPE_CHECKING:  # workers.zygote imports this module: the type only
    from workers.zygote import Zygote

#: Seconds a zygote may take to answer a message (fork a chunk, kill one).
ANSWER_TIMEOUT = 10.0


class ZygoteChild:
    """A chunk's render process forked by a zygote, as ``workers.child.Child`` is used."""

    def __init__(self, zygote: Zygote, chunk: str, fd: int) -> None:
        self.zygote = zygote
        self.chunk = chunk
        self.fd = fd
        self.status: int | None = None

    def poll(self) -> int | None:
        """The exit status if the render process has ended, else None."""
        if self.status is None:
            self.status = self.zygote.exit_of(self.chunk, 0.0)
        return self.status

    def wait(self, timeout: float | None = None) -> int:
        """Wait for it to end; TimeoutError after ``timeout`` seconds."""
        if self.status is None:
            self.status = self.zygote.exit_of(self.chunk, 1e9 if timeout is None else timeout)
        if self.status is None:
            raise TimeoutError(f"chunk {self.chunk} still runs after {timeout} s")
        return self.status

    def kill(self) -> None:
        """SIGKILL the render process (its whole session)."""
        if self.poll() is None:
            self.zygote.kill(self.chunk)

    def close(self) -> None:
        """Kill it if it still runs, wait for its end (killing the zygote if need be), close the
        pipe."""
        self.kill()
        try:
            self.wait(ANSWER_TIMEOUT)
        except TimeoutError:
            self.zygote.terminate()
            self.status = -9
        os.close(self.fd)


def take(folder: str, output: str) -> None:
    """Move the segment a zygote's render process wrote in ``folder`` to ``output`` (the
    chunk's own scratch); a missing or odd file is left for the caller to refuse."""
    inside = os.path.join(folder, os.path.basename(output))
    try:
        if not stat.S_ISREG(os.lstat(inside).st_mode):
            return
    except FileNotFoundError:
        return
    try:
        shutil.move(inside, output)
    except OSError as exc:
        raise write_error("the chunk's segment", exc, output) from exc
