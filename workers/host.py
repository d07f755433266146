"""This node's CPU, memory and network use, from /proc.

A worker adds these to its heartbeat (so each node's own resources show in the metrics), and
the exporter and dashboard read the host they run on. Parsing is pure; only HostSampler reads.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from workers.gpus import mean_utilization


@dataclass(frozen=True)
class HostSample:
    """Raw /proc counters at one moment."""

    at: float  # monotonic seconds
    cpu_busy: int | None  # jiffies
    cpu_total: int | None
    memory_total: int | None  # bytes
    memory_available: int | None
    rx_bytes: int | None
    tx_bytes: int | None


@dataclass(frozen=True)
class HostStats:
    """Host resource use between two samples (memory: at the later one)."""

    cpu_utilization_percent: float | None
    memory_used_bytes: int | None
    memory_total_bytes: int | None
    network_receive_bytes_per_second: float | None
    network_transmit_bytes_per_second: float | None


def parse_cpu(stat: str) -> tuple[int, int] | None:
    """(busy, total) jiffies from /proc/stat's aggregate ``cpu`` line."""
    for line in stat.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            # user nice system idle iowait irq softirq steal; guest time is already in user.
            values = [int(v) for v in parts[1:9]]
            if len(values) < 4:
                return None
            total = sum(values)
            idle = values[3] + (values[4] if len(values) > 4 else 0)
            return total - idle, total
    return None


def parse_meminfo(meminfo: str) -> tuple[int, int] | None:
    """(total, available) bytes from /proc/meminfo."""
    found: dict[str, int] = {}
    for line in meminfo.splitlines():
        name, _, rest = line.partition(":")
        fields = rest.split()
        if name in ("MemTotal", "MemAvailable") and fields:
            scale = 1024 if len(fields) > 1 and fields[1] == "kB" else 1
            found[name] = int(fields[0]) * scale
    if "MemTotal" not in found or "MemAvailable" not in found:
        return None
    return found["MemTotal"], found["MemAvailable"]


def parse_net_dev(netdev: str) -> tuple[int, int] | None:
    """(received, transmitted) bytes summed over interfaces other than loopback."""
    rx = tx = 0
    seen = False
    for line in netdev.splitlines():
        name, sep, rest = line.partition(":")
        if not sep or name.strip() == "lo":
            continue  # header lines have no colon; loopback traffic never leaves the host
        fields = rest.split()
        if len(fields) < 9:
            continue
        rx += int(fields[0])
        tx += int(fields[8])
        seen = True
    return (rx, tx) if seen else None


def host_sample(stat: str | None, meminfo: str | None, netdev: str | None, at: float) -> HostSample:
    """A sample from the texts of /proc/stat, /proc/meminfo and /proc/net/dev (None: unreadable)."""
    cpu = parse_cpu(stat) if stat is not None else None
    mem = parse_meminfo(meminfo) if meminfo is not None else None
    net = parse_net_dev(netdev) if netdev is not None else None
    return HostSample(
        at=at,
        cpu_busy=cpu[0] if cpu else None,
        cpu_total=cpu[1] if cpu else None,
        memory_total=mem[0] if mem else None,
        memory_available=mem[1] if mem else None,
        rx_bytes=net[0] if net else None,
        tx_bytes=net[1] if net else None,
    )


def host_stats(before: HostSample, after: HostSample) -> HostStats:
    """Rates between two samples; None where either lacks a counter or no time passed."""
    cpu: float | None = None
    if (
        before.cpu_busy is not None
        and before.cpu_total is not None
        and after.cpu_busy is not None
        and after.cpu_total is not None
        and after.cpu_total > before.cpu_total
    ):
        busy = max(0, after.cpu_busy - before.cpu_busy)
        cpu = min(100.0, 100.0 * busy / (after.cpu_total - before.cpu_total))
    elapsed = after.at - before.at
    rx = tx = None
    if elapsed > 0 and None not in (before.rx_bytes, after.rx_bytes, before.tx_bytes):
        assert before.rx_bytes is not None and after.rx_bytes is not None
        assert before.tx_bytes is not None and after.tx_bytes is not None
        # A counter that went down (interface reset) says nothing about this interval.
        if after.rx_bytes >= before.rx_bytes and after.tx_bytes >= before.tx_bytes:
            rx = (after.rx_bytes - before.rx_bytes) / elapsed
            tx = (after.tx_bytes - before.tx_bytes) / elapsed
    used = total = None
    if after.memory_total is not None and after.memory_available is not None:
        total = after.memory_total
        used = after.memory_total - after.memory_available
    return HostStats(cpu, used, total, rx, tx)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None  # not Linux, or /proc hidden: those metrics stay unknown


class HostSampler:
    """Keeps the previous /proc sample so each read reports rates since the last one."""

    def __init__(self, proc: str | Path = "/proc", first_interval: float = 0.1) -> None:
        self.proc = Path(proc)
        self.first_interval = first_interval
        self._last: HostSample | None = None
        self._lock = threading.Lock()

    def sample(self) -> HostSample:
        """Read /proc now."""
        return host_sample(
            _read(self.proc / "stat"),
            _read(self.proc / "meminfo"),
            _read(self.proc / "net" / "dev"),
            time.monotonic(),
        )

    def prime(self) -> None:
        """Take the first sample now (unless taken): the first ``read`` then measures since
        this moment instead of waiting ``first_interval`` for a second sample."""
        with self._lock:
            if self._last is None:
                self._last = self.sample()

    def read(self) -> HostStats:
        """Resource use since the previous read (the first read measures over first_interval)."""
        with self._lock:
            if self._last is None:
                # Rates need two samples; wait briefly once rather than report nothing.
                self._last = self.sample()
                time.sleep(self.first_interval)
            current = self.sample()
            stats = host_stats(self._last, current)
            self._last = current
            return stats

    def fields(self) -> dict[str, float | int]:
        """Resource fields a worker may add to its heartbeat (read by collect_node_metrics)."""
        stats = self.read()
        values = {
            "cpu_percent": stats.cpu_utilization_percent,
            "memory_used_bytes": stats.memory_used_bytes,
            "memory_total_bytes": stats.memory_total_bytes,
            # NVML's mean over this host's GPUs; absent on CPU-only nodes (NVML init is cached)
            "gpu_percent": mean_utilization(),
        }
        return {k: v for k, v in values.items() if v is not None}
