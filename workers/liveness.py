"""A chunk's "still alive" reports while its render process works on a slow frame.

A chunk reports progress once per frame; one legitimately slow frame (an 8K frame with a heavy
blur on a small node: over a minute) reported nothing for longer than the orchestrator's stall
limit (orchestrator.health.STALLED_SECONDS), so the chunk was taken for stalled, rendered again
on another node, and after three nodes failed its job. Here a timer reports the chunk alive
every ALIVE_SECONDS while the render's processes (this process's descendants: the forked
child, or bubblewrap and the Python under it) used CPU since the last look. A hung render (a
deadlock, a read blocked on a dead mount) uses none: it stops reporting and is still a stall.

A render that works without ever making a frame (a demuxer or decoder looping on hostile media)
would report alive until the task's hard time limit: ``FrameClock`` gives each frame
``no_frame_limit`` seconds (at least NO_FRAME_FLOOR, and NO_FRAME_FACTOR times the frame's
expected or the chunk's longest measured frame time), after which the chunk fails
(``workers.chunk_limits.ChunkSpinning``) naming the clips and files of the frame it was on.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator

from chunking.complexity import frame_costs, sample_frames
from chunking.timeline.model import FileSource, Timeline
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


#: A render that keeps working without a new frame for this long is spinning (a demuxer or a
#: decoder looping on hostile media): the alive reports above kept such a chunk "running" until
#: the task's hard time limit (hours). Ten minutes is ten times the longest legitimate frame
#: known (an 8K frame under a heavy blur on a slow node: over a minute), and covers a chunk's
#: set-up before its first frame (each source's open, bounded at 60 s by
#: ``workers.open_watchdog``, and the decode from a keyframe to the chunk's first frame).
NO_FRAME_FLOOR = 600.0
#: ... and at least this many times the longest frame expected or already seen in the chunk.
NO_FRAME_FACTOR = 10.0
#: Seconds per complexity unit (``chunking.complexity``) of the slowest node a chunk may land
#: on: ten times the prior that estimates start from (``orchestrator.costing``, 0.025 s/unit).
SLOW_SECONDS_PER_UNIT = 0.25
#: Frames of a chunk whose cost is looked at for its expected frame time.
ESTIMATE_SAMPLES = 32


def no_frame_limit(expected: float, longest: float) -> float:
    """Seconds without a new frame after which a working render counts as spinning, for a
    chunk whose frames are ``expected`` to take that long and took at most ``longest``."""
    return max(NO_FRAME_FLOOR, NO_FRAME_FACTOR * max(expected, longest))


def expected_frame_seconds(timeline: Timeline, start: int, end: int) -> float:
    """Seconds the costliest of frames [start, end) may take on the slowest node (its cost in
    complexity units times SLOW_SECONDS_PER_UNIT)."""
    picks = [start + i for i in sample_frames(end - start, ESTIMATE_SAMPLES)]
    try:
        costs = frame_costs(timeline, picks)
    except (ValueError, ArithmeticError):  # a model that cannot price it: the floor decides
        return 0.0
    return max(costs, default=0.0) * SLOW_SECONDS_PER_UNIT


class FrameClock:
    """When a chunk's render last made a new frame, and whether it went too long without."""

    def __init__(self, expected: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.expected = expected
        self.clock = clock
        self.done = 0
        self.last = clock()
        self.longest = 0.0  # the longest wait for a frame so far (the first's set-up included)

    def frame(self, done: int) -> None:
        """The render reported ``done`` frames; only a new one restarts the clock."""
        if done <= self.done:
            return
        now = self.clock()
        self.longest = max(self.longest, now - self.last)
        self.done, self.last = done, now

    def limit(self) -> float:
        """Seconds the current frame may take (``no_frame_limit``)."""
        return no_frame_limit(self.expected, self.longest)

    def overdue(self) -> float | None:
        """Seconds since the last new frame when over ``limit()``, else None."""
        waited = self.clock() - self.last
        return waited if waited > self.limit() else None


def frame_sources(timeline: Timeline, frame: int) -> str:
    """The clips drawn at ``frame`` and the files they read, for an error naming them."""
    named = []
    for track in timeline.tracks:
        for clip in track.clips:
            if clip.start <= frame < clip.end:
                source = clip.source
                where = f" ({source.path})" if isinstance(source, FileSource) else ""
                named.append(f"clip '{clip.id}'{where}")
    return ", ".join(named) or "no clip"
