"""Prometheus metric families from the typed figures: the cluster's gauges (orchestrator.stats),
this host's resources, the nodes, the autoscaler's pools and the render counters
(orchestrator.render_counters). The exporter's collector yields them at each scrape.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from monitoring.metrics import (
    COUNTER_METRICS,
    HISTOGRAM_METRICS,
    NODE_METRICS,
    POOL_METRICS,
    PREFIX,
    RENDER_METRICS,
)
from orchestrator.render_counters import Snapshot
from orchestrator.stats import NodeMetrics, RenderMetrics
from workers.host import HostSampler, HostStats

#: Help text of every metric by name.
HELP = dict(RENDER_METRICS + NODE_METRICS + POOL_METRICS + COUNTER_METRICS + HISTOGRAM_METRICS)


def _gauge(name: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, HELP[name], labels=labels)


#: (metric name without prefix, RenderMetrics attribute) of the unlabelled gauges.
_GAUGES: tuple[tuple[str, str], ...] = (
    ("frames_per_second", "frames_per_second"),
    ("frame_seconds_average", "average_frame_seconds"),
    ("queued_chunks", "queued_chunks"),
    ("running_chunks", "running_chunks"),
    ("active_nodes", "active_nodes"),
    ("worker_slots", "slots"),
    ("gpu_utilization_average_percent", "gpu_utilization_percent"),
    ("hourly_rate_dollars", "hourly_rate"),
    ("cost_per_frame_dollars", "cost_per_frame"),
    ("job_success_ratio", "success_rate"),
    ("job_error_ratio", "error_rate"),
    ("chunk_retry_ratio", "retry_rate"),
    ("job_seconds_average", "average_job_seconds"),
    ("deadline_miss_ratio", "deadline_miss_rate"),
    ("deadline_misses", "deadline_misses"),
)
#: HostStats and RenderMetrics share these attribute names, which are also the metric names.
_HOST = (
    "cpu_utilization_percent",
    "memory_used_bytes",
    "memory_total_bytes",
    "network_receive_bytes_per_second",
    "network_transmit_bytes_per_second",
)


def render_families(m: RenderMetrics | None) -> Iterator[Metric]:
    """Families for the cluster-wide metrics; None (store down) gives families without samples."""
    for short, attribute in _GAUGES:
        family = _gauge(PREFIX + short)
        value = None if m is None else getattr(m, attribute)
        if value is not None:
            family.add_metric([], float(value))
        yield family

    queues = _gauge(PREFIX + "queue_length", ["queue", "priority"])
    jobs = _gauge(PREFIX + "stored_jobs", ["state"])
    # The ledger only grows, so it is a counter; the family name drops the _total suffix.
    cost = CounterMetricFamily(PREFIX + "cost_dollars", HELP[PREFIX + "cost_dollars_total"])
    if m is not None:
        for queue, by_priority in m.queue_lengths.items():
            for priority, length in by_priority.items():
                queues.add_metric([queue, priority], float(length))
        for state, count in m.jobs.items():
            jobs.add_metric([state], float(count))
        cost.add_metric([], m.total_cost)
    yield queues
    yield jobs
    yield cost


def host_families(m: RenderMetrics | None, sampler: HostSampler) -> Iterator[Metric]:
    """This host's resources (served even when the store is down)."""
    source: RenderMetrics | HostStats = sampler.read() if m is None else m
    for name in _HOST:
        family = _gauge(PREFIX + name)
        value = getattr(source, name)
        if value is not None:
            family.add_metric([], float(value))
        yield family


def node_families(nodes: list[NodeMetrics]) -> Iterator[Metric]:
    """Per-node families, label node (node_info also carries status and role)."""
    info = _gauge(PREFIX + "node_info", ["node", "status", "role"])
    for n in nodes:
        info.add_metric([n.name, n.status, n.role], 1.0)
    yield info
    columns: list[tuple[str, str]] = [
        ("node_draining", "draining"),
        ("node_concurrency", "concurrency"),
        ("node_active_chunks", "active_chunks"),
        ("node_completed_chunks", "completed_chunks"),
        ("node_failed_chunks", "failed_chunks"),
        ("node_uptime_seconds", "uptime_seconds"),
        ("node_last_heartbeat_timestamp_seconds", "last_heartbeat"),
        ("node_heartbeat_age_seconds", "heartbeat_age_seconds"),
        ("node_cpu_utilization_percent", "cpu_utilization_percent"),
        ("node_memory_used_bytes", "memory_used_bytes"),
        ("node_memory_total_bytes", "memory_total_bytes"),
    ]
    for short, attribute in columns:
        family = _gauge(PREFIX + short, ["node"])
        for n in nodes:
            value: Any = (
                n.status == "draining" if attribute == "draining" else getattr(n, attribute)
            )
            if value is not None:
                family.add_metric([n.name], float(value))
        yield family


def counter_families(nodes: list[tuple[str, Snapshot]]) -> Iterator[Metric]:
    """The render counters and histograms of the nodes this exporter speaks for (label node)."""

    def counter(name: str, labels: list[str]) -> CounterMetricFamily:
        # The family name drops _total; the sample keeps it.
        return CounterMetricFamily(name.removesuffix("_total"), HELP[name], labels=labels)

    frames = counter(PREFIX + "frames_rendered_total", ["node"])
    chunks = counter(PREFIX + "chunks_total", ["node", "outcome"])
    jobs = counter(PREFIX + "jobs_total", ["node", "state"])
    swept = counter(PREFIX + "storage_swept_objects_total", ["node"])
    name = PREFIX + "chunk_seconds"
    chunk_seconds = HistogramMetricFamily(name, HELP[name], labels=["node"])
    name = PREFIX + "job_seconds"
    job_seconds = HistogramMetricFamily(name, HELP[name], labels=["node", "state"])
    for node, counts in nodes:
        frames.add_metric([node], counts.frames)
        swept.add_metric([node], counts.swept_objects)
        for outcome, value in counts.chunks.items():
            chunks.add_metric([node, outcome], value)
        for state, value in counts.jobs.items():
            jobs.add_metric([node, state], value)
        histogram = counts.chunk_seconds
        chunk_seconds.add_metric([node], histogram.buckets, histogram.total)
        for state, histogram in counts.job_seconds.items():
            job_seconds.add_metric([node, state], histogram.buckets, histogram.total)
    yield from (frames, chunks, jobs, swept, chunk_seconds, job_seconds)


def pool_families(records: list[dict[str, Any]]) -> Iterator[Metric]:
    """The autoscaler's last decision and node counts per pool."""
    desired = _gauge(PREFIX + "desired_nodes", ["pool"])
    nodes = _gauge(PREFIX + "pool_nodes", ["pool", "state"])
    spend = _gauge(PREFIX + "pool_spend_dollars_per_hour", ["pool"])
    for record in records:
        pool = str(record.get("pool", ""))
        # Nodes still draining stay until they are done: a KEDA-scaled Deployment must keep
        # them, and drops one as each is terminated.
        target = int(record.get("desired") or 0) + int(record.get("draining") or 0)
        desired.add_metric([pool], float(target))
        for state in ("booting", "running", "draining"):
            nodes.add_metric([pool, state], float(record.get(state) or 0))
        spend.add_metric([pool], float(record.get("spend_per_hour") or 0.0))
    yield from (desired, nodes, spend)
