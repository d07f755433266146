"""Names and help texts of every Prometheus metric the exporter serves (one place, for the
exporter, the Grafana dashboard check and PromQL users). The gauges come from orchestrator.stats,
the counters and histograms from orchestrator.render_counters.
"""

from __future__ import annotations

PREFIX = "cloudrender_"

#: (name, help) of every cluster-wide metric the exporter serves; all gauges except the cost.
RENDER_METRICS: tuple[tuple[str, str], ...] = (
    (PREFIX + "frames_per_second", "Frames per second over running chunks."),
    (PREFIX + "frame_seconds_average", "Seconds per frame over finished chunks."),
    (PREFIX + "queue_length", "Broker messages waiting, per queue and priority."),
    (PREFIX + "queued_chunks", "Chunk tasks handed to the broker and not started."),
    (PREFIX + "running_chunks", "Chunks rendering now."),
    (PREFIX + "active_nodes", "Render nodes with a live heartbeat."),
    (PREFIX + "worker_slots", "Render slots (pool processes) of the live render nodes."),
    (PREFIX + "cpu_utilization_percent", "CPU busy on this exporter's host (percent)."),
    (PREFIX + "memory_used_bytes", "Memory in use on this exporter's host."),
    (PREFIX + "memory_total_bytes", "Memory in total on this exporter's host."),
    (PREFIX + "network_receive_bytes_per_second", "Bytes received per second by this host."),
    (PREFIX + "network_transmit_bytes_per_second", "Bytes sent per second by this host."),
    (PREFIX + "gpu_utilization_average_percent", "Mean utilisation of this host's GPUs."),
    (PREFIX + "hourly_rate_dollars", "Dollars per hour the live render slots cost."),
    (PREFIX + "cost_dollars_total", "Dollars in the billing ledger."),
    (PREFIX + "cost_per_frame_dollars", "Dollars per frame over completed jobs."),
    (PREFIX + "job_success_ratio", "Completed / (completed + failed) stored jobs."),
    (PREFIX + "job_error_ratio", "Failed / (completed + failed) stored jobs."),
    (PREFIX + "chunk_retry_ratio", "Chunks started more than once / chunks started."),
    (PREFIX + "job_seconds_average", "Seconds from start to finish of completed jobs."),
    (PREFIX + "deadline_miss_ratio", "Completed jobs late for their deadline / with one."),
    (PREFIX + "deadline_misses", "Completed jobs that finished after their deadline."),
    (PREFIX + "stored_jobs", "Stored jobs per state (finished ones until they expire)."),
    (PREFIX + "store_up", "1 when the job store answered this scrape, else 0."),
)

#: (name, help) of every per-node metric (label node).
NODE_METRICS: tuple[tuple[str, str], ...] = (
    (
        PREFIX + "node_info",
        "1 per live node; status alive or draining, role render, orchestrator or service.",
    ),
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

#: (name, help) of every per-pool metric of the autoscaler (label pool; nodes also state).
POOL_METRICS: tuple[tuple[str, str], ...] = (
    (
        PREFIX + "desired_nodes",
        "Nodes the pool should hold: those the autoscaler wants taking work plus those still "
        "draining (a KEDA ScaledObject can follow it).",
    ),
    (PREFIX + "pool_nodes", "The pool's live nodes per state: booting, running, draining."),
    (PREFIX + "pool_spend_dollars_per_hour", "Dollars per hour the pool's live nodes cost."),
)

#: (name, help) of the render counters, label node (the node that counted) and as said.
COUNTER_METRICS: tuple[tuple[str, str], ...] = (
    (PREFIX + "frames_rendered_total", "Frames of chunks rendered and finished (outcome done)."),
    (
        PREFIX + "chunks_total",
        "Chunk events per outcome: done, reused, duplicate, failed, retried, requeued, "
        "speculative.",
    ),
    (PREFIX + "jobs_total", "Jobs that ended, per state: completed, failed, cancelled."),
    (
        PREFIX + "storage_swept_objects_total",
        "Objects of lost jobs (no record in Redis) the storage sweep removed.",
    ),
)

#: (name, help) of the render histograms, label node (and state for jobs).
HISTOGRAM_METRICS: tuple[tuple[str, str], ...] = (
    (PREFIX + "chunk_seconds", "Seconds rendering a chunk (outcome done)."),
    (PREFIX + "job_seconds", "Seconds from a job's submission to its end, per end state."),
)

#: Every metric name (as a PromQL query writes it) that monitoring.exporter serves; the
#: histograms as their _bucket, _sum and _count series too.
METRIC_NAMES: list[str] = [
    name for name, _ in RENDER_METRICS + NODE_METRICS + POOL_METRICS + COUNTER_METRICS
] + [name + suffix for name, _ in HISTOGRAM_METRICS for suffix in ("", "_bucket", "_sum", "_count")]
