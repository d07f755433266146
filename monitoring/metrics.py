"""Render and node metrics, measured from the job store, Redis and /proc (DESIGN 2).

Nothing here is pushed by render code: every value is computed when asked for, from what the
cluster already records (job and chunk records, node heartbeats, the billing ledger, the broker's
queue lists) plus this host's /proc counters. That keeps render code free of Prometheus and makes
the numbers the same whichever process (worker, orchestrator, API client) computes them.

Windows: job-derived rates cover the jobs still stored (``JobStore.recent``; finished jobs expire
after the job TTL, a week by default). Host CPU and network rates cover the time between two
/proc samples kept by a :class:`HostSampler`.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.names import PRIORITIES, QUEUES
from orchestrator import keys
from orchestrator.job_record import ChunkState, JobNotFound, JobRecord, JobState
from orchestrator.job_store import JobStore

PREFIX = "cloudrender_"

#: kombu's separator between a queue name and its priority step (kombu.transport.redis).
PRIORITY_SEP = "\x06\x16"
#: Jobs read per collection (newest first), as CloudRenderingAPI does.
JOB_LIMIT = 1000


# -- records --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderMetrics:
    """The spec's RenderMetrics: cluster-wide throughput, queues, resources, cost and quality."""

    #: frames per second summed over running chunks (frames done / seconds since they started)
    frames_per_second: float
    #: seconds per frame over finished chunks (their render seconds / their frames)
    average_frame_seconds: float | None
    #: broker messages waiting: queue -> priority name -> count (kombu's priority sub-lists)
    queue_lengths: dict[str, dict[str, int]]
    #: chunk tasks handed to the broker and not started yet
    queued_chunks: int
    running_chunks: int
    #: nodes with a live heartbeat, and their worker slots
    active_nodes: int
    slots: int
    #: this host (the process computing the metrics), from /proc; None where unreadable
    cpu_utilization_percent: float | None
    memory_used_bytes: int | None
    memory_total_bytes: int | None
    network_receive_bytes_per_second: float | None
    network_transmit_bytes_per_second: float | None
    #: mean utilisation of this host's GPUs (monitoring.gpu); None without GPUs
    gpu_utilization_percent: float | None
    #: dollars per hour the live slots cost now
    hourly_rate: float
    #: dollars in the billing ledger, all days
    total_cost: float
    #: dollars per frame over completed jobs
    cost_per_frame: float | None
    #: completed / (completed + failed) jobs, and failed / (completed + failed)
    success_rate: float | None
    error_rate: float | None
    #: chunks started more than once / chunks started
    retry_rate: float | None
    #: seconds from start to finish of completed jobs
    average_job_seconds: float | None
    #: completed jobs with a deadline that finished after it / completed jobs with a deadline
    deadline_miss_rate: float | None
    deadline_misses: int
    #: stored jobs per state
    jobs: dict[str, int]
    measured_at: float

    @property
    def queue_length(self) -> int:
        """Broker messages waiting over every queue and priority."""
        return sum(sum(by_priority.values()) for by_priority in self.queue_lengths.values())


@dataclass(frozen=True)
class NodeMetrics:
    """The spec's NodeMetrics: one worker node, from its heartbeat and the chunk records."""

    name: str
    status: str  # "alive" or "draining"
    concurrency: int
    pid: int
    active_chunks: int
    completed_chunks: int
    failed_chunks: int
    uptime_seconds: float
    last_heartbeat: float  # epoch seconds
    heartbeat_age_seconds: float
    #: the node's host resources, when its heartbeat carries them (see HostSampler.fields)
    cpu_utilization_percent: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None


# -- host resources from /proc --------------------------------------------------------------------


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
        }
        return {k: v for k, v in values.items() if v is not None}


_default_sampler = HostSampler()


def gpu_utilization() -> float | None:
    """Mean utilisation of this host's GPUs, or None when there are none (or no GPU module)."""
    try:
        # Imported by name: monitoring.gpu is optional and pulls in NVML bindings when present.
        gpu: Any = importlib.import_module("monitoring.gpu")
        stats = list(gpu.gpu_stats())
    except Exception:
        return None
    if not stats:
        return None
    return float(sum(float(s.utilization) for s in stats) / len(stats))


# -- queues ---------------------------------------------------------------------------------------


