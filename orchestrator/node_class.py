"""Throughput per node class: what estimates and chunk sizing take a class's speed to be.

A node class is the pool a node was launched in (its name), or ``local-cpu`` for a worker
outside any pool. Its throughput comes from the best source known, in this order:

    history     the EWMA of its finished chunks (orchestrator.costing), with the measured
                spread of the per-chunk rate once SPREAD_SAMPLES chunks taught it
    benchmark   its node benchmark (workers.benchmark), recorded by its first worker
    catalogue   an unseen class: the catalogue's relative speed (render throughput relative to
                ``local-cpu`` = 1.0) applied to the best measured class, with a wide spread
    default     the prior (costing.DEFAULT_THROUGHPUT), wider still

``spread`` is the relative standard deviation of one chunk's rate: what a range around an
estimate is made from.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import redis

from orchestrator import keys
from orchestrator.costing import DEFAULT_THROUGHPUT, NODE_CLASS, Throughput, load_throughput
from workers.benchmark_result import BenchmarkResult

log = logging.getLogger(__name__)

#: Where a class's throughput came from.
SOURCES = frozenset({"history", "benchmark", "catalogue", "default"})
#: Spread of a class's history before enough chunks measured it, and its floor after: a few
#: steady chunks must not promise a range narrower than chunk-to-chunk noise.
HISTORY_SPREAD = 0.15
MIN_HISTORY_SPREAD = 0.05
#: A benchmark is one generated slice, not the user's project: its error is the complexity
#: model's error on a real timeline.
BENCHMARK_SPREAD = 0.2
#: An unseen class priced from the catalogue's relative speed of a measured class.
CATALOGUE_SPREAD = 0.5
#: Nothing measured at all: the prior.
DEFAULT_SPREAD = 0.6


@dataclass(frozen=True)
class ClassThroughput:
    """A node class's seconds per frame per complexity unit, how sure, and where it came from."""

    seconds_per_unit: float
    #: relative standard deviation of one chunk's rate
    spread: float
    samples: int
    source: str  # one of SOURCES
    #: the encoder its benchmark opened ("" when it has none)
    encoder: str = ""
    gpu: bool = False

    def throughput(self) -> Throughput:
        """As a costing.Throughput (what costing.estimate takes)."""
        return Throughput(self.seconds_per_unit, self.samples)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def node_class_name(pool: str | None) -> str:
    """The node class of a node of this pool ("local-cpu" outside any pool)."""
    return pool.strip() if pool and pool.strip() else NODE_CLASS


def node_heartbeat(client: redis.Redis, node: str | None) -> dict[str, Any] | None:
    """A live node's heartbeat payload, None without one (or an unreadable one)."""
    if not node:
        return None
    try:
        beat = json.loads(client.get(keys.node(str(node))) or "null")
    except ValueError:
        return None
    return beat if isinstance(beat, dict) else None


def class_of(beat: dict[str, Any] | None) -> str | None:
    """The class of a node with this heartbeat (its pool's); None without a heartbeat."""
    if beat is None:
        return None
    pool = beat.get("pool")
    return node_class_name(pool if isinstance(pool, str) else None)


def node_class_of(client: redis.Redis, node: str | None) -> str | None:
    """The class of a live node, from its heartbeat's pool; None when it has no heartbeat."""
    return class_of(node_heartbeat(client, node))


# -- benchmarks ------------------------------------------------------------------------------------


def record_benchmark(client: redis.Redis, node_class: str, result: BenchmarkResult) -> None:
    """Store a benchmark result as its node class's (replacing an older one)."""
    client.hset(keys.BENCHMARKS, node_class, json.dumps(result.to_json()))


def load_benchmark(client: redis.Redis, node_class: str) -> BenchmarkResult | None:
    """A node class's benchmark result, or None when it has none (or an unreadable one)."""
    return _parse_benchmark(client.hget(keys.BENCHMARKS, node_class), node_class)


