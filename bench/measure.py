"""Measuring benchmark processes and the machine under them.

A subprocess is timed three ways at once (``run_timed``): wall time (``perf_counter`` around it:
what a user waits for), the CPU seconds of it and all its children (``RUSAGE_CHILDREN``, which
shared-machine noise barely moves), and how many cores' worth of CPU other processes and the
hypervisor took meanwhile (``/proc/stat``). ``wait_for_quiet`` waits for the others to settle
before a run; ``machine`` and ``media_machine`` describe the machine for the results.

``TreeSampler`` follows a process tree through /proc while it runs (for
``bench.whole_process.run_tree``): the last ``/proc/<pid>/stat`` utime + stime seen of every
process in it, ~50 ms apart (orphans stay in it by pid and start time, or by being adopted
by this process, a subreaper meanwhile: ``subreaper``), and memory: the peak of the sum of
``Pss`` (``/proc/<pid>/smaps_rollup``, read as often as PSS_SHARE allows) over the live tree,
in which shared pages (forked workers, libraries) are divided among the processes that share
them instead of counted once per process as a ``VmRSS`` sum does (also kept, every sample),
and the largest ``VmHWM`` seen (the largest single process).
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Other processes' CPU use (cores) below which the machine counts as quiet before a run.
QUIET_CORES = 0.3
#: Seconds between two samples of the process tree.
INTERVAL = 0.05
#: Share of one core the Pss readings may take: smaps_rollup walks the page tables (~2.5 ms
#: per 600 MiB process), so Pss is read again only after its last reading took this share.
PSS_SHARE = 0.02
_PR_SET_CHILD_SUBREAPER = 36
_TICK = os.sysconf("SC_CLK_TCK")


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
    pipe = subprocess.PIPE
    with subprocess.Popen(cmd, stdout=pipe, stderr=pipe, text=True, env=env) as proc:
        try:
            stdout, stderr = proc.communicate()
        except BaseException:
            stop_child(proc)
            raise
    done = subprocess.CompletedProcess(list(cmd), proc.returncode, stdout, stderr)
    wall = time.perf_counter() - began
    cpu = children_cpu() - cpu_before
    busy, steal = (after - before for after, before in zip(machine_cpu(), busy_before, strict=True))
    return Timed(done, wall, cpu, max(0.0, busy - cpu) / wall, steal / wall)


def stop_child(proc: subprocess.Popen[str], grace: float = 15.0) -> None:
    """SIGTERM a child (the CLI turns it into an orderly stop of its private cluster), then
    SIGKILL it if it has not ended within `grace` s; reaped either way."""
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


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


def _read(path: str) -> bytes | None:
    # os.open/os.read: a /proc file in one system call, no buffered-file overhead per sample.
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, 8192)
    except OSError:
        return None
    finally:
        os.close(fd)


def _stat(pid: int) -> tuple[int, int, int, str] | None:
    """(ppid, start time, utime + stime in ticks, name) from /proc/<pid>/stat, None if gone."""
    raw = _read(f"/proc/{pid}/stat")
    if raw is None:
        return None
    # The name in parentheses may contain anything: split after its last ")".
    close = raw.rfind(b")")
    fields = raw[close + 2 :].split()
    name = raw[raw.find(b"(") : close + 1].decode(errors="replace")
    return int(fields[1]), int(fields[19]), int(fields[11]) + int(fields[12]), name


def _fields_kib(pid: int, name: str, *keys: bytes) -> list[int]:
    """The values of "Key:  N kB" lines of /proc/<pid>/<name>; 0 if absent (zombie) or gone."""
    raw = _read(f"/proc/{pid}/{name}") or b""
    found = [raw.find(b"\n" + key) for key in keys]
    return [int(raw[at:].split(maxsplit=2)[1]) if at >= 0 else 0 for at in found]


class TreeSampler(threading.Thread):
    """Samples the process tree under `root` (a child of ours) every `interval` s until stopped.

    Every sample reads /proc/<pid>/stat of the tree and of processes new since the last sample
    (others are remembered by pid and /proc inode, new for a new process) and VmRSS, VmHWM
    from status; Pss from smaps_rollup when PSS_SHARE allows.
    """

    def __init__(self, root: int, interval: float = INTERVAL) -> None:
        super().__init__(name=f"tree-sampler-{root}", daemon=True)
        self.root, self.me, self.interval = root, os.getpid(), interval
        self.root_start: int | None = None
        self.cpu_ticks: dict[tuple[int, int], int] = {}  # (pid, start time) -> last utime+stime
        self.names: dict[int, str] = {}
        self.hwm_kib: dict[tuple[int, int], int] = {}  # last VmHWM seen of every process
        self.tracked: dict[int, int] = {}  # pid -> start time of every tree process seen
        self.orphans: set[int] = set()  # tree processes seen adopted by us
        self.peak_pss_kib = self.peak_rss_kib = self.samples = self.pss_samples = 0
        self._pss_due = 0.0  # perf_counter time from which Pss may be read again
        self.own_cpu = 0.0
        self._others: dict[int, int] = {}  # pid -> /proc inode of processes not in the tree
        self._done = threading.Event()

    def run(self) -> None:
        """Sample until stop() is called."""
        began = time.thread_time()
        while True:
            self.sample()
            if self._done.wait(self.interval):
                break
        self.own_cpu = time.thread_time() - began

    def stop(self) -> None:
        """End the sampling loop after the current sample."""
        self._done.set()

    def sample(self) -> list[int]:
        """Take one sample; return the live (not zombie) processes of the tree."""
        stats: dict[int, tuple[int, int, int, str]] = {}
        inodes: dict[int, int] = {}
        with os.scandir("/proc") as entries:
            for entry in entries:
                if not entry.name.isdigit():
                    continue
                pid, inode = int(entry.name), entry.inode()
                if self._others.get(pid) == inode and pid not in self.tracked:
                    continue
                found = _stat(pid)
                if found is not None:
                    stats[pid], inodes[pid] = found, inode
        if self.root_start is None and self.root in stats:
            self.root_start = stats[self.root][1]
        children: dict[int, list[int]] = {}
        for pid, (ppid, _, _, _) in stats.items():
            children.setdefault(ppid, []).append(pid)
        # Orphans leave the tree by pid: follow every pid seen before, and what we adopted.
        seen = (pid for pid, start in self.tracked.items() if stats.get(pid, (0, -1))[1] == start)
        pending = [self.root, *seen]
        if self.root_start is not None:
            adopted = (p for p in children.get(self.me, ()) if stats[p][1] >= self.root_start)
            pending.extend(adopted)
        tree: set[int] = set()
        while pending:
            pid = pending.pop()
            if pid not in tree and pid in stats:
                tree.add(pid)
                pending.extend(children.get(pid, ()))
        for pid in stats.keys() - tree:
            self._others[pid] = inodes[pid]
        live, rss = [], 0
        for pid in tree:
            ppid, start, ticks, self.names[pid] = stats[pid]
            self.tracked[pid] = start
            self.cpu_ticks[(pid, start)] = ticks
            if ppid == self.me and pid != self.root:
                self.orphans.add(pid)
            proc_rss, hwm = _fields_kib(pid, "status", b"VmRSS:", b"VmHWM:")
            if proc_rss:
                live.append(pid)
                self.hwm_kib[(pid, start)] = hwm
            rss += proc_rss
        self.peak_rss_kib = max(self.peak_rss_kib, rss)
        now = time.perf_counter()
        if now >= self._pss_due:
            # The reading's CPU time, not its wall time: waiting for a busy CPU costs nothing.
            cost = time.thread_time()
            pss = sum(_fields_kib(pid, "smaps_rollup", b"Pss:")[0] for pid in live)
            self.peak_pss_kib = max(self.peak_pss_kib, pss)
            self._pss_due = now + (time.thread_time() - cost) / PSS_SHARE
            self.pss_samples += 1
        self.samples += 1
        return live

    @property
    def cpu(self) -> float:
        """CPU seconds of the tree: the last value seen of every process, summed."""
        return sum(self.cpu_ticks.values()) / _TICK


def subreaper(on: bool) -> None:
    """Make this process adopt orphaned descendants (Linux), so that they stay in the tree."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_CHILD_SUBREAPER, int(on))