def queue_keys(queue: str, priorities: Mapping[str, int] = PRIORITIES) -> dict[str, str]:
    """Redis list per priority name (kombu: step 0 in the base key, step n in queue + SEP + n)."""
    return {
        name: queue if step == 0 else f"{queue}{PRIORITY_SEP}{step}"
        for name, step in sorted(priorities.items(), key=lambda item: item[1])
    }


def queue_lengths(
    client: Any, queues: Sequence[str] = QUEUES, priorities: Mapping[str, int] = PRIORITIES
) -> dict[str, dict[str, int]]:
    """Messages waiting per queue and priority name (LLEN of each priority sub-list)."""
    plan = [(q, name, key) for q in queues for name, key in queue_keys(q, priorities).items()]
    pipe = client.pipeline(transaction=False)
    for _, _, key in plan:
        pipe.llen(key)
    result: dict[str, dict[str, int]] = {q: {} for q in queues}
    for (queue, name, _), length in zip(plan, pipe.execute(), strict=True):
        result[queue][name] = int(length)
    return result


# -- job maths (pure) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobStats:
    """What the job and chunk records say, over the jobs given."""

    frames_per_second: float
    average_frame_seconds: float | None
    running_chunks: int
    cost_per_frame: float | None
    success_rate: float | None
    error_rate: float | None
    retry_rate: float | None
    average_job_seconds: float | None
    deadline_miss_rate: float | None
    deadline_misses: int
    jobs: dict[str, int]


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def job_stats(jobs: Iterable[JobRecord], now: float) -> JobStats:
    """Throughput, quality and cost figures from job records (with their chunks)."""
    counts = {str(s): 0 for s in JobState}
    fps = 0.0
    running = started = retried = 0
    chunk_seconds = 0.0
    chunk_frames = 0
    durations: list[float] = []
    completed_cost = 0.0
    completed_frames = 0
    with_deadline = misses = 0
    for job in jobs:
        counts[str(job.state)] += 1
        if job.state is JobState.COMPLETED:
            completed_cost += job.actual_cost
            completed_frames += job.frames
            if job.started_at is not None and job.finished_at is not None:
                durations.append(job.finished_at - job.started_at)
            if job.deadline is not None and job.finished_at is not None:
                with_deadline += 1
                misses += job.finished_at > job.deadline
        for chunk in job.chunks:
            if chunk.attempts >= 1:
                started += 1
                retried += chunk.attempts > 1
            if chunk.state is ChunkState.RUNNING and chunk.started_at is not None:
                running += 1
                # A floor on elapsed time keeps a chunk that just started from reading as infinite.
                fps += chunk.frames_done / max(now - chunk.started_at, 1e-3)
            elif chunk.state is ChunkState.DONE and chunk.seconds and chunk.frames > 0:
                chunk_seconds += chunk.seconds
                chunk_frames += chunk.frames
    finished = counts[str(JobState.COMPLETED)] + counts[str(JobState.FAILED)]
    return JobStats(
        frames_per_second=fps,
        average_frame_seconds=_ratio(chunk_seconds, chunk_frames),
        running_chunks=running,
        cost_per_frame=_ratio(completed_cost, completed_frames),
        success_rate=_ratio(counts[str(JobState.COMPLETED)], finished),
        error_rate=_ratio(counts[str(JobState.FAILED)], finished),
        retry_rate=_ratio(retried, started),
        average_job_seconds=_ratio(sum(durations), len(durations)),
        deadline_miss_rate=_ratio(misses, with_deadline),
        deadline_misses=misses,
        jobs=counts,
    )


