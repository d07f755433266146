"""Measuring benchmark processes and the machine under them.

A subprocess is timed three ways at once (``run_timed``): wall time (``perf_counter`` around it:
what a user waits for), the CPU seconds of it and all its children (``RUSAGE_CHILDREN``, which
shared-machine noise barely moves), and how many cores' worth of CPU other processes and the
hypervisor took meanwhile (``/proc/stat``). ``wait_for_quiet`` waits for the others to settle
before a run; ``machine`` and ``media_machine`` describe the machine for the results.
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Other processes' CPU use (cores) below which the machine counts as quiet before a run.
QUIET_CORES = 0.3


@dataclass(frozen=True)
class Timed:
    """A finished subprocess and what it cost."""

    done: subprocess.CompletedProcess[str]
    wall: float  # seconds, perf_counter around the process
    cpu: float  # user + system seconds of the process and every child it reaped
    others_cores: float  # cores' worth of CPU that other processes used meanwhile
    steal_cores: float  # cores' worth of CPU that the hypervisor took meanwhile


def run_timed(cmd: Sequence[str], env: dict[str, str] | None = None) -> Timed:
    """Run a command to the end (output captured as text) and measure it."""
    cpu_before, busy_before = children_cpu(), machine_cpu()
    began = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - began
    cpu = children_cpu() - cpu_before
    busy, steal = (after - before for after, before in zip(machine_cpu(), busy_before, strict=True))
    return Timed(done, wall, cpu, max(0.0, busy - cpu) / wall, steal / wall)


def children_cpu() -> float:
    """User + system CPU seconds of every reaped descendant of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_cpu() -> tuple[float, float]:
    """CPU seconds all processes of this machine used since boot, and the VM's steal time."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def wait_for_quiet(limit: float) -> tuple[float, float]:
    """Wait up to `limit` s for 2 s in a row of other processes using < QUIET_CORES cores.

    Returns the seconds waited and the last level seen (cores' worth of CPU).
    """
    began = time.monotonic()
    calm, level = 0, 0.0
    while limit > 0:
        before = machine_cpu()[0]
        time.sleep(1.0)
        level = machine_cpu()[0] - before  # this process only sleeps meanwhile
        calm = calm + 1 if level < QUIET_CORES else 0
        if calm >= 2 or time.monotonic() - began >= limit:
            break
    return round(time.monotonic() - began, 1), round(level, 2)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (else what platform says, else "unknown")."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """nproc, CPU model, Python version."""
    return {"nproc": os.cpu_count(), "cpu": cpu_model(), "python": platform.python_version()}


def media_machine() -> dict[str, Any]:
    """machine() plus the PyAV and libavcodec versions."""
    import av

    return {
        **machine(),
        "pyav": av.__version__,
        "pyav_libavcodec": ".".join(map(str, av.library_versions["libavcodec"])),
    }
