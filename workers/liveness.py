"""A chunk's "still alive" reports while its render process works on a slow frame.

A chunk reports progress once per frame; one legitimately slow frame (an 8K frame with a heavy
blur on a small node: over a minute) reported nothing for longer than the orchestrator's stall
limit (orchestrator.health.STALLED_SECONDS), so the chunk was taken for stalled, rendered again
on another node, and after three nodes failed its job. Here a timer reports the chunk alive
every ALIVE_SECONDS while the render's processes (this process's descendants: the forked
child, or bubblewrap and the Python under it) used CPU since the last look. A hung render (a
deadlock, a read blocked on a dead mount) uses none: it stops reporting and is still a stall.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

from workers.task_support import renewing

#: Seconds between two looks at the render's CPU time, each a report when it grew: well inside
#: orchestrator.health.STALLED_SECONDS (60), as the fetch and upload phases' reports are.
ALIVE_SECONDS = 15.0
#: CPU seconds the render must have used since the last look to count as working.
MIN_CPU_SECONDS = 0.05

_PROC = "/proc"


def _stat(pid: str) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used) of a process, from /proc; None when it is gone."""
    try:
        with open(os.path.join(_PROC, pid, "stat"), "rb") as handle:
            raw = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = raw[raw.rfind(")") + 2 :].split()
    if len(fields) < 13:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks


def descendants_cpu(root: int) -> float | None:
    """CPU seconds the live descendants of process ``root`` used (not ``root`` itself); None
    where /proc cannot tell (another system)."""
    try:
        names = [n for n in os.listdir(_PROC) if n.isdigit()]
    except OSError:
        return None
    stats = {int(n): s for n in names if (s := _stat(n)) is not None}
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    total, todo = 0.0, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


class BusyProbe:
    """Whether the render processes under ``root`` used CPU since the last call."""

    def __init__(self, root: int | None = None) -> None:
        self.root = os.getpid() if root is None else root
        self._last: float | None = None

    def busy(self) -> bool:
        """True when the descendants' CPU time grew by MIN_CPU_SECONDS since the last call."""
        used = descendants_cpu(self.root)
        if used is None:
            return False  # cannot tell: no report, as before (a slow frame may be a stall)
        # A child that exited took its CPU time with it: a drop is no evidence of work.
        grew = self._last is not None and used - self._last >= MIN_CPU_SECONDS
        self._last = used
        return grew


@contextlib.contextmanager
def alive_while_busy(
    report: Callable[[], None],
    interval: float | None = None,
    probe: Callable[[], bool] | None = None,
) -> Iterator[None]:
    """Within the block, call ``report`` every ``interval`` seconds (ALIVE_SECONDS) in which
    ``probe`` (by default: this process's descendants used CPU) says the render is working."""
    interval = ALIVE_SECONDS if interval is None else interval
    probe = probe or BusyProbe().busy
    probe()  # the first look sets the baseline

    def look() -> None:
        if probe():
            report()

    with renewing(look, interval):
        yield
