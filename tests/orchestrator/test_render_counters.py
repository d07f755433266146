"""The render counters: what each progress event counts, the histogram buckets, and the counts
kept per node in Redis (atomic, monotonic, read back as Prometheus exposes them)."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
import redis

from orchestrator import render_counters as rc
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.render_counters import Counts

# -- what an event counts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "data", "expected"),
    [
        (
            "chunk_done",
            {"seconds": 4.0, "frames": 24, "outcome": "done"},
            Counts(frames=24, chunks={"done": 1}, chunk_seconds=(4.0,)),
        ),
        # Events from before the outcome field: a plain finish.
        ("chunk_done", {"seconds": 2}, Counts(chunks={"done": 1}, chunk_seconds=(2.0,))),
        ("chunk_done", {"seconds": 0.0, "outcome": "reused"}, Counts(chunks={"reused": 1})),
        ("chunk_done", {"seconds": 9, "frames": 24, "outcome": "duplicate"}, Counts(
            chunks={"duplicate": 1}
        )),
        ("chunk_done", {"seconds": -1, "frames": 5}, Counts(
            frames=5, chunks={"done": 1}, chunk_seconds=(0.0,)
        )),  # a clock step
        ("chunk_done", {"seconds": "nan"}, Counts(chunks={"done": 1})),
        ("chunks_reused", {"chunks": [0, 1, 2], "frames": 72}, Counts(chunks={"reused": 3})),
        ("chunks_reused", {"chunks": []}, Counts()),
        ("chunk_failed", {"chunk": 1}, Counts(chunks={"failed": 1})),
        ("chunk_retrying", {"delay": 2}, Counts(chunks={"retried": 1})),
        ("chunk_requeued", {"reason": "lost"}, Counts(chunks={"requeued": 1})),
        ("chunk_speculative", {}, Counts(chunks={"speculative": 1})),
        ("completed", {"cost": 0.1, "seconds": 95.5}, Counts(
            jobs={"completed": 1}, job_seconds=(("completed", 95.5),)
        )),
        ("failed", {"error": "x", "seconds": None}, Counts(jobs={"failed": 1})),
        ("cancelled", {"seconds": 3}, Counts(
            jobs={"cancelled": 1}, job_seconds=(("cancelled", 3.0),)
        )),
        ("progress", {"done": 3, "total": 10}, Counts()),
        ("chunk_started", {"node": "n1"}, Counts()),
        ("planned", {"chunks": 4}, Counts()),
        ("state", {"state": "completed"}, Counts()),  # the job store's, counted by its event
    ],
)  # fmt: skip
def test_event_counts(event: str, data: dict[str, Any], expected: Counts) -> None:
    assert rc.event_counts(event, data) == expected
    assert bool(rc.event_counts(event, data)) == bool(expected.chunks or expected.jobs)


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [(0.0, "1.0"), (1.0, "1.0"), (1.01, "2.5"), (3600, "3600.0"), (3600.5, "+Inf"), (1e9, "+Inf")],
)
def test_bucket_of_is_the_first_bound_not_exceeded(seconds: float, bucket: str) -> None:
    assert rc.bucket_of(seconds, rc.CHUNK_BUCKETS) == bucket


def test_increments_name_every_field() -> None:
    counts = Counts(
        frames=48,
        chunks={"done": 2},
        jobs={"completed": 1},
        chunk_seconds=(0.5, 7.0),
        job_seconds=(("completed", 40.0),),
    )
    assert rc.increments(counts) == {
        "frames": 48,
        "chunks:done": 2,
        "jobs:completed": 1,
        "chunk_seconds:sum": 7.5,
        "chunk_seconds:le:1.0": 1,
        "chunk_seconds:le:10.0": 1,
        "job_seconds:completed:sum": 40.0,
        "job_seconds:completed:le:60.0": 1,
    }


def test_a_histogram_is_cumulative_and_absorbs_foreign_bounds() -> None:
    fields = {
        "chunk_seconds:le:1.0": 2.0,
        "chunk_seconds:le:4.0": 1.0,  # written under other bounds: counts in 5.0
        "chunk_seconds:le:+Inf": 1.0,
        "chunk_seconds:le:junk": 9.0,  # not ours: ignored
        "chunk_seconds:sum": 7000.0,
    }
    histogram = rc.histogram(fields, "chunk_seconds", (1, 5, 10))
    assert histogram.buckets == [("1.0", 2.0), ("5.0", 3.0), ("10.0", 3.0), ("+Inf", 4.0)]
    assert histogram.count == 4 and histogram.total == 7000.0


def test_a_snapshot_names_every_outcome_and_state_from_zero() -> None:
    snap = rc.snapshot({"chunks:done": 3.0, "chunks:someday": 1.0, "jobs:failed": 1.0})
    assert snap.chunks == {o: 0.0 for o in rc.OUTCOMES} | {"done": 3.0, "someday": 1.0}
    assert snap.jobs == {"completed": 0.0, "failed": 1.0, "cancelled": 0.0}
    assert set(snap.job_seconds) == set(rc.JOB_STATES)
    assert snap.chunk_seconds.count == 0 and snap.chunk_seconds.buckets[-1] == ("+Inf", 0.0)
    assert len(snap.chunk_seconds.buckets) == len(rc.CHUNK_BUCKETS) + 1


# -- in Redis ---------------------------------------------------------------------------------


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, decode_responses=True)


def test_record_adds_per_node_and_reads_back(client: redis.Redis) -> None:
    for seconds in (0.5, 3.0, 3.0, 4000.0):
        rc.record(
            client, "render@a", rc.event_counts("chunk_done", {"seconds": seconds, "frames": 10})
        )
    rc.record(client, "render@b", rc.event_counts("chunk_retrying", {}))
    a, b = rc.read(client, "render@a"), rc.read(client, "render@b")
    assert a.frames == 40 and a.chunks["done"] == 4 and a.chunks["retried"] == 0
    assert dict(a.chunk_seconds.buckets)["1.0"] == 1
    assert dict(a.chunk_seconds.buckets)["5.0"] == 3
    assert a.chunk_seconds.count == 4 and a.chunk_seconds.total == pytest.approx(4006.5)
    assert b.frames == 0 and b.chunks["retried"] == 1
    assert rc.read(client, "render@nobody").chunks["done"] == 0
    ttl = client.ttl(rc.counters_key("render@a"))
    assert 0 < ttl <= rc.COUNTERS_TTL


def test_an_event_that_counts_nothing_writes_nothing(client: redis.Redis) -> None:
    rc.record(client, "render@a", rc.event_counts("progress", {"done": 1}))
    assert not client.exists(rc.counters_key("render@a"))


def test_job_ended_counts_on_the_cluster_with_seconds_from_submission(
    redis_url: str, client: redis.Redis
) -> None:
    store = JobStore.from_url(redis_url)
    store.create(JobRecord(id="j", submitted_at=time.time() - 90, frames=10), {"chunks": []})
    store.transition("j", JobState.CANCELLED, error="by request")
    rc.job_ended(client, "j", "cancelled")
    rc.job_ended(client, "gone", "cancelled")  # expired meanwhile: counted without seconds
    snap = rc.read(client, rc.CLUSTER)
    assert snap.jobs["cancelled"] == 2
    histogram = snap.job_seconds["cancelled"]
    assert histogram.count == 1 and 89 <= histogram.total <= 120
    assert dict(histogram.buckets)["60.0"] == 0 and dict(histogram.buckets)["120.0"] == 1


def test_counts_only_grow(client: redis.Redis) -> None:
    seen: list[float] = []
    for _ in range(5):
        rc.record(client, "n", rc.event_counts("completed", {"seconds": 1.5}))
        snap = rc.read(client, "n")
        seen.append(snap.job_seconds["completed"].total)
    assert seen == sorted(seen) and not any(math.isnan(v) for v in seen)
    assert rc.read(client, "n").jobs["completed"] == 5


def test_read_all_finds_every_node(client: redis.Redis) -> None:
    rc.record(client, "render@a", rc.event_counts("chunk_done", {"frames": 3}))
    rc.record(client, "render@b", rc.event_counts("chunk_done", {"frames": 4}))
    rc.job_ended(client, "gone", "cancelled")
    found = rc.read_all(client)
    assert set(found) == {"render@a", "render@b", rc.CLUSTER}
    assert sum(s.frames for s in found.values()) == 7
    assert sum(s.jobs["cancelled"] for s in found.values()) == 1