def node_metrics(
    heartbeats: Iterable[Mapping[str, Any]], jobs: Iterable[JobRecord], now: float
) -> list[NodeMetrics]:
    """Per-node figures from heartbeat payloads and the chunk records of `jobs`, by name."""
    active: dict[str, int] = {}
    completed: dict[str, int] = {}
    failed: dict[str, int] = {}
    for job in jobs:
        for chunk in job.chunks:
            if chunk.node is None:
                continue
            # A chunk record holds its latest attempt only, so each chunk counts once, where
            # it last ran.
            if chunk.state is ChunkState.RUNNING:
                active[chunk.node] = active.get(chunk.node, 0) + 1
            elif chunk.state is ChunkState.DONE:
                completed[chunk.node] = completed.get(chunk.node, 0) + 1
            elif chunk.state in (ChunkState.FAILED, ChunkState.RETRYING):
                failed[chunk.node] = failed.get(chunk.node, 0) + 1
    result = []
    for beat in heartbeats:
        name = str(beat["name"])
        last = float(beat["time"])
        result.append(
            NodeMetrics(
                name=name,
                status="draining" if beat.get("draining") else "alive",
                concurrency=int(beat["concurrency"]),
                pid=int(beat.get("pid", 0)),
                active_chunks=active.get(name, 0),
                completed_chunks=completed.get(name, 0),
                failed_chunks=failed.get(name, 0),
                uptime_seconds=max(0.0, now - float(beat["since"])),
                last_heartbeat=last,
                heartbeat_age_seconds=max(0.0, now - last),
                cpu_utilization_percent=_opt_float(beat.get("cpu_percent")),
                memory_used_bytes=_opt_int(beat.get("memory_used_bytes")),
                memory_total_bytes=_opt_int(beat.get("memory_total_bytes")),
            )
        )
    return sorted(result, key=lambda n: n.name)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


# -- collection from the store --------------------------------------------------------------------


def heartbeats(store: JobStore) -> list[dict[str, Any]]:
    """Payloads of the live node heartbeats (keys.NODE)."""
    result = []
    for key in store.redis.scan_iter(match=keys.NODE.format(name="*"), count=100):
        raw = store.redis.get(key)
        if raw:
            try:
                data = json.loads(raw)
            except ValueError:
                continue  # a torn or foreign value is not a node
            if isinstance(data, dict) and {"name", "concurrency", "since", "time"} <= data.keys():
                result.append(data)
    return result


def stored_jobs(store: JobStore, limit: int = JOB_LIMIT) -> list[JobRecord]:
    """The newest `limit` stored jobs with their chunks (jobs expiring meanwhile are skipped)."""
    jobs = []
    for job_id in store.recent(limit):
        try:
            jobs.append(store.get(job_id))
        except JobNotFound:
            continue
    return jobs


def total_cost(store: JobStore) -> float:
    """Dollars in the billing ledger over all days."""
    return float(sum(float(v) for v in store.redis.hgetall(keys.BILLING).values()))


def collect(
    store: JobStore,
    *,
    hourly_rate: float,
    sampler: HostSampler | None = None,
    now: float | None = None,
    limit: int = JOB_LIMIT,
) -> tuple[RenderMetrics, list[NodeMetrics]]:
    """Render and node metrics from one read of the store (what the exporter serves)."""
    now = time.time() if now is None else now
    jobs = stored_jobs(store, limit)
    beats = heartbeats(store)
    stats = job_stats(jobs, now)
    host = (sampler or _default_sampler).read()
    slots = sum(int(b["concurrency"]) for b in beats)
    render = RenderMetrics(
        frames_per_second=stats.frames_per_second,
        average_frame_seconds=stats.average_frame_seconds,
        queue_lengths=queue_lengths(store.redis),
        queued_chunks=int(store.redis.zcard(keys.QUEUED)),
        running_chunks=stats.running_chunks,
        active_nodes=len(beats),
        slots=slots,
        cpu_utilization_percent=host.cpu_utilization_percent,
        memory_used_bytes=host.memory_used_bytes,
        memory_total_bytes=host.memory_total_bytes,
        network_receive_bytes_per_second=host.network_receive_bytes_per_second,
        network_transmit_bytes_per_second=host.network_transmit_bytes_per_second,
        gpu_utilization_percent=gpu_utilization(),
        hourly_rate=slots * hourly_rate,
        total_cost=total_cost(store),
        cost_per_frame=stats.cost_per_frame,
        success_rate=stats.success_rate,
        error_rate=stats.error_rate,
        retry_rate=stats.retry_rate,
        average_job_seconds=stats.average_job_seconds,
        deadline_miss_rate=stats.deadline_miss_rate,
        deadline_misses=stats.deadline_misses,
        jobs=stats.jobs,
        measured_at=now,
    )
    return render, node_metrics(beats, jobs, now)


