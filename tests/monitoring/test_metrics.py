"""Render and node metrics: /proc and job maths as tables, collection on a private Redis, and
the exporter scraped over HTTP."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from monitoring import exporter
from monitoring.metrics import (
    METRIC_NAMES,
    PREFIX,
    HostSample,
    HostSampler,
    JobStats,
    collect_node_metrics,
    collect_render_metrics,
    host_sample,
    host_stats,
    job_stats,
    node_metrics,
    parse_cpu,
    parse_meminfo,
    parse_net_dev,
    queue_keys,
    queue_lengths,
)
from orchestrator import keys
from orchestrator.job_record import ChunkRecord, ChunkState, JobRecord, JobState
from orchestrator.job_store import JobStore

# -- /proc ----------------------------------------------------------------------------------------

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


# -- queues ---------------------------------------------------------------------------------------


def test_queue_keys_follow_kombu_priority_steps() -> None:
    assert queue_keys("render") == {
        "urgent": "render",
        "high": "render\x06\x163",
        "normal": "render\x06\x166",
        "low": "render\x06\x169",
    }


def test_queue_lengths_count_priority_sub_lists(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.rpush("render", "a")
    client.rpush("render\x06\x163", "b", "c")
    client.rpush("render\x06\x169", "d", "e", "f")
    client.rpush("merge\x06\x166", "g")
    lengths = queue_lengths(client)
    assert lengths["render"] == {"urgent": 1, "high": 2, "normal": 0, "low": 3}
    assert lengths["merge"] == {"urgent": 0, "high": 0, "normal": 1, "low": 0}
    assert sum(lengths["audio"].values()) == 0


# -- job maths ------------------------------------------------------------------------------------

NOW = 10_000.0


def chunk(
    index: int,
    state: ChunkState,
    *,
    frames: int = 10,
    node: str | None = "n1",
    attempts: int = 1,
    frames_done: int = 0,
    started_at: float | None = None,
    seconds: float | None = None,
) -> ChunkRecord:
    return ChunkRecord(
        index,
        index * frames,
        (index + 1) * frames,
        state=state,
        node=node,
        attempts=attempts,
        frames_done=frames_done,
        started_at=started_at,
        seconds=seconds,
    )


def job(
    job_id: str,
    state: JobState,
    *,
    frames: int = 0,
    cost: float = 0.0,
    started: float | None = None,
    finished: float | None = None,
    deadline: float | None = None,
    chunks: list[ChunkRecord] | None = None,
) -> JobRecord:
    return JobRecord(
        id=job_id,
        state=state,
        frames=frames,
        actual_cost=cost,
        started_at=started,
        finished_at=finished,
        deadline=deadline,
        chunks=chunks or [],
    )


@pytest.mark.parametrize(
    ("jobs", "success", "error", "miss_rate", "misses", "average"),
    [
        ([], None, None, None, 0, None),
        # cancelled jobs count in neither success nor error
        ([job("a", JobState.CANCELLED), job("b", JobState.RENDERING)], None, None, None, 0, None),
        (
            [
                job("a", JobState.COMPLETED, started=0, finished=10, deadline=20),
                job("b", JobState.COMPLETED, started=0, finished=30, deadline=20),
                job("c", JobState.COMPLETED, started=10, finished=30),
                job("d", JobState.FAILED, deadline=5, finished=50),
            ],
            0.75,
            0.25,
            0.5,  # one of two completed jobs with a deadline was late
            1,
            (10 + 30 + 20) / 3,
        ),
        (
            [job("a", JobState.FAILED), job("b", JobState.FAILED)],
            0.0,
            1.0,
            None,
            0,
            None,
        ),
    ],
)
def test_job_rates(
    jobs: list[JobRecord],
    success: float | None,
    error: float | None,
    miss_rate: float | None,
    misses: int,
    average: float | None,
) -> None:
    stats = job_stats(jobs, NOW)
    assert (stats.success_rate, stats.error_rate) == (success, error)
    assert (stats.deadline_miss_rate, stats.deadline_misses) == (miss_rate, misses)
    assert stats.average_job_seconds == (pytest.approx(average) if average is not None else None)


def test_throughput_retries_and_cost_per_frame() -> None:
    jobs = [
        job(
            "a",
            JobState.RENDERING,
            chunks=[
                chunk(0, ChunkState.RUNNING, frames_done=20, started_at=NOW - 10),  # 2 fps
                chunk(1, ChunkState.RUNNING, frames_done=5, started_at=NOW - 1, attempts=2),  # 5
                chunk(2, ChunkState.DONE, frames=10, seconds=4.0),
                chunk(3, ChunkState.DONE, frames=30, seconds=8.0, attempts=3),
                chunk(4, ChunkState.PENDING, attempts=0, node=None),
            ],
        ),
        job("b", JobState.COMPLETED, frames=100, cost=2.0),
        job("c", JobState.COMPLETED, frames=300, cost=6.0),
        job("d", JobState.FAILED, frames=1000, cost=50.0),  # failed work has no frames to show
    ]
    stats = job_stats(jobs, NOW)
    assert stats == JobStats(
        frames_per_second=pytest.approx(7.0),
        average_frame_seconds=pytest.approx(12.0 / 40),
        running_chunks=2,
        cost_per_frame=pytest.approx(8.0 / 400),
        success_rate=pytest.approx(2 / 3),
        error_rate=pytest.approx(1 / 3),
        retry_rate=0.5,  # two of the four started chunks ran more than once
        average_job_seconds=None,
        deadline_miss_rate=None,
        deadline_misses=0,
        jobs={
            "queued": 0,
            "planning": 0,
            "rendering": 1,
            "merging": 0,
            "completed": 2,
            "failed": 1,
            "cancelled": 0,
        },
    )


def test_node_metrics_from_heartbeats_and_chunks() -> None:
    beats = [
        {"name": "n2", "concurrency": 2, "pid": 7, "since": NOW - 50, "time": NOW - 1},
        {
            "name": "n1",
            "concurrency": 4,
            "pid": 5,
            "since": NOW - 100,
            "time": NOW - 2,
            "draining": True,
            "cpu_percent": 12.5,
            "memory_used_bytes": 10,
            "memory_total_bytes": 20,
        },
    ]
    jobs = [
        job(
            "a",
            JobState.RENDERING,
            chunks=[
                chunk(0, ChunkState.RUNNING, node="n1", started_at=NOW - 1),
                chunk(1, ChunkState.DONE, node="n1"),
                chunk(2, ChunkState.DONE, node="n2"),
                chunk(3, ChunkState.RETRYING, node="n2"),
                chunk(4, ChunkState.FAILED, node="gone"),  # a node no longer beating
            ],
        )
    ]
    n1, n2 = node_metrics(beats, jobs, NOW)
    assert (n1.name, n1.status, n1.concurrency, n1.pid) == ("n1", "draining", 4, 5)
    assert (n1.active_chunks, n1.completed_chunks, n1.failed_chunks) == (1, 1, 0)
    assert (n1.uptime_seconds, n1.last_heartbeat, n1.heartbeat_age_seconds) == (100, NOW - 2, 2)
    assert (n1.cpu_utilization_percent, n1.memory_used_bytes, n1.memory_total_bytes) == (
        12.5,
        10,
        20,
    )
    assert (n2.status, n2.active_chunks, n2.completed_chunks, n2.failed_chunks) == (
        "alive",
        0,
        1,
        1,
    )
    assert n2.cpu_utilization_percent is None


# -- against a private Redis ----------------------------------------------------------------------


@pytest.fixture
def store(redis_url: str) -> JobStore:
    """A store with two nodes, a rendering job, a completed late job, a failed job and billing."""
    s = JobStore.from_url(redis_url)
    now = time.time()
    rendering = JobRecord(id="r", state=JobState.QUEUED, frames=40, submitted_at=now - 30)
    s.create(rendering, {})
    s.set_chunks("r", [ChunkRecord(0, 0, 20), ChunkRecord(1, 20, 40)], {})
    s.transition("r", JobState.PLANNING)
    s.transition("r", JobState.RENDERING)
    s.chunk_started("r", 0, "node-a", "t0")
    s.chunk_done("r", 0, seconds=5.0)
    s.chunk_started("r", 1, "node-a", "t1")
    s.chunk_failed("r", 1, "boom", retrying=True)
    s.chunk_started("r", 1, "node-b", "t2")  # second attempt
    c1 = s.chunk("r", 1)
    c1.started_at, c1.frames_done = now - 4, 8
    s.save_chunk("r", c1)

    done = JobRecord(
        id="d", state=JobState.QUEUED, frames=100, submitted_at=now - 100, deadline=now - 50
    )
    s.create(done, {})
    for state in (JobState.PLANNING, JobState.RENDERING, JobState.MERGING):
        s.transition("d", state)
    s.update("d", actual_cost=0.5)
    s.transition("d", JobState.COMPLETED, started_at=now - 90, finished_at=now - 40)

    s.create(JobRecord(id="f", submitted_at=now - 20), {})
    s.transition("f", JobState.FAILED)

    for name, conc, draining in (("node-a", 2, False), ("node-b", 3, True)):
        payload = {
            "name": name,
            "concurrency": conc,
            "pid": 1,
            "since": now - 60,
            "time": now,
            "draining": draining,
        }
        s.redis.set(keys.node(name), json.dumps(payload), ex=60)
    s.redis.hset(keys.BILLING, mapping={"2026-01-01": "1.25", "2026-01-02": "0.5"})
    s.redis.rpush("render\x06\x166", "m1", "m2")
    s.redis.rpush("render", "m0")
    s.redis.zadd(keys.QUEUED, {"r:1": now})
    return s


def test_collect_render_metrics(store: JobStore) -> None:
    m = collect_render_metrics(store, hourly_rate=0.2)
    assert m.active_nodes == 2 and m.slots == 5
    assert m.hourly_rate == pytest.approx(1.0)
    assert m.total_cost == pytest.approx(1.75)
    assert m.cost_per_frame == pytest.approx(0.005)
    assert m.frames_per_second == pytest.approx(2.0, rel=0.2)  # 8 frames in ~4 s
    assert m.average_frame_seconds == pytest.approx(0.25)
    assert m.running_chunks == 1 and m.queued_chunks == 1
    assert m.queue_lengths["render"] == {"urgent": 1, "high": 0, "normal": 2, "low": 0}
    assert m.queue_length == 3
    assert (m.success_rate, m.error_rate) == (0.5, 0.5)
    assert m.retry_rate == 0.5
    assert m.average_job_seconds == pytest.approx(50.0)
    assert (m.deadline_miss_rate, m.deadline_misses) == (1.0, 1)
    assert m.jobs["rendering"] == 1 and m.jobs["completed"] == 1 and m.jobs["failed"] == 1
    assert m.memory_total_bytes is None or m.memory_total_bytes > 0


def test_collect_node_metrics(store: JobStore) -> None:
    a, b = collect_node_metrics(store)
    assert (a.name, a.status, a.concurrency) == ("node-a", "alive", 2)
    assert (a.active_chunks, a.completed_chunks, a.failed_chunks) == (0, 1, 0)
    assert (b.name, b.status, b.concurrency, b.active_chunks) == ("node-b", "draining", 3, 1)
    assert a.uptime_seconds == pytest.approx(60, abs=5)
    assert a.heartbeat_age_seconds < 5


# -- the exporter ---------------------------------------------------------------------------------


@pytest.fixture
def scrape(store: JobStore) -> Iterator[str]:
    server, thread = exporter.start_exporter(store, 0, hourly_rate=0.2)
    try:
        yield f"http://127.0.0.1:{server.server_port}/metrics"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def samples(url: str) -> tuple[set[str], dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """Family names plus sample names, and each sample's value by (name, sorted labels)."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    names: set[str] = set()
    values = {}
    for family in text_string_to_metric_families(text):
        # The parser names a counter family without its _total, which queries use.
        names.add(family.name + ("_total" if family.type == "counter" else ""))
        for sample in family.samples:
            names.add(sample.name)
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return names, values