def has_benchmark(client: redis.Redis, node_class: str) -> bool:
    """Whether the cluster has a readable benchmark of this node class."""
    return load_benchmark(client, node_class) is not None


# -- throughput ------------------------------------------------------------------------------------


def class_throughput(
    client: redis.Redis,
    node_class: str,
    *,
    relative_speed: float | None = None,
    speeds: Mapping[str, float] | None = None,
) -> ClassThroughput:
    """The throughput of a node class: measured if known (history, then its benchmark), else
    ``relative_speed`` (the catalogue's, for this class) times the best measured class, else
    the prior. ``speeds`` gives the catalogue's relative speed of other classes, so any
    measured one of them can be the reference ("local-cpu" is 1.0 by definition)."""
    if relative_speed is not None and not (math.isfinite(relative_speed) and relative_speed > 0):
        raise ValueError(f"relative_speed must be a positive number, got {relative_speed!r}")
    own = _measured(client, node_class)
    if own is not None:
        return own
    if relative_speed is None:
        return ClassThroughput(
            DEFAULT_THROUGHPUT.seconds_per_unit, DEFAULT_SPREAD, 0, "default", "", False
        )
    reference = _reference(client, {**(speeds or {}), NODE_CLASS: 1.0})
    if reference is None:
        # Nothing measured: the prior is local-cpu's, so the relative speed still applies.
        rate, spread = DEFAULT_THROUGHPUT.seconds_per_unit, DEFAULT_SPREAD
    else:
        measured, speed = reference
        rate, spread = measured.seconds_per_unit * speed, CATALOGUE_SPREAD
    return ClassThroughput(rate / relative_speed, spread, 0, "catalogue", "", False)


def _measured(client: redis.Redis, node_class: str) -> ClassThroughput | None:
    """A class's own measurement: its history when it has any, else its benchmark."""
    history = load_throughput(client, node_class)
    bench = load_benchmark(client, node_class)
    encoder = bench.encoder if bench else ""
    gpu = bench.gpu if bench else False
    if history is not None and history.samples > 0:
        spread = history.spread
        spread = HISTORY_SPREAD if spread is None else max(spread, MIN_HISTORY_SPREAD)
        return ClassThroughput(
            history.seconds_per_unit, spread, history.samples, "history", encoder, gpu
        )
    if bench is not None:
        return ClassThroughput(
            bench.seconds_per_unit, BENCHMARK_SPREAD, 1, "benchmark", encoder, gpu
        )
    return None


def _reference(
    client: redis.Redis, speeds: Mapping[str, float]
) -> tuple[ClassThroughput, float] | None:
    """The best measured class of those with a known relative speed, and its speed: the one
    with most chunks of history, else a benchmarked one (local-cpu first, then by name)."""
    found = []
    for name, speed in speeds.items():
        if not (math.isfinite(speed) and speed > 0):
            continue
        measured = _measured(client, name)
        if measured is not None:
            taught = measured.samples if measured.source == "history" else 0
            found.append(((-taught, name != NODE_CLASS, name), measured, speed))
    if not found:
        return None
    _, measured, speed = min(found, key=lambda item: item[0])
    return measured, speed


def _parse_benchmark(raw: Any, node_class: str) -> BenchmarkResult | None:
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not an object")
        return BenchmarkResult.from_json(data)
    except ValueError as exc:
        # A corrupt record must not block estimates: the next benchmark replaces it.
        log.warning("ignoring benchmark record for %r: %s", node_class, exc)
        return None


#: Worker slots of the reference node class the catalogue's relative speeds are against (the
#: 2-vCPU development node, one slot per vCPU).
REFERENCE_SLOTS = 2


def slot_speed(node_speed: float, slots: int) -> float:
    """A catalogue speed (a whole node against the 2-vCPU reference node) as the speed of one of
    the node's `slots` worker slots against one reference slot: the rates here are per slot."""
    return node_speed * REFERENCE_SLOTS / max(slots, 1)
