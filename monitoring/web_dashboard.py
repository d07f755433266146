"""What the web dashboard shows, as JSON-ready data: ``snapshot(api)`` reads the cluster through a
CloudRenderingAPI (nodes, queue by priority, active and recent jobs, spend, pools, budgets) and
``Throughput`` keeps the frames-rendered history of the last hour that its chart draws.

The page itself (monitoring/web/) and its routes (server.routes_dashboard) only show and act on
these figures; like the terminal dashboard, every number is measured, none is invented.

Throughput source: ``cloudrender_frames_rendered_total``, i.e. the render counters every node
keeps in Redis (orchestrator.render_counters, field ``frames`` of ``cr:counters:<node>``: frames
of chunks rendered and finished), summed over the nodes. That is the cheapest monotonic total
(one SCAN and one HGET per node) and the same numbers Prometheus and Grafana ``rate()``. The
API process samples it every few seconds into a ring buffer of per-minute points; a minute's
rate is the counters' increase in it over the seconds sampled in it. Counters grow when a chunk
finishes, so a minute holds whole chunks; a history starts with the API process.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.names import LEVELS
from monitoring.dashboard_view import job_row
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.budgets import statuses
from orchestrator.job_record import ChunkState, JobNotFound, JobRecord
from orchestrator.node_roles import ROLE_RENDER
from orchestrator.render_counters import COUNTERS
from orchestrator.stats import NodeMetrics, queue_lengths
from orchestrator.wire import to_wire
from workers.gpus import mean_utilization

#: Finished jobs listed under the active ones (newest first).
RECENT = 8
#: The chart's window: one point per minute over the last hour.
MINUTES = 60
#: Samples further apart than this start afresh: what happened in the gap is not spread over
#: minutes nobody watched (the chart shows the gap).
MAX_GAP = 120.0


# -- reading the cluster -----------------------------------------------------------------------


def read_jobs(
    api: CloudRenderingAPI, recent: int = RECENT
) -> tuple[list[JobRecord], list[JobRecord]]:
    """The active jobs (oldest first) and the newest `recent` finished ones, with chunks."""
    active = _records(api, api.store.active())
    ids = {r.id for r in active}
    # Some extra ids: the newest stored jobs include the active ones.
    candidates = [i for i in api.store.recent(recent + len(ids)) if i not in ids]
    finished = [r for r in _records(api, candidates) if r.state.finished]
    return active, finished[:recent]


def _records(api: CloudRenderingAPI, ids: list[str]) -> list[JobRecord]:
    found = []
    for job_id in ids:
        try:
            found.append(api.get_job_status(job_id))
        except JobNotFound:
            continue  # finished and expired between the two reads
    return found


def job_entry(record: JobRecord, now: float) -> dict[str, Any]:
    """One job as the dashboard's tables show it (progress, fps, ETA, cost so far)."""
    row = job_row(record, now)
    running = sum(1 for c in record.chunks if c.state is ChunkState.RUNNING)
    done = sum(1 for c in record.chunks if c.state is ChunkState.DONE)
    return {
        "id": record.id,
        "name": record.name,
        "state": row.state,
        "priority": record.priority,
        "effective_priority": record.effective_priority,
        "user": record.user,
        "project": record.project,
        "progress": round(row.progress, 4),
        "frames": record.frames,
        "frames_done": record.frames_done,
        "chunks": record.chunk_count or len(record.chunks),
        "chunks_running": running,
        "chunks_done": done,
        # a finished job's chunk records may still say "running" (cancelled mid-chunk)
        "fps": 0.0 if record.state.finished else round(row.fps, 3),
        "eta_seconds": None if row.eta_seconds is None else round(row.eta_seconds, 1),
        "eta_estimated": row.eta_estimated,
        "cost": round(row.cost, 6),
        "estimated_cost": record.estimated_cost,
        "max_cost": record.max_cost,
        "submitted_at": record.submitted_at,
        "finished_at": record.finished_at,
        "error": record.error,
    }


