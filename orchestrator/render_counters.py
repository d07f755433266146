"""Render counters: frames rendered, chunk outcomes and job ends, plus histograms of chunk and
job seconds, counted where each event happens and kept per node in Redis.

Why Redis and not a process's memory: a worker renders in prefork child processes, which come
and go and cannot serve /metrics. The child where an event happens adds it to its node's hash
(one MULTI of HINCRBY / HINCRBYFLOAT), so each event is counted exactly once; the exporter of
each node (``monitoring.exporter``) serves only its own node's hash with a ``node`` label, so
summing a counter over every scrape target gives the cluster's total, and the counts outlive
restarts of the process (they only ever grow: Prometheus's ``rate()`` reads them as counters).

Events with no node (a job cancelled by a client or the API, a budget's hard stop in whatever
process charged the chunk) go to the hash of the pseudo node ``CLUSTER``, which only the
orchestrator's exporter serves.

Layout of ``cr:counters:<node>`` (fields; bucket counts are per bucket, made cumulative when
read, so one event is one HINCRBY whatever the bounds):

- ``frames``: frames of chunks rendered and finished (outcome ``done``);
- ``swept_objects``: objects of lost jobs the storage sweep removed (the ``CLUSTER`` hash);
- ``chunks:<outcome>``: one per chunk event, outcomes in ``OUTCOMES``;
- ``jobs:<state>``: one per job end, states in ``JOB_STATES``;
- ``chunk_seconds:sum``, ``chunk_seconds:le:<bound>``: seconds of chunks rendered and finished;
- ``job_seconds:<state>:sum``, ``job_seconds:<state>:le:<bound>``: seconds from a job's
  submission to its end.

The hash expires ``COUNTERS_TTL`` after its last write, so the nodes an autoscaler removed do
not pile up; a node idle that long starts again from zero, which Prometheus reads as a reset.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

from orchestrator import keys
from orchestrator.job_record import JobNotFound
from orchestrator.job_store import JobStore

#: Hash per node: its render counters (layout above).
COUNTERS = keys.PREFIX + "counters:{node}"
#: Seconds a node's counters live after their last write.
COUNTERS_TTL = 90 * 24 * 3600
#: The pseudo node of events that happen outside any worker (served by the orchestrator).
CLUSTER = "cluster"

#: Chunk outcomes: done (rendered and stored, first copy), reused (finished without rendering:
#: from the segment cache, or a segment an earlier attempt had stored), duplicate (a
#: speculative copy that finished second), failed (for good: the job fails), retried (a
#: transient error, the same task runs again), requeued (handed to another worker: a crash,
#: an eviction, a lost node), speculative (a copy of a straggler started elsewhere).
OUTCOMES = ("done", "reused", "duplicate", "failed", "retried", "requeued", "speculative")
#: The end states of a job.
JOB_STATES = ("completed", "failed", "cancelled")
#: Upper bounds (seconds) of the chunk-seconds histogram's buckets (+Inf is implied).
CHUNK_BUCKETS: tuple[float, ...] = (1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600)
#: Upper bounds (seconds) of the job-seconds histogram's buckets (+Inf is implied).
JOB_BUCKETS: tuple[float, ...] = (
    10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400,
)  # fmt: skip
INF = "+Inf"
#: Progress events that stand for one chunk outcome each.
_OUTCOME_OF = {
    "chunk_failed": "failed",
    "chunk_retrying": "retried",
    "chunk_requeued": "requeued",
    "chunk_speculative": "speculative",
}


def counters_key(node: str) -> str:
    """Key of a node's counters hash."""
    return COUNTERS.format(node=node)


@dataclasses.dataclass(frozen=True)
class Counts:
    """What one event adds to a node's counters."""

    frames: int = 0
    chunks: Mapping[str, int] = dataclasses.field(default_factory=dict)
    jobs: Mapping[str, int] = dataclasses.field(default_factory=dict)
    #: seconds of chunks to observe in the chunk histogram
    chunk_seconds: tuple[float, ...] = ()
    #: (end state, seconds) to observe in the job histogram
    job_seconds: tuple[tuple[str, float], ...] = ()
    #: objects of lost jobs the storage sweep removed (orchestrator.storage_sweep)
    swept_objects: int = 0

    def __bool__(self) -> bool:
        """Whether the event counts at all."""
        return bool(
            self.frames or self.chunks or self.jobs or self.chunk_seconds or self.swept_objects
        )


