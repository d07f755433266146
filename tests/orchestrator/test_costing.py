"""Cost estimates: pure pricing maths, the throughput EWMA, and its Redis history."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from chunking import weights
from orchestrator import keys
from orchestrator.costing import (
    DEFAULT_THROUGHPUT,
    Estimate,
    Throughput,
    cost_of,
    estimate,
    load_throughput,
    record_throughput,
)

pytestmark = pytest.mark.timeout(60)


# --- estimate maths -----------------------------------------------------------------------------


def est(**overrides: Any) -> Estimate:
    """An estimate with round-number defaults: 1000 frames x 2 units x 0.1 s = 200 s of work."""
    args: dict[str, Any] = {
        "frames": 1000,
        "complexity": 2.0,
        "throughput": Throughput(0.1, 5),
        "workers": 4,
        "chunk_count": 10,
        "hourly_rate": 3.6,
        "basis": "history",
        "startup_seconds": 2.0,
        "per_chunk_seconds": 0.3,
    }
    args.update(overrides)
    throughput = args.pop("throughput")
    frames, complexity = args.pop("frames"), args.pop("complexity")
    return estimate(frames, complexity, throughput, **args)


@pytest.mark.parametrize(
    ("overrides", "node_seconds", "wall_seconds", "cost"),
    [
        # 200 s of frames + 10 chunks x 0.3 s; 4 workers; $3.60/h is $0.001/s
        ({}, 203.0, 203.0 / 4 + 2, 0.203),
        ({"hourly_rate": 7.2}, 203.0, 203.0 / 4 + 2, 0.406),
        ({"hourly_rate": 0.0}, 203.0, 203.0 / 4 + 2, 0.0),
        ({"frames": 2000}, 403.0, 403.0 / 4 + 2, 0.403),
        ({"complexity": 1.0}, 103.0, 103.0 / 4 + 2, 0.103),
        ({"throughput": Throughput(0.2, 1)}, 403.0, 403.0 / 4 + 2, 0.403),
        ({"workers": 1}, 203.0, 203.0 + 2, 0.203),
        ({"workers": 10}, 203.0, 203.0 / 10 + 2, 0.203),
        # more workers than chunks: the extras idle
        ({"workers": 64}, 203.0, 203.0 / 10 + 2, 0.203),
        ({"chunk_count": 1, "workers": 8}, 200.3, 200.3 + 2, 0.2003),
        ({"per_chunk_seconds": 0.0}, 200.0, 200.0 / 4 + 2, 0.2),
        ({"startup_seconds": 30.0}, 203.0, 203.0 / 4 + 30, 0.203),
        ({"frames": 0, "chunk_count": 0}, 0.0, 2.0, 0.0),
    ],
)
def test_estimate_maths(
    overrides: dict[str, Any], node_seconds: float, wall_seconds: float, cost: float
) -> None:
    e = est(**overrides)
    assert e.node_seconds == pytest.approx(node_seconds)
    assert e.wall_seconds == pytest.approx(wall_seconds)
    assert e.cost == pytest.approx(cost)
    assert e.seconds_per_frame == pytest.approx(
        e.complexity * overrides.get("throughput", Throughput(0.1, 5)).seconds_per_unit
    )


@pytest.mark.parametrize("workers", [1, 2, 3, 7, 10, 100])
def test_workers_change_only_wall_time(workers: int) -> None:
    base, other = est(workers=1), est(workers=workers)
    assert (other.node_seconds, other.cost) == (base.node_seconds, base.cost)
    assert other.wall_seconds <= base.wall_seconds


@pytest.mark.parametrize("rate", [0.16, 0.526, 1.006, 1.861, 10.0])
def test_cost_scales_with_hourly_rate(rate: float) -> None:
    assert est(hourly_rate=rate).cost == pytest.approx(est(hourly_rate=1.0).cost * rate)
    assert est(hourly_rate=rate).hourly_rate == rate


@pytest.mark.parametrize(
    ("node_seconds", "rate", "cost"),
    [(0.0, 1.0, 0.0), (3600.0, 1.0, 1.0), (1800.0, 0.526, 0.263), (60.0, 3.6, 0.06)],
)
def test_cost_of(node_seconds: float, rate: float, cost: float) -> None:
    assert cost_of(node_seconds, rate) == pytest.approx(cost)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"frames": -1}, "frames"),
        ({"workers": 0}, "workers"),
        ({"chunk_count": 0}, "chunk_count"),
        ({"chunk_count": -1}, "chunk_count"),
        ({"hourly_rate": -0.5}, "hourly_rate"),
        ({"basis": "guess"}, "basis"),
    ],
)
def test_estimate_rejects_nonsense(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        est(**overrides)


@pytest.mark.parametrize("basis", ["history", "calibration", "default"])
def test_estimate_json(basis: str) -> None:
    data = est(basis=basis).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["basis"] == basis
    assert set(data) == {
        "frames",
        "complexity",
        "seconds_per_frame",
        "node_seconds",
        "wall_seconds",
        "cost",
        "hourly_rate",
        "basis",
    }


# --- throughput EWMA ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prior", "seconds", "frames", "complexity", "weight", "expected"),
    [
        # the first observation replaces the prior, whatever it was
        (Throughput(0.05, 0), 10.0, 100, 2.0, 0.3, Throughput(0.05, 1)),
        (Throughput(9.99, 0), 30.0, 100, 1.0, 0.3, Throughput(0.3, 1)),
        # then 70% old + 30% new by default
        (Throughput(0.1, 1), 20.0, 100, 1.0, 0.3, Throughput(0.7 * 0.1 + 0.3 * 0.2, 2)),
        (Throughput(0.1, 7), 5.0, 100, 1.0, 0.3, Throughput(0.7 * 0.1 + 0.3 * 0.05, 8)),
        (Throughput(0.1, 3), 10.0, 100, 1.0, 0.3, Throughput(0.1, 4)),
        (Throughput(0.1, 3), 20.0, 100, 1.0, 1.0, Throughput(0.2, 4)),
        (Throughput(0.1, 3), 20.0, 100, 1.0, 0.5, Throughput(0.15, 4)),
        # complexity normalises: a twice-as-complex run taking twice as long changes nothing
        (Throughput(0.1, 2), 20.0, 100, 2.0, 0.3, Throughput(0.1, 3)),
    ],
)
def test_observe(
    prior: Throughput,
    seconds: float,
    frames: int,
    complexity: float,
    weight: float,
    expected: Throughput,
) -> None:
    got = prior.observe(seconds, frames, complexity, weight)
    assert got.samples == expected.samples
    assert got.seconds_per_unit == pytest.approx(expected.seconds_per_unit)


def test_observe_converges_to_a_steady_rate() -> None:
    t = DEFAULT_THROUGHPUT
    for _ in range(30):
        t = t.observe(seconds=12.0, frames=100, complexity=1.5)
    assert t.seconds_per_unit == pytest.approx(0.08)
    assert t.samples == 30


@pytest.mark.parametrize(
    ("seconds", "frames", "complexity", "weight", "message"),
    [
        (1.0, 0, 1.0, 0.3, "frames"),
        (1.0, 10, 0.0, 0.3, "complexity"),
        (1.0, 10, math.nan, 0.3, "complexity"),
        (0.0, 10, 1.0, 0.3, "seconds"),
        (-1.0, 10, 1.0, 0.3, "seconds"),
        (math.inf, 10, 1.0, 0.3, "seconds"),
        (1.0, 10, 1.0, 0.0, "weight"),
        (1.0, 10, 1.0, 1.5, "weight"),
    ],
)
def test_observe_rejects_nonsense(
    seconds: float, frames: int, complexity: float, weight: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Throughput(0.1, 1).observe(seconds, frames, complexity, weight)


def test_default_throughput_is_a_prior_in_the_measured_range() -> None:
    assert DEFAULT_THROUGHPUT.samples == 0
    # one plain 1080p layer, x264 veryfast: measured 0.05-0.1 s per frame on one slot
    units = weights.FRAME + weights.LAYER_FIXED + 1.0 + weights.ENCODE["h264"]["veryfast"]
    assert 0.05 <= units * DEFAULT_THROUGHPUT.seconds_per_unit <= 0.1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"seconds_per_unit": "fast", "samples": 1},
        {"seconds_per_unit": -1.0, "samples": 1},
        {"seconds_per_unit": 0.1, "samples": -1},
        {"seconds_per_unit": 0.1},
    ],
)
def test_throughput_from_json_rejects_malformed(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="malformed"):
        Throughput.from_json(data)


# --- Redis history ------------------------------------------------------------------------------


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as c:
        yield c


def test_record_and_load_round_trip(client: redis.Redis) -> None:
    assert load_throughput(client, "cpu") is None
    first = record_throughput(client, "cpu", seconds=10.0, frames=100, complexity=2.0)
    assert first == Throughput(0.05, 1)
    assert load_throughput(client, "cpu") == first
    second = record_throughput(client, "cpu", seconds=30.0, frames=100, complexity=1.0)
    assert second.samples == 2
    assert second.seconds_per_unit == pytest.approx(0.7 * 0.05 + 0.3 * 0.3)
    assert load_throughput(client, "cpu") == second
    # node classes learn separately, side by side in the one hash
    assert load_throughput(client, "gpu-l4") is None
    record_throughput(client, "gpu-l4", seconds=1.0, frames=100, complexity=1.0)
    assert set(client.hkeys(keys.THROUGHPUT)) == {b"cpu", b"gpu-l4"}
    assert load_throughput(client, "cpu") == second
    stored = json.loads(client.hget(keys.THROUGHPUT, "cpu") or b"")
    # The second chunk is 5x off the first: the variance of the rate's log-ratio is 5 squared.
    assert stored == {"seconds_per_unit": second.seconds_per_unit, "samples": 2, "variance": 25.0}


def test_works_with_decoded_responses(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url, decode_responses=True) as c:
        record_throughput(c, "cpu", seconds=5.0, frames=50, complexity=1.0)
        assert load_throughput(c, "cpu") == Throughput(0.1, 1)


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '{"seconds_per_unit": 0}', "{}"])
def test_corrupt_record_reads_as_no_history_and_is_replaced(client: redis.Redis, raw: str) -> None:
    client.hset(keys.THROUGHPUT, "cpu", raw)
    assert load_throughput(client, "cpu") is None
    assert record_throughput(client, "cpu", 8.0, 100, 1.0) == Throughput(0.08, 1)
    assert load_throughput(client, "cpu") == Throughput(0.08, 1)


def test_invalid_observation_leaves_the_record_alone(client: redis.Redis) -> None:
    record_throughput(client, "cpu", 8.0, 100, 1.0)
    with pytest.raises(ValueError, match="frames"):
        record_throughput(client, "cpu", 8.0, 0, 1.0)
    assert load_throughput(client, "cpu") == Throughput(0.08, 1)


def test_concurrent_records_lose_no_update(redis_url: str) -> None:
    threads, each = 8, 25
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def worker() -> None:
        try:
            with redis.Redis.from_url(redis_url) as c:
                start.wait()
                for _ in range(each):
                    record_throughput(c, "cpu", seconds=6.0, frames=100, complexity=1.5)
                    record_throughput(c, "gpu", seconds=1.0, frames=100, complexity=1.0)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    assert not errors
    assert not any(t.is_alive() for t in pool)
    with redis.Redis.from_url(redis_url) as c:
        cpu, gpu = load_throughput(c, "cpu"), load_throughput(c, "gpu")
    assert cpu is not None and gpu is not None
    assert (cpu.samples, gpu.samples) == (threads * each, threads * each)
    assert cpu.seconds_per_unit == pytest.approx(0.04)
    assert gpu.seconds_per_unit == pytest.approx(0.01)