def collect_render_metrics(
    store: JobStore, *, hourly_rate: float, sampler: HostSampler | None = None
) -> RenderMetrics:
    """The cluster's RenderMetrics now; `hourly_rate` is dollars per worker slot per hour."""
    return collect(store, hourly_rate=hourly_rate, sampler=sampler)[0]


def collect_node_metrics(store: JobStore, *, limit: int = JOB_LIMIT) -> list[NodeMetrics]:
    """NodeMetrics of every node with a live heartbeat, sorted by name."""
    return node_metrics(heartbeats(store), stored_jobs(store, limit), time.time())


# -- Prometheus names -----------------------------------------------------------------------------

#: (name, help) of every cluster-wide metric the exporter serves; all gauges except the cost.
RENDER_METRICS: tuple[tuple[str, str], ...] = (
    (PREFIX + "frames_per_second", "Frames per second over running chunks."),
    (PREFIX + "frame_seconds_average", "Seconds per frame over finished chunks."),
    (PREFIX + "queue_length", "Broker messages waiting, per queue and priority."),
    (PREFIX + "queued_chunks", "Chunk tasks handed to the broker and not started."),
    (PREFIX + "running_chunks", "Chunks rendering now."),
    (PREFIX + "active_nodes", "Worker nodes with a live heartbeat."),
    (PREFIX + "worker_slots", "Worker slots (pool processes) of the live nodes."),
    (PREFIX + "cpu_utilization_percent", "CPU busy on this exporter's host (percent)."),
    (PREFIX + "memory_used_bytes", "Memory in use on this exporter's host."),
    (PREFIX + "memory_total_bytes", "Memory in total on this exporter's host."),
    (PREFIX + "network_receive_bytes_per_second", "Bytes received per second by this host."),
    (PREFIX + "network_transmit_bytes_per_second", "Bytes sent per second by this host."),
    (PREFIX + "gpu_utilization_average_percent", "Mean utilisation of this host's GPUs."),
    (PREFIX + "hourly_rate_dollars", "Dollars per hour the live worker slots cost."),
    (PREFIX + "cost_dollars_total", "Dollars in the billing ledger."),
    (PREFIX + "cost_per_frame_dollars", "Dollars per frame over completed jobs."),
    (PREFIX + "job_success_ratio", "Completed / (completed + failed) stored jobs."),
    (PREFIX + "job_error_ratio", "Failed / (completed + failed) stored jobs."),
    (PREFIX + "chunk_retry_ratio", "Chunks started more than once / chunks started."),
    (PREFIX + "job_seconds_average", "Seconds from start to finish of completed jobs."),
    (PREFIX + "deadline_miss_ratio", "Completed jobs late for their deadline / with one."),
    (PREFIX + "deadline_misses", "Completed jobs that finished after their deadline."),
    (PREFIX + "jobs", "Stored jobs per state."),
    (PREFIX + "store_up", "1 when the job store answered this scrape, else 0."),
)

#: (name, help) of every per-node metric (label node).
NODE_METRICS: tuple[tuple[str, str], ...] = (
    (PREFIX + "node_info", "1 per live node; label status is alive or draining."),
    (PREFIX + "node_draining", "1 while the node drains (spot interruption), else 0."),
    (PREFIX + "node_concurrency", "Worker slots of the node."),
    (PREFIX + "node_active_chunks", "Chunks running on the node."),
    (PREFIX + "node_completed_chunks", "Stored chunks that finished on the node."),
    (PREFIX + "node_failed_chunks", "Stored chunks whose last attempt failed on the node."),
    (PREFIX + "node_uptime_seconds", "Seconds since the node's worker started."),
    (PREFIX + "node_last_heartbeat_timestamp_seconds", "When the node last beat (epoch)."),
    (PREFIX + "node_heartbeat_age_seconds", "Seconds since the node's last heartbeat."),
    (PREFIX + "node_cpu_utilization_percent", "CPU busy on the node, if its heartbeat says."),
    (PREFIX + "node_memory_used_bytes", "Memory in use on the node, if its heartbeat says."),
    (PREFIX + "node_memory_total_bytes", "Memory of the node, if its heartbeat says."),
)

#: Every metric name (as a PromQL query writes it) that monitoring.exporter serves.
METRIC_NAMES: list[str] = [name for name, _ in RENDER_METRICS + NODE_METRICS]