def event_counts(event: str, data: Mapping[str, Any]) -> Counts:
    """What a progress event (as ``WorkerHooks.publish`` sends it) adds to the counters."""
    if event == "chunk_done":
        outcome = str(data.get("outcome") or "done")
        if outcome != "done":
            return Counts(chunks={outcome: 1})
        seconds = _seconds(data.get("seconds"))
        return Counts(
            frames=max(int(data.get("frames") or 0), 0),
            chunks={"done": 1},
            chunk_seconds=() if seconds is None else (seconds,),
        )
    if event == "chunks_reused":
        reused = len(data.get("chunks") or ())
        return Counts(chunks={"reused": reused}) if reused else Counts()
    if event in _OUTCOME_OF:
        return Counts(chunks={_OUTCOME_OF[event]: 1})
    if event in JOB_STATES:
        seconds = _seconds(data.get("seconds"))
        return Counts(jobs={event: 1}, job_seconds=() if seconds is None else ((event, seconds),))
    return Counts()


def _seconds(value: Any) -> float | None:
    """A duration to observe: a finite number, negative ones (clock steps) as 0; else None."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def bound_text(bound: float) -> str:
    """A bucket bound as a field name writes it (``10.0``, ``2.5``, ``+Inf``)."""
    return INF if math.isinf(bound) else repr(float(bound))


def bucket_of(seconds: float, bounds: Iterable[float]) -> str:
    """The bucket (its bound as text) a value falls in: the first bound it does not exceed."""
    for bound in sorted(bounds):
        if seconds <= bound:
            return bound_text(bound)
    return INF


def increments(
    counts: Counts,
    chunk_bounds: Iterable[float] = CHUNK_BUCKETS,
    job_bounds: Iterable[float] = JOB_BUCKETS,
) -> dict[str, float]:
    """Field -> amount to add for `counts` (whole numbers for counts, floats for sums)."""
    added: dict[str, float] = {}

    def add(field: str, amount: float) -> None:
        added[field] = added.get(field, 0) + amount

    if counts.frames:
        add("frames", counts.frames)
    if counts.swept_objects:
        add("swept_objects", counts.swept_objects)
    for outcome, n in counts.chunks.items():
        add(f"chunks:{outcome}", n)
    for state, n in counts.jobs.items():
        add(f"jobs:{state}", n)
    chunk_bounds, job_bounds = tuple(chunk_bounds), tuple(job_bounds)
    for seconds in counts.chunk_seconds:
        add("chunk_seconds:sum", float(seconds))
        add(f"chunk_seconds:le:{bucket_of(seconds, chunk_bounds)}", 1)
    for state, seconds in counts.job_seconds:
        add(f"job_seconds:{state}:sum", float(seconds))
        add(f"job_seconds:{state}:le:{bucket_of(seconds, job_bounds)}", 1)
    return added


def record(client: Any, node: str, counts: Counts) -> None:
    """Add an event's counts to `node`'s hash, atomically (a scrape never sees half of it)."""
    added = increments(counts)
    if not added:
        return
    key = counters_key(node)
    pipe = client.pipeline(transaction=True)
    for field, amount in added.items():
        if field.endswith(":sum"):
            pipe.hincrbyfloat(key, field, amount)
        else:
            pipe.hincrby(key, field, int(amount))
    pipe.expire(key, COUNTERS_TTL)
    pipe.execute()


def job_ended(client: Any, job_id: str, state: str, node: str = CLUSTER) -> None:
    """Count a job's end (with its seconds from submission) on `node`'s counters; for callers
    outside the workers, e.g. a cancel: ``job_ended(client, job_id, "cancelled")``."""
    record(client, node, Counts(jobs={state: 1}, job_seconds=_job_seconds(client, job_id, state)))


def _job_seconds(client: Any, job_id: str, state: str) -> tuple[tuple[str, float], ...]:
    try:
        fields = JobStore(client).get_fields(job_id, "submitted_at", "finished_at")
    except JobNotFound:
        return ()
    submitted, finished = fields.get("submitted_at"), fields.get("finished_at")
    if not submitted or finished is None:
        return ()
    seconds = _seconds(float(finished) - float(submitted))
    return () if seconds is None else ((state, seconds),)


# -- reading ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Histogram:
    """A histogram as Prometheus exposes it: cumulative buckets (bound text, count), the sum."""

    buckets: list[tuple[str, float]]
    total: float

    @property
    def count(self) -> float:
        """Observations in all (the +Inf bucket)."""
        return self.buckets[-1][1] if self.buckets else 0.0


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """A node's counters as read: every known outcome and state present, zero if never seen."""

    frames: float
    chunks: dict[str, float]
    jobs: dict[str, float]
    chunk_seconds: Histogram
    job_seconds: dict[str, Histogram]
    swept_objects: float = 0.0


