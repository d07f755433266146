"""What a forked process must not take over from its parent's threads.

PyAV keeps one picture reformatter per thread, and with it an SwsContext whose slice threads
(swscale's own, when a conversion ran threaded) live only in the process that made them. A
process forked from a main thread that had converted pictures inherits that reformatter
without its threads, and the first conversion that sets it up again frees the slice threads:
pthread_cond_destroy then waits for ever on waiters that no longer exist (a chunk's render
hung until its watchdog). After a fork the child starts a reformatter of its own; the
inherited one is kept, never freed, as freeing it is the wait.
"""

from __future__ import annotations

import os
from typing import Any

from av.video import frame as _video_frame

#: Reformatters inherited through a fork: kept alive, as freeing one hangs.
_inherited: list[Any] = []


def _fresh_reformatter_after_fork() -> None:
    local: Any = getattr(_video_frame, "_thread_local", None)
    reformatter = getattr(local, "reformatter", None)
    if reformatter is not None:
        _inherited.append(reformatter)
        local.reformatter = None


os.register_at_fork(after_in_child=_fresh_reformatter_after_fork)
