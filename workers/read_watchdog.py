"""A watchdog on reading files after they are open: a read that never returns is a clear error.

``workers.open_watchdog`` bounds each open of a source, but a mount can stop answering after
the open, mid-file: the next ``read`` then blocks in the kernel for ever and the command hangs
without a word (``validate``, a ``--direct`` render; a cluster's chunk until the failover took
its silence for a stall, without naming the file: its render process is watched too,
``workers.render_process``). A blocked ``read`` cannot be interrupted from Python, nor run in
a thread of its own without routing every read of FFmpeg through Python. So here a thread looks
at the watched thread from outside, in ``/proc``: the system call it waits in, the file that call
reads (its descriptor's link) and the bytes it has read in all (``rchar`` of its ``io``). When it
sits in one read of one regular file for ``READ_SECONDS`` without a byte read in between, the
read is stuck, and ``on_stuck(path, seconds)`` is called once (the command line prints its
one-line error and exits; the process could do nothing else).

Pipes, sockets, terminals and devices are never judged stuck: waiting on them is normal.
"""

from __future__ import annotations

import contextlib
import os
import platform
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from workers.open_watchdog import OPEN_SECONDS

#: Seconds one read of a file may wait: as long as an open may (a minute of silence from a
#: local disk or a live share does not happen; a stuck mount stays silent for ever).
READ_SECONDS = OPEN_SECONDS
#: Seconds one read of a cluster chunk's render may wait: under the failover's stall limit
#: (``orchestrator.health.STALLED_SECONDS``, 60 s), so the chunk fails naming the file before
#: its silence is taken for a stalled node's (requeued, and after three nodes its job failed
#: with "chunk made no progress", the file unnamed).
CHUNK_READ_SECONDS = 40.0
#: Seconds between two looks (a look reads three small /proc files).
LOOK_SECONDS = 1.0

_PROC = "/proc"
#: The system calls that read a descriptor given as their first argument, by machine: read,
#: pread64, readv, preadv, preadv2, and fstat and lseek (which wait on a stuck mount too).
_READS = {
    "x86_64": frozenset({0, 17, 19, 295, 327, 5, 8}),
    "aarch64": frozenset({63, 67, 65, 69, 286, 80, 62}),
}
#: Links of descriptors a thread may wait on for ever by design.
_NOT_FILES = ("/dev/", "/proc/", "/sys/")


@dataclass(frozen=True)
class Waiting:
    """What a thread waits in: the system call as /proc shows it, the file it reads, and the
    bytes the thread has read in all."""

    call: str
    path: str
    read: int


def waiting(tid: int, machine: str | None = None, proc: str = _PROC) -> Waiting | None:
    """What thread ``tid`` of this process waits in when that is a read of a regular file,
    else None (running, another system call, a pipe or device, or /proc unreadable)."""
    reads = _READS.get(machine or platform.machine())
    if reads is None:
        return None  # a machine whose system call numbers are not known here: never stuck
    task = os.path.join(proc, "self", "task", str(tid))
    try:
        with open(os.path.join(task, "syscall"), encoding="ascii") as handle:
            call = handle.read().strip()
        fields = call.split()
        if len(fields) < 2 or not fields[0].isdigit() or int(fields[0]) not in reads:
            return None
        # The descriptor's link only: a stat of the file would hang on the mount as well.
        path = os.readlink(os.path.join(proc, "self", "fd", str(int(fields[1], 16))))
        with open(os.path.join(task, "io"), encoding="ascii") as handle:
            counters = dict(line.split(": ", 1) for line in handle.read().splitlines())
        read = int(counters["rchar"])
    except (OSError, ValueError, KeyError):
        return None
    if not path.startswith("/") or path.startswith(_NOT_FILES):
        return None  # a pipe, socket or anonymous file ("pipe:[123]"), a terminal, a device
    return Waiting(call, path.removesuffix(" (deleted)"), read)


def stuck_path(
    looks: list[tuple[float, Waiting | None]], seconds: float = READ_SECONDS
) -> str | None:
    """The file of a read stuck for ``seconds`` among ``looks`` (time, what the thread waited
    in; the latest last): the same call on the same file at every look that long, and not a
    byte read in between. None when there is none."""
    if not looks or looks[-1][1] is None:
        return None
    now, last = looks[-1]
    assert last is not None
    for at, seen in reversed(looks):
        if seen != last:
            return None
        if now - at >= seconds:
            return last.path
    return None


@contextlib.contextmanager
def watch_reads(
    on_stuck: Callable[[str, float], None],
    seconds: float | None = None,
    every: float | None = None,
    machine: str | None = None,
) -> Iterator[None]:
    """Watch the calling thread's reads of files while the block runs: ``on_stuck(path,
    seconds)`` is called, from the watching thread and once, when one waits ``seconds``
    (READ_SECONDS) without returning; the thread looks every ``every`` seconds (LOOK_SECONDS)."""
    seconds = READ_SECONDS if seconds is None else seconds
    every = LOOK_SECONDS if every is None else every
    tid = threading.get_native_id()
    done = threading.Event()

    def watch() -> None:
        looks: list[tuple[float, Waiting | None]] = []
        while not done.wait(every):
            looks.append((time.monotonic(), waiting(tid, machine)))
            if looks[-1][1] is None:
                looks.clear()
                continue
            path = stuck_path(looks, seconds)
            if path is not None:
                on_stuck(path, seconds)
                return
            if len(looks) > 2 and looks[-1][0] - looks[1][0] >= seconds:
                del looks[0]  # only the last `seconds` of looks are needed

    thread = threading.Thread(target=watch, name="read-watchdog", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(every + 1)


def stuck_read(path: str, seconds: float) -> str:
    """The one-line message of a read of ``path`` that did not return in ``seconds``."""
    return (
        f"reading {path} did not finish in {seconds:g} s: is it on a network mount that "
        "stopped answering? copy it to a local disk and use the copy"
    )