def histogram(fields: Mapping[str, float], prefix: str, bounds: Iterable[float]) -> Histogram:
    """The histogram under `prefix` in a node's fields, cumulated over `bounds` (+Inf added).

    A stored bucket whose bound is not in `bounds` (written under other bounds) counts in the
    first bucket above it, so counts stay whole and monotonic when the bounds change.
    """
    ordered = sorted(float(b) for b in bounds if not math.isinf(float(b)))
    per_bucket = dict.fromkeys([*map(bound_text, ordered), INF], 0.0)
    marker = prefix + ":le:"
    for field, value in fields.items():
        if not field.startswith(marker):
            continue
        try:
            bound = float(field[len(marker) :])
        except ValueError:
            continue
        per_bucket[bucket_of(bound, ordered)] += value
    cumulative: list[tuple[str, float]] = []
    running = 0.0
    for text, value in per_bucket.items():
        running += value
        cumulative.append((text, running))
    return Histogram(cumulative, float(fields.get(prefix + ":sum", 0.0)))


def snapshot(
    fields: Mapping[str, float],
    chunk_bounds: Iterable[float] = CHUNK_BUCKETS,
    job_bounds: Iterable[float] = JOB_BUCKETS,
) -> Snapshot:
    """A node's counters from its hash's fields (as numbers)."""
    chunks = dict.fromkeys(OUTCOMES, 0.0)
    jobs = dict.fromkeys(JOB_STATES, 0.0)
    for field, value in fields.items():
        kind, _, name = field.partition(":")
        if kind == "chunks" and name:
            chunks[name] = value
        elif kind == "jobs" and name:
            jobs[name] = value
    job_bounds = tuple(job_bounds)
    return Snapshot(
        frames=float(fields.get("frames", 0.0)),
        chunks=chunks,
        jobs=jobs,
        chunk_seconds=histogram(fields, "chunk_seconds", chunk_bounds),
        job_seconds={s: histogram(fields, f"job_seconds:{s}", job_bounds) for s in jobs},
        swept_objects=float(fields.get("swept_objects", 0.0)),
    )


def read(client: Any, node: str) -> Snapshot:
    """A node's counters now (all zero for a node that never counted anything)."""
    raw = client.hgetall(counters_key(node))
    fields: dict[str, float] = {}
    for field, value in raw.items():
        name = field.decode() if isinstance(field, bytes) else str(field)
        try:
            fields[name] = float(value)
        except (TypeError, ValueError):
            continue  # not ours: skip rather than fail the scrape
    return snapshot(fields)


def read_all(client: Any) -> dict[str, Snapshot]:
    """Every node's counters still kept, by node (the cluster's pseudo node included): for
    readers that want the whole cluster in one process, e.g. a dashboard differencing two
    reads for a rate."""
    prefix = counters_key("")
    found = {}
    for key in client.scan_iter(match=counters_key("*"), count=100):
        name = key.decode() if isinstance(key, bytes) else str(key)
        found[name[len(prefix) :]] = read(client, name[len(prefix) :])
    return found