def test_exporter_serves_every_metric(scrape: str) -> None:
    names, values = samples(scrape)
    assert set(METRIC_NAMES) <= names
    assert values[(PREFIX + "active_nodes", ())] == 2
    assert values[(PREFIX + "worker_slots", ())] == 5
    assert values[(PREFIX + "hourly_rate_dollars", ())] == pytest.approx(1.0)
    assert values[(PREFIX + "cost_dollars_total", ())] == pytest.approx(1.75)
    assert values[(PREFIX + "queue_length", (("priority", "normal"), ("queue", "render")))] == 2
    assert values[(PREFIX + "queue_length", (("priority", "urgent"), ("queue", "render")))] == 1
    assert values[(PREFIX + "jobs", (("state", "completed"),))] == 1
    assert values[(PREFIX + "deadline_miss_ratio", ())] == 1.0
    assert values[(PREFIX + "node_info", (("node", "node-b"), ("status", "draining")))] == 1
    assert values[(PREFIX + "node_active_chunks", (("node", "node-b"),))] == 1
    assert values[(PREFIX + "node_completed_chunks", (("node", "node-a"),))] == 1
    assert values[(PREFIX + "store_up", ())] == 1
    # Every sample served carries our prefix or comes from monitoring.gpu (also ours).
    assert all(name.startswith(PREFIX) for name in names)


def test_exporter_survives_a_lost_store() -> None:
    # Nothing listens on port 1: the scrape must still answer, quickly, and say so.
    dead = exporter.scrape_store("redis://127.0.0.1:1/0")
    server, thread = exporter.start_exporter(dead, 0, gpus=False)
    try:
        names, values = samples(f"http://127.0.0.1:{server.server_port}/metrics")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert values[(PREFIX + "store_up", ())] == 0
    assert (PREFIX + "active_nodes", ()) not in values
    assert set(METRIC_NAMES) <= names  # families are still declared, without samples
