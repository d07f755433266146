"""This node's resources from /proc: parsing as tables, rates between two samples."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from workers.host import (
    HostSample,
    HostSampler,
    host_sample,
    host_stats,
    parse_cpu,
    parse_meminfo,
    parse_net_dev,
)

STAT_1 = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 100 0 50 800 50 0 0 0 0 0\nintr 1 2\n"
STAT_2 = "cpu  160 0 70 900 70 0 0 0 0 0\ncpu0 160 0 70 900 70 0 0 0 0 0\nintr 1 2\n"
MEMINFO = "MemTotal:       16000 kB\nMemFree:         1000 kB\nMemAvailable:    4000 kB\n"
NETDEV_HEAD = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop"
    " fifo colls carrier compressed\n"
)


def netdev(eth_rx: int, eth_tx: int, lo: int = 999) -> str:
    return (
        NETDEV_HEAD
        + f"    lo: {lo} 10 0 0 0 0 0 0 {lo} 10 0 0 0 0 0 0\n"
        + f"  eth0: {eth_rx} 5 0 0 0 0 0 0 {eth_tx} 7 0 0 0 0 0 0\n"
        + "  eth1: 100 1 0 0 0 0 0 0 50 1 0 0 0 0 0 0\n"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (STAT_1, (150, 1000)),  # busy = user + nice + system + irq + softirq + steal
        ("cpu  1 2 3 4\n", (6, 10)),  # old kernels: four fields, no iowait
        ("intr 1 2\n", None),
        ("", None),
    ],
)
def test_parse_cpu(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_cpu(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MEMINFO, (16000 * 1024, 4000 * 1024)),
        ("MemTotal: 10 kB\n", None),  # no MemAvailable: used memory is unknown, not guessed
    ],
)
def test_parse_meminfo(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_meminfo(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (netdev(1000, 2000), (1100, 2050)),  # loopback left out, other interfaces summed
        (NETDEV_HEAD + "    lo: 5 1 0 0 0 0 0 0 5 1 0 0 0 0 0 0\n", None),
    ],
)
def test_parse_net_dev(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_net_dev(text) == expected


@pytest.mark.parametrize(
    ("before", "after", "cpu", "rx", "tx"),
    [
        # 200 jiffies passed, 80 of them busy; 2 s between samples
        ((STAT_1, netdev(1000, 2000), 10.0), (STAT_2, netdev(5000, 2400), 12.0), 40.0, 2000, 200),
        # no time and no jiffies passed: no rate rather than a division by zero
        ((STAT_1, netdev(1000, 2000), 10.0), (STAT_1, netdev(1000, 2000), 10.0), None, None, None),
        # a counter went backwards (interface reset): this interval says nothing
        ((STAT_1, netdev(5000, 2000), 10.0), (STAT_2, netdev(10, 2400), 12.0), 40.0, None, None),
        # unreadable /proc/net/dev
        ((STAT_1, None, 10.0), (STAT_2, None, 12.0), 40.0, None, None),
    ],
)
def test_host_rates_between_two_samples(
    before: tuple[str, str | None, float],
    after: tuple[str, str | None, float],
    cpu: float | None,
    rx: float | None,
    tx: float | None,
) -> None:
    first = host_sample(before[0], MEMINFO, before[1], before[2])
    second = host_sample(after[0], MEMINFO, after[1], after[2])
    stats = host_stats(first, second)
    assert stats.cpu_utilization_percent == (pytest.approx(cpu) if cpu is not None else None)
    assert stats.network_receive_bytes_per_second == rx
    assert stats.network_transmit_bytes_per_second == tx
    assert stats.memory_total_bytes == 16000 * 1024
    assert stats.memory_used_bytes == 12000 * 1024


def test_host_sampler_reads_fake_proc(tmp_path: Path) -> None:
    (tmp_path / "net").mkdir()
    (tmp_path / "stat").write_text(STAT_1)
    (tmp_path / "meminfo").write_text(MEMINFO)
    (tmp_path / "net" / "dev").write_text(netdev(0, 0))
    sampler = HostSampler(tmp_path, first_interval=0.01)
    first = sampler.read()  # both samples equal: no CPU time passed
    assert first.cpu_utilization_percent is None
    assert first.network_receive_bytes_per_second == 0
    (tmp_path / "stat").write_text(STAT_2)
    assert sampler.read().cpu_utilization_percent == pytest.approx(40.0)
    assert sampler.fields() == {
        "memory_used_bytes": 12000 * 1024,
        "memory_total_bytes": 16000 * 1024,
    }


def test_host_sampler_without_proc(tmp_path: Path) -> None:
    stats = HostSampler(tmp_path / "absent", first_interval=0).read()
    assert stats == host_stats(
        HostSample(0, None, None, None, None, None, None),
        HostSample(1, None, None, None, None, None, None),
    )


def test_a_primed_sampler_reads_at_once_since_its_priming(tmp_path: Path) -> None:
    # A worker primes its sampler at its start: its first heartbeat must not wait for a sample
    (tmp_path / "net").mkdir()
    (tmp_path / "stat").write_text(STAT_1)
    (tmp_path / "meminfo").write_text(MEMINFO)
    (tmp_path / "net" / "dev").write_text(netdev(0, 0))
    sampler = HostSampler(tmp_path, first_interval=5)
    sampler.prime()
    (tmp_path / "stat").write_text(STAT_2)  # CPU time used between the start and the beat
    began = time.monotonic()
    assert sampler.read().cpu_utilization_percent == pytest.approx(40.0)
    assert time.monotonic() - began < 1
