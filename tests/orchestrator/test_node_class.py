"""Throughput per node class on a real Redis: history > benchmark > catalogue > default, with
their spreads; each node teaches its own class; quote() prices from it, rendering nothing."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
import redis

from chunking.timeline.model import Clip, GeneratedSource, Timeline, Track, TrackKind
from common.settings import Settings
from orchestrator import keys
from orchestrator.celery_app import make_app
from orchestrator.costing import DEFAULT_THROUGHPUT, Throughput, load_throughput, record_throughput
from orchestrator.job_record import ChunkRecord, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.node_class import (
    BENCHMARK_SPREAD,
    CATALOGUE_SPREAD,
    DEFAULT_SPREAD,
    HISTORY_SPREAD,
    MIN_HISTORY_SPREAD,
    ClassThroughput,
    class_throughput,
    has_benchmark,
    load_benchmark,
    node_class_name,
    node_class_of,
    record_benchmark,
)
from orchestrator.planning import quote
from orchestrator.worker_hooks import WorkerHooks
from workers.benchmark_result import BenchmarkResult


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as c:
        yield c


def bench(seconds_per_unit: float, encoder: str = "libx264", gpu: bool = False) -> BenchmarkResult:
    """A benchmark record as a node of this speed would store it."""
    return BenchmarkResult(
        frames=16,
        width=1920,
        height=1080,
        units=3.5,
        seconds=5.0,
        cpu_seconds=8.0,
        fps=3.2,
        slot_seconds_per_frame=seconds_per_unit * 3.5,
        seconds_per_unit=seconds_per_unit,
        stages={"decode": 0.05, "composite": 0.13, "encode": 0.12, "audio": 0.005},
        encoder=encoder,
        hardware=encoder.endswith("nvenc"),
        gpu=gpu,
        gpu_model="NVIDIA L4" if gpu else "",
        vcpus=2,
        slots=2,
        fingerprint="0123456789abcdef",
        measured_at=time.time(),
    )


def teach(client: redis.Redis, node_class: str, rates: list[float]) -> Throughput:
    """Record one 100-frame, 1-unit chunk per rate (seconds per unit)."""
    learned = None
    for rate in rates:
        learned = record_throughput(client, node_class, rate * 100, 100, 1.0)
    assert learned is not None
    return learned


# --- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pool", "name"), [(None, "local-cpu"), ("", "local-cpu"), (" ", "local-cpu"), ("l4", "l4")]
)
def test_node_class_name(pool: str | None, name: str) -> None:
    assert node_class_name(pool) == name


@pytest.mark.parametrize(
    ("beat", "found"),
    [
        ({"name": "n", "pool": "gpu-l4"}, "gpu-l4"),
        ({"name": "n", "pool": None}, "local-cpu"),
        ({"name": "n"}, "local-cpu"),
        (None, None),  # no heartbeat: unknown
    ],
)
def test_node_class_of_a_live_node(
    client: redis.Redis, beat: dict[str, Any] | None, found: str | None
) -> None:
    if beat is not None:
        client.set(keys.node("n"), json.dumps(beat), ex=60)
    assert node_class_of(client, "n") == found
    assert node_class_of(client, None) is None


# --- benchmarks -----------------------------------------------------------------------------------


def test_benchmarks_are_stored_per_class(client: redis.Redis) -> None:
    assert load_benchmark(client, "gpu-l4") is None and not has_benchmark(client, "gpu-l4")
    gpu = bench(0.01, "h264_nvenc", gpu=True)
    record_benchmark(client, "gpu-l4", gpu)
    record_benchmark(client, "local-cpu", bench(0.1))
    assert load_benchmark(client, "gpu-l4") == gpu
    assert set(client.hkeys(keys.BENCHMARKS)) == {b"gpu-l4", b"local-cpu"}
    assert has_benchmark(client, "local-cpu")


@pytest.mark.parametrize("raw", ["not json", "[]", '{"seconds_per_unit": 1}'])
def test_a_corrupt_benchmark_reads_as_none(client: redis.Redis, raw: str) -> None:
    client.hset(keys.BENCHMARKS, "local-cpu", raw)
    assert load_benchmark(client, "local-cpu") is None
    assert class_throughput(client, "local-cpu").source == "default"


# --- the sources, best first ----------------------------------------------------------------------


def test_nothing_known_is_the_prior(client: redis.Redis) -> None:
    assert class_throughput(client, "local-cpu") == ClassThroughput(
        DEFAULT_THROUGHPUT.seconds_per_unit, DEFAULT_SPREAD, 0, "default", "", False
    )
    # Other classes' measurements do not stand in without a relative speed.
    record_benchmark(client, "gpu-l4", bench(0.01))
    assert class_throughput(client, "new-pool").source == "default"


def test_a_benchmark_stands_in_until_chunks_finish(client: redis.Redis) -> None:
    record_benchmark(client, "gpu-l4", bench(0.012, "h264_nvenc", gpu=True))
    found = class_throughput(client, "gpu-l4", relative_speed=99.0)  # measured beats catalogue
    assert found == ClassThroughput(0.012, BENCHMARK_SPREAD, 1, "benchmark", "h264_nvenc", True)


def test_history_beats_the_benchmark(client: redis.Redis) -> None:
    record_benchmark(client, "gpu-l4", bench(0.012, "h264_nvenc", gpu=True))
    teach(client, "gpu-l4", [0.02])
    found = class_throughput(client, "gpu-l4")
    # One chunk: its rate, the stated spread; the benchmark still says which encoder and GPU.
    assert found == ClassThroughput(0.02, HISTORY_SPREAD, 1, "history", "h264_nvenc", True)


def test_history_spread_is_measured_after_three_chunks(client: redis.Redis) -> None:
    rates = [0.10, 0.12, 0.09, 0.11]
    teach(client, "local-cpu", rates[:2])
    assert class_throughput(client, "local-cpu").spread == HISTORY_SPREAD  # too few to tell
    teach(client, "local-cpu", rates[2:])
    # By hand: the EWMA (weight 0.3) of each chunk's squared relative error against the rate
    # before it, the first error taken whole.
    rate, variance = rates[0], None
    for measured in rates[1:]:
        square = ((measured - rate) / rate) ** 2
        variance = square if variance is None else 0.7 * variance + 0.3 * square
        rate = 0.7 * rate + 0.3 * measured
    found = class_throughput(client, "local-cpu")
    assert (found.source, found.samples) == ("history", 4)
    assert found.seconds_per_unit == pytest.approx(rate)
    assert variance is not None and found.spread == pytest.approx(math.sqrt(variance))


def test_steady_history_keeps_a_floor_on_its_spread(client: redis.Redis) -> None:
    teach(client, "local-cpu", [0.1] * 5)
    assert class_throughput(client, "local-cpu").spread == MIN_HISTORY_SPREAD


def test_an_unseen_class_scales_local_cpu_by_its_relative_speed(client: redis.Redis) -> None:
    teach(client, "local-cpu", [0.08])
    found = class_throughput(client, "g6.xlarge", relative_speed=4.0)
    assert found == ClassThroughput(0.02, CATALOGUE_SPREAD, 0, "catalogue", "", False)


def test_an_unseen_class_scales_the_best_measured_class(client: redis.Redis) -> None:
    # Not local-cpu: a GPU pool 8x local-cpu's speed, measured by its benchmark, and a CPU pool
    # at 2x with more history. The one with most chunks is the reference.
    record_benchmark(client, "gpu-l4", bench(0.01))
    speeds = {"gpu-l4": 8.0, "cpu-c7": 2.0}
    assert class_throughput(
        client, "new", relative_speed=4.0, speeds=speeds
    ).seconds_per_unit == pytest.approx(0.01 * 8 / 4)
    teach(client, "cpu-c7", [0.03, 0.03])
    found = class_throughput(client, "new", relative_speed=4.0, speeds=speeds)
    assert found.seconds_per_unit == pytest.approx(0.03 * 2 / 4)
    assert (found.source, found.spread) == ("catalogue", CATALOGUE_SPREAD)


def test_an_unseen_class_with_nothing_measured_scales_the_prior(client: redis.Redis) -> None:
    found = class_throughput(client, "g6.xlarge", relative_speed=5.0)
    assert found == ClassThroughput(
        DEFAULT_THROUGHPUT.seconds_per_unit / 5, DEFAULT_SPREAD, 0, "catalogue", "", False
    )


@pytest.mark.parametrize("speed", [0.0, -1.0, math.nan, math.inf])
def test_a_bad_relative_speed_is_refused(client: redis.Redis, speed: float) -> None:
    with pytest.raises(ValueError, match="relative_speed"):
        class_throughput(client, "x", relative_speed=speed)


# --- the history record stays readable both ways --------------------------------------------------


def test_old_throughput_records_still_read(client: redis.Redis) -> None:
    client.hset(keys.THROUGHPUT, "local-cpu", json.dumps({"seconds_per_unit": 0.1, "samples": 9}))
    old = load_throughput(client, "local-cpu")
    assert old == Throughput(0.1, 9) and old.spread is None
    assert class_throughput(client, "local-cpu").spread == HISTORY_SPREAD
    new = teach(client, "local-cpu", [0.12])
    assert new.variance == pytest.approx(0.04) and new.spread == pytest.approx(0.2)
    # A record with one sample has no variance yet and is written as before.
    assert Throughput(0.1, 1).to_json() == {"seconds_per_unit": 0.1, "samples": 1}
    with pytest.raises(ValueError, match="malformed"):
        Throughput.from_json({"seconds_per_unit": 0.1, "samples": 2, "variance": -1})


# --- who teaches which class ----------------------------------------------------------------------


@pytest.fixture
def service(redis_url: str) -> WorkerHooks:
    store = JobStore.from_url(redis_url)
    app = make_app(Settings(broker_url=redis_url, result_backend=redis_url))
    store.create(JobRecord(id="j", submitted_at=time.time(), frames=20), {"chunks": []})
    store.set_chunks("j", [ChunkRecord(0, 0, 10), ChunkRecord(1, 10, 20)], {"chunks": []})
    store.transition("j", JobState.PLANNING)
    store.transition("j", JobState.RENDERING)
    store.update("j", complexity=2.0)
    store.redis.delete(keys.pending("j"))
    return WorkerHooks(store, app)


def test_a_finished_chunk_teaches_its_nodes_class(service: WorkerHooks) -> None:
    client = service.store.redis
    client.set(keys.node("gpu-1"), json.dumps({"name": "gpu-1", "pool": "gpu-l4"}), ex=60)
    service.chunk_finished(
        "j", 0, {"index": 0, "start": 0, "end": 10, "seconds": 2.0, "node": "gpu-1"}
    )
    assert load_throughput(client, "gpu-l4") == Throughput(2.0 / (10 * 2.0), 1)
    assert load_throughput(client, "local-cpu") is None
    # A node without a heartbeat: its class is unknown, nothing is taught.
    service.chunk_finished(
        "j", 1, {"index": 1, "start": 10, "end": 20, "seconds": 2.0, "node": "gone"}
    )
    assert set(client.hkeys(keys.THROUGHPUT)) == {"gpu-l4"}


# --- quote() prices from the class, rendering nothing ---------------------------------------------


def _timeline() -> Timeline:
    clip = Clip(id="c", track_id="v", source=GeneratedSource(), start=0, end=60)
    return Timeline(
        fps=Fraction(30),
        width=320,
        height=180,
        frames=60,
        tracks=(Track(id="v", kind=TrackKind.VIDEO, clips=(clip,)),),
    )


@pytest.mark.parametrize(
    ("setup", "basis", "rate"),
    [
        (lambda c: None, "default", DEFAULT_THROUGHPUT.seconds_per_unit),
        (lambda c: record_benchmark(c, "local-cpu", bench(0.2)), "benchmark", 0.2),
        (lambda c: teach(c, "local-cpu", [0.3]), "history", 0.3),
    ],
)
def test_quote_takes_its_rate_from_the_class(
    client: redis.Redis, setup: Any, basis: str, rate: float
) -> None:
    setup(client)
    timeline = _timeline()
    found = quote(timeline, client, slots=1, chunk_frames=None, hourly_rate=3.6)
    assert found.basis == basis
    assert found.seconds_per_frame == pytest.approx(found.complexity * rate)


@pytest.mark.parametrize(
    ("changes", "cores"),
    [
        ({}, 1.6),  # no slots' render: the CPU over wall time of the render alone (8 / 5)
        ({"beside_seconds": 7.5}, 1.6),  # beside 1.5x slower, but the overlap says more
        ({"beside_seconds": 9.0}, 1.8),  # 1.8x slower beside, a core a slot
        ({"beside_seconds": 9.0, "vcpus": 8, "slots": 4}, 3.6),  # two cores a slot
        ({"beside_seconds": 50.0}, 2.0),  # never more cores than the node has
        ({"beside_seconds": 9.0, "slots": 1}, 1.6),  # one slot: nothing beside it
        # The load rose while the benchmark ran (alone 5 s before the slots' renders, 6 s
        # after): beside against the mean of the two, 9 / 5.5, not 9 / 5.
        ({"beside_seconds": 9.0, "alone_again_seconds": 6.0}, 9.0 / 5.5),
        ({"beside_seconds": 9.0, "alone_again_seconds": 4.0}, 2.0),  # fell: 9 / 4.5
    ],
)
def test_the_cores_a_lone_chunk_keeps_busy(changes: dict[str, float], cores: float) -> None:
    assert dataclasses.replace(bench(0.02), **changes).alone_cores == pytest.approx(cores)


def test_a_record_from_before_the_slots_render_reads_as_not_measured() -> None:
    data = bench(0.02).to_json()
    del data["beside_seconds"]
    assert BenchmarkResult.from_json(data).beside_seconds == 0.0
    assert BenchmarkResult.from_json(data).alone_again_seconds == 0.0