def node_entries(
    metrics: list[NodeMetrics], beats: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every live node: its NodeMetrics (CPU, memory, chunks) with its pool and busy slots."""
    nodes = []
    for node in metrics:
        beat = beats.get(node.name, {})
        entry = to_wire(node)
        gpu = beat.get("gpu_percent", getattr(node, "gpu_utilization_percent", None))
        entry.update(
            gpu_utilization_percent=None if gpu is None else float(gpu),
            busy=int(beat.get("busy") or 0),
            pool=beat.get("pool") or None,
            memory_percent=_percent(node.memory_used_bytes, node.memory_total_bytes),
        )
        nodes.append(entry)
    return nodes


def _percent(used: int | None, total: int | None) -> float | None:
    return round(100.0 * used / total, 1) if used is not None and total else None


def queue_by_priority(api: CloudRenderingAPI, active: list[JobRecord]) -> dict[str, Any]:
    """Chunks waiting in the broker and unfinished jobs, each by priority (urgent first)."""
    names = list(LEVELS)
    chunks = {name: 0 for name in names}
    beats = api.store.heartbeats().values()
    for by_priority in queue_lengths(api.store.redis, heartbeats=beats).values():
        for name, count in by_priority.items():
            chunks[name] = chunks.get(name, 0) + count
    jobs = {name: 0 for name in names}
    waiting = {name: 0 for name in names}
    for record in active:
        jobs[record.effective_priority] = jobs.get(record.effective_priority, 0) + 1
        if not record.started_at:
            waiting[record.effective_priority] = waiting.get(record.effective_priority, 0) + 1
    return {
        "priorities": names,
        "chunks": chunks,
        "jobs": jobs,
        "waiting_jobs": waiting,
        "queued_chunks": int(api.store.redis.zcard(keys.QUEUED)),
    }


def snapshot(
    api: CloudRenderingAPI,
    *,
    now: float | None = None,
    history: Throughput | None = None,
    nodes: list[NodeMetrics] | None = None,
    host_gpu: float | None = None,
    recent: int = RECENT,
) -> dict[str, Any]:
    """Everything the dashboard shows now, JSON-ready (raises what the API raises).

    `nodes` defaults to ``api.get_node_metrics()`` (a caller refreshing every second may pass
    a cached one: it reads every stored job); `history`'s chart is included when given (its
    owner samples it); `host_gpu` is this host's GPU utilisation.
    """
    # The cluster's time (Redis's clock): the records' times are in it, not this machine's.
    now = api.store.now() if now is None else now
    cluster = api.get_cluster_status()
    active, finished = read_jobs(api, recent)
    metrics = api.get_node_metrics() if nodes is None else nodes
    beats = api.store.heartbeats()
    jobs = [job_entry(r, now) for r in active]
    rate = api.settings.hourly_rate
    render_nodes = [n for n in cluster.nodes if n.role == ROLE_RENDER]
    today = time.strftime("%Y-%m-%d", time.gmtime(now))
    spent_today = float(api.store.redis.hget(keys.BILLING, today) or 0.0)
    return {
        "time": now,
        "paused": api.paused(),
        "cluster": {
            "nodes": len(render_nodes),
            "slots": cluster.slots,
            "busy": sum(j["chunks_running"] for j in jobs),
            "draining": sum(1 for n in render_nodes if n.draining),
            "queued_chunks": cluster.queued_chunks,
            "active_jobs": cluster.active_jobs,
            "fps": round(sum(j["fps"] for j in jobs), 3),
        },
        "spend": {
            "hourly_rate": rate,
            "slots_per_hour": round(cluster.slots * rate, 4),
            "pools_per_hour": round(cluster.spend_per_hour, 4),
            "today": round(spent_today, 6),
        },
        "nodes": node_entries(metrics, beats),
        "host": {"gpu_utilization_percent": host_gpu},
        "queue": queue_by_priority(api, active),
        "jobs": jobs,
        "recent": [job_entry(r, now) for r in finished],
        "pools": [to_wire(p) for p in cluster.pools],
        "budgets": [s.to_json() for s in statuses(api.store.redis, now)],
        "throughput": history.chart(now) if history is not None else None,
    }


def host_gpu() -> float | None:
    """This host's mean GPU utilisation in percent (None without GPUs or NVML)."""
    return mean_utilization()


# -- the throughput history --------------------------------------------------------------------


def frame_counters(client: Any) -> dict[str, float]:
    """Every node's frames-rendered counter (orchestrator.render_counters), by its Redis key."""
    names = sorted(
        str(k.decode() if isinstance(k, bytes) else k)
        for k in client.scan_iter(match=COUNTERS.format(node="*"), count=500)
    )
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hget(name, "frames")
    return {
        name: float(value)
        for name, value in zip(names, pipe.execute(), strict=True)
        if value is not None
    }


@dataclass
class _Minute:
    start: float
    frames: float = 0.0
    seconds: float = 0.0  # sampled time attributed to this minute


class Throughput:
    """Frames rendered per minute over the last hour, from successive samples of monotonic
    counters (key -> value, as ``frame_counters`` reads them)."""

    SOURCE = (
        "cloudrender_frames_rendered_total (the render counters every node keeps in Redis: "
        "frames of finished chunks), sampled by the API process"
    )

    def __init__(self, minutes: int = MINUTES, max_gap: float = MAX_GAP) -> None:
        self.minutes = minutes
        self.max_gap = max_gap
        self.total = 0.0  # frames counted since the first sample
        self._seen: dict[str, float] = {}
        self._last: float | None = None
        self._buckets: deque[_Minute] = deque(maxlen=minutes)

    def observe(self, counters: Mapping[str, float], now: float) -> float:
        """Take a sample of `counters` at `now`; return the frames rendered since the previous
        sample (0 on the first sample and after a gap longer than max_gap)."""
        last = self._last
        if last is not None and now < last:
            return 0.0  # older than the last sample: what it saw is counted already
        counting = last is not None and now - last <= self.max_gap
        added = 0.0
        for name, value in counters.items():
            before = self._seen.get(name)
            if before is None:
                # A counter first seen after the first sample belongs to a node that started
                # since: everything it counted is new.
                before = 0.0 if counting else value
            # A counter lower than before was reset (its hash expired): it counts from zero.
            added += value - before if value >= before else value
            self._seen[name] = value
        if not counting:
            added = 0.0
        bucket = self._bucket(now)
        if counting and last is not None:
            bucket.seconds += now - last
        bucket.frames += added
        self.total += added
        self._last = now
        return added

    def _bucket(self, now: float) -> _Minute:
        start = now // 60 * 60
        if not self._buckets or self._buckets[-1].start != start:
            self._buckets.append(_Minute(start))
        return self._buckets[-1]

    def chart(self, now: float) -> dict[str, Any]:
        """One point per minute of the last hour, oldest first: its start, its frames and its
        frames per second (None for minutes without samples)."""
        by_start = {b.start: b for b in self._buckets if b.seconds > 0}
        current = now // 60 * 60
        points = []
        for i in range(self.minutes - 1, -1, -1):
            start = current - 60 * i
            bucket = by_start.get(start)
            points.append(
                {
                    "t": start,
                    "frames": None if bucket is None else round(bucket.frames, 3),
                    "fps": None if bucket is None else round(bucket.frames / bucket.seconds, 3),
                }
            )
        return {
            "source": self.SOURCE,
            "window_seconds": 60 * self.minutes,
            "total_frames": round(self.total, 3),
            "points": points,
        }
