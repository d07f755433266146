"""Render and node metrics, computed from the job store, Redis and this host (the spec's
RenderMetrics and NodeMetrics).

Nothing here is pushed by render code: every value is computed when asked for, from what the
cluster already records (job and chunk records, node heartbeats, the billing ledger, the broker's
queue lists) plus this host's /proc counters and GPUs. That keeps render code free of Prometheus
and makes the numbers the same whichever process (worker, orchestrator, API client) computes
them; monitoring.exporter serves them to Prometheus.

Windows: job-derived rates cover the jobs still stored (``JobStore.recent``; finished jobs expire
after the job TTL, a week by default). Host CPU and network rates cover the time between two
/proc samples kept by a :class:`workers.host.HostSampler`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from common.names import PRIORITIES, QUEUE_RENDER, QUEUES
from orchestrator import keys
from orchestrator.job_record import ChunkState, JobNotFound, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.node_roles import ROLE_RENDER, node_role, renders
from workers.gpus import mean_utilization
from workers.host import HostSampler

#: Jobs read per collection (newest first), as CloudRenderingAPI does.
JOB_LIMIT = 1000


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
    #: render nodes with a live heartbeat, and their worker slots (an orchestrator-only node
    #: plans jobs and renders nothing: it is neither)
    active_nodes: int
    slots: int
    #: this host (the process computing the metrics), from /proc; None where unreadable
    cpu_utilization_percent: float | None
    memory_used_bytes: int | None
    memory_total_bytes: int | None
    network_receive_bytes_per_second: float | None
    network_transmit_bytes_per_second: float | None
    #: mean utilisation of this host's GPUs (workers.gpus); None without GPUs
    gpu_utilization_percent: float | None
    #: dollars per hour the live render slots cost now
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
    status: (
        str  # "alive", "draining", or "scratch full" (takes no work: orchestrator.scratch_pause)
    )
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
    #: "render", "orchestrator" or "service" (audio/merge only): node_signals.node_role
    role: str = ROLE_RENDER
    #: mean utilisation of the node's GPUs, when its heartbeat carries it (None: no GPU)
    gpu_utilization_percent: float | None = None
    #: where its chunk renders composite: "cupy" (its GPU), "cpu"; "" when it does not say
    compositor: str = ""


_default_sampler = HostSampler()


def queue_lengths(
    client: Any,
    queues: Sequence[str] = QUEUES,
    priorities: Mapping[str, int] = PRIORITIES,
    heartbeats: Iterable[Mapping[str, Any]] = (),
) -> dict[str, dict[str, int]]:
    """Messages waiting per queue and priority name (LLEN of each priority sub-list). The render
    fingerprint queues (``render.<fingerprint>``) the ``heartbeats`` list count as ``render``:
    a pinned job's chunks wait there."""
    extra = sorted(
        {
            str(q)
            for beat in heartbeats
            for q in beat.get("queues") or ()
            if str(q).startswith(QUEUE_RENDER + ".")
        }
    )
    named = [(q, q) for q in queues] + [(QUEUE_RENDER, q) for q in extra if QUEUE_RENDER in queues]
    plan = [
        (shown, name, key)
        for shown, q in named
        for name, key in keys.queue_keys(q, priorities).items()
    ]
    pipe = client.pipeline(transaction=False)
    for _, _, key in plan:
        pipe.llen(key)
    result: dict[str, dict[str, int]] = {q: {} for q in queues}
    for (queue, name, _), length in zip(plan, pipe.execute(), strict=True):
        result[queue][name] = result[queue].get(name, 0) + int(length)
    return result


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
            elif chunk.state in (ChunkState.FAILED, ChunkState.RETRYING) and not chunk.stopped:
                # One stopped by its job's end (a user's cancel) is no failure of the node.
                failed[chunk.node] = failed.get(chunk.node, 0) + 1
    result = []
    for beat in heartbeats:
        name = str(beat["name"])
        last = float(beat["time"])
        result.append(
            NodeMetrics(
                name=name,
                status=_status(beat),
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
                role=node_role(beat.get("queues") or ()),
                gpu_utilization_percent=_opt_float(beat.get("gpu_percent")),
                compositor=str(beat.get("compositor") or ""),
            )
        )
    return sorted(result, key=lambda n: n.name)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


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
    now = store.now() if now is None else now
    jobs = stored_jobs(store, limit)
    beats = list(store.heartbeats().values())
    stats = job_stats(jobs, now)
    host = (sampler or _default_sampler).read()
    workers = [b for b in beats if renders(b)]
    slots = sum(int(b["concurrency"]) for b in workers)
    render = RenderMetrics(
        frames_per_second=stats.frames_per_second,
        average_frame_seconds=stats.average_frame_seconds,
        queue_lengths=queue_lengths(store.redis, heartbeats=beats),
        queued_chunks=int(store.redis.zcard(keys.QUEUED)),
        running_chunks=stats.running_chunks,
        active_nodes=len(workers),
        slots=slots,
        cpu_utilization_percent=host.cpu_utilization_percent,
        memory_used_bytes=host.memory_used_bytes,
        memory_total_bytes=host.memory_total_bytes,
        network_receive_bytes_per_second=host.network_receive_bytes_per_second,
        network_transmit_bytes_per_second=host.network_transmit_bytes_per_second,
        gpu_utilization_percent=mean_utilization(),
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
    return node_metrics(store.heartbeats().values(), stored_jobs(store, limit), store.now())


def _status(beat: Mapping[str, Any]) -> str:
    """A node's status as the dashboard shows it."""
    if beat.get("draining"):
        return "draining"
    return "scratch full" if beat.get("scratch_full") else "alive"
