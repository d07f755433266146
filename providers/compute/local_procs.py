"""The ``local`` engine's view of processes through ``/proc``: start times, process groups.

A node is told from another process that later got its pid by its start time (field 22 of
``/proc/<pid>/stat``); a node's workers are its process group. Linux only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

#: Seconds between looks while waiting for processes to go.
POLL_SECONDS = 0.05
PROC = Path("/proc")


def stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/<pid>/stat after the command name (field 3 onwards), or None."""
    try:
        stat = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # The command name in parentheses may contain anything: split after its last ")".
    return stat[stat.rfind(b")") + 2 :].split()


def start_ticks(pid: int) -> int:
    """A process's start time in clock ticks since boot (field 22); -1 if it is gone."""
    fields = stat_fields(pid)
    return int(fields[19]) if fields is not None and len(fields) > 19 else -1


def ticks_to_epoch(ticks: int) -> float:
    """Clock ticks since boot as epoch seconds (now less how long ago that was: /proc/stat's
    boot time is whole seconds)."""
    try:
        uptime = float((PROC / "uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return time.time()
    return time.time() - max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))


def live_groups(groups: set[int]) -> set[int]:
    """Those of `groups` (process group ids) that still have a live, not zombie, member."""
    found: set[int] = set()
    if not groups:
        return found
    with contextlib.suppress(OSError), os.scandir(PROC) as entries:
        for entry in entries:
            fields = stat_fields(int(entry.name)) if entry.name.isdigit() else None
            if fields and len(fields) > 2 and fields[0] not in (b"Z", b"X"):
                if int(fields[2]) in groups:
                    found.add(int(fields[2]))
    return found


def kill_groups(groups: set[int]) -> None:
    """SIGKILL every process of `groups` (process group ids) still there."""
    for group in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll `condition` until true or `timeout` seconds; whether it came true."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return condition()
        time.sleep(POLL_SECONDS)
    return True
