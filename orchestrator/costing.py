"""Render time and cost estimates: a pure pricing core plus a Redis-backed throughput history.

A timeline's cost is ``frames x complexity`` work units (``chunking.complexity``); a node class
turns units into seconds at its learned ``seconds_per_unit``. That rate starts from a prior,
is replaced by the first finished chunk and then follows an exponentially weighted moving
average, so it tracks a node class that gets faster or slower without jumping on one noisy
chunk. Beside it, an EWMA of each chunk's squared relative deviation from the rate before it
gives the spread of the per-chunk rate. Before a class has history, its node benchmark or the
catalogue stands in (``orchestrator.node_class``).
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass
from typing import Any

import redis

from orchestrator import keys

log = logging.getLogger(__name__)

#: Where an estimate's throughput came from.
#: ("calibration": estimates made before the node benchmark replaced the client's calibration.)
BASES = frozenset({"history", "benchmark", "catalogue", "calibration", "default"})
#: Runs a class needs before its measured spread is used (two give the first deviation).
SPREAD_SAMPLES = 3


@dataclass(frozen=True)
class Throughput:
    """Seconds of one worker slot per frame per complexity unit, and how many runs taught it."""

    seconds_per_unit: float
    samples: int
    #: EWMA of each run's squared relative deviation from the rate before it; None until a
    #: second run, and in records written before it was kept (they read as "unknown")
    variance: float | None = None

    def observe(
        self, seconds: float, frames: int, complexity: float, weight: float = 0.3
    ) -> Throughput:
        """Fold one measured run into the rate (EWMA; the first observation replaces the prior)."""
        measured = measured_rate(seconds, frames, complexity)
        if not 0 < weight <= 1:
            raise ValueError(f"weight must be in (0, 1], got {weight}")
        if self.samples <= 0:
            return Throughput(measured, 1)
        # The deviation from the rate an estimate would have used: the error a quote makes.
        square = ((measured - self.seconds_per_unit) / self.seconds_per_unit) ** 2
        variance = (
            square if self.variance is None else (1 - weight) * self.variance + weight * square
        )
        blended = (1 - weight) * self.seconds_per_unit + weight * measured
        return Throughput(blended, self.samples + 1, variance)

    @property
    def spread(self) -> float | None:
        """Relative standard deviation of one run's rate, once SPREAD_SAMPLES runs taught it."""
        if self.variance is None or self.samples < SPREAD_SAMPLES:
            return None
        return math.sqrt(self.variance)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary ("variance" only once known, so old readers see old records)."""
        data: dict[str, Any] = {"seconds_per_unit": self.seconds_per_unit, "samples": self.samples}
        if self.variance is not None:
            data["variance"] = self.variance
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Throughput:
        """Rebuild from to_json(); raises ValueError on anything malformed."""
        try:
            rate = float(data["seconds_per_unit"])
            samples = int(data["samples"])
            raw = data.get("variance")
            variance = None if raw is None else float(raw)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed throughput record {data!r}: {exc}") from None
        if not (math.isfinite(rate) and rate > 0) or samples < 0:
            raise ValueError(f"malformed throughput record {data!r}")
        if variance is not None and not (math.isfinite(variance) and variance >= 0):
            raise ValueError(f"malformed throughput record {data!r}")
        return cls(rate, samples, variance)


#: Prior for a node class with no history. Measured on the development machine (2 vCPUs, shared
#: with other jobs, 2026-11/12) with ``workers.render.render_to_file``: one full-canvas 1080p30
#: H.264 source layer, encoded with libx264 veryfast into Matroska by one process, encoder threads
#: capped at 1 (a worker slot). Seconds per frame over repeated runs: flat colour 0.023-0.035,
#: textured grainy footage 0.049-0.076, pure noise 0.09-0.14; under heavy load from other jobs
#: everything took about twice as long. Such a frame is 3.4 units (``chunking.weights``: the layer,
#: the veryfast encode, the frame); the prior takes 0.085 s per frame, the slow end of textured
#: footage: 0.025 s per unit. Quoting high beats overrunning a user's max cost, and the first real
#: observation replaces the prior anyway.
DEFAULT_THROUGHPUT = Throughput(seconds_per_unit=0.025, samples=0)


def measured_rate(seconds: float, frames: int, complexity: float) -> float:
    """Seconds per frame per complexity unit of one run; ValueError when the run says nothing."""
    if frames < 1:
        raise ValueError(f"frames must be at least 1, got {frames}")
    if not (math.isfinite(complexity) and complexity > 0):
        raise ValueError(f"complexity must be a positive number, got {complexity}")
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"seconds must be a positive number, got {seconds}")
    return seconds / (frames * complexity)


@dataclass(frozen=True)
class Estimate:
    """What a render is expected to take and cost."""

    frames: int
    complexity: float
    seconds_per_frame: float
    #: worker-slot seconds summed over every chunk: what is billed
    node_seconds: float
    #: submission to finished output with the given workers
    wall_seconds: float
    cost: float
    hourly_rate: float
    basis: str  # one of BASES

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)


def cost_of(node_seconds: float, hourly_rate: float) -> float:
    """Dollars for this many node seconds at an hourly rate (per-second billing, no minimum)."""
    return node_seconds / 3600 * hourly_rate


def estimate(
    frames: int,
    complexity: float,
    throughput: Throughput,
    *,
    workers: int,
    chunk_count: int,
    hourly_rate: float,
    basis: str,
    startup_seconds: float = 2.0,
    per_chunk_seconds: float = 0.3,
    audio_units: float = 0.0,
) -> Estimate:
    """Estimate node time, wall time and cost of rendering `frames` frames of this complexity,
    and of the job's audio task of `audio_units` (``chunking.audio_cost``), which runs beside
    the chunks: an audio-only job (no frame, no chunk) is that task alone."""
    if frames < 0:
        raise ValueError(f"frames must not be negative, got {frames}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if chunk_count < 0 or (frames > 0 and chunk_count < 1):
        raise ValueError(f"chunk_count must be at least 1 for {frames} frames, got {chunk_count}")
    if hourly_rate < 0:
        raise ValueError(f"hourly_rate must not be negative, got {hourly_rate}")
    if basis not in BASES:
        raise ValueError(f"basis must be one of {sorted(BASES)}, got {basis!r}")
    if not (math.isfinite(audio_units) and audio_units >= 0):
        raise ValueError(f"audio_units must be >= 0, got {audio_units!r}")
    seconds_per_frame = complexity * throughput.seconds_per_unit
    chunk_seconds = frames * seconds_per_frame + chunk_count * per_chunk_seconds
    audio_seconds = audio_units * throughput.seconds_per_unit
    # More workers than chunks leaves the extra workers idle.
    parallel = max(1, min(workers, chunk_count))
    return Estimate(
        frames=frames,
        complexity=complexity,
        seconds_per_frame=seconds_per_frame,
        node_seconds=chunk_seconds + audio_seconds,
        wall_seconds=max(chunk_seconds / parallel, audio_seconds) + startup_seconds,
        cost=cost_of(chunk_seconds + audio_seconds, hourly_rate),
        hourly_rate=hourly_rate,
        basis=basis,
    )


#: The node class of a worker outside any pool (a pool's nodes are of the class named after
#: the pool: ``orchestrator.node_class.node_class_name``).
NODE_CLASS = "local-cpu"


# -- Redis shell ----------------------------------------------------------------------------------


def load_throughput(client: redis.Redis, node_class: str) -> Throughput | None:
    """The learned throughput of a node class, or None when it has no (readable) history."""
    return _parse(client.hget(keys.THROUGHPUT, node_class), node_class)


def record_throughput(
    client: redis.Redis, node_class: str, seconds: float, frames: int, complexity: float
) -> Throughput:
    """Fold one run into a node class's stored throughput atomically and return the new value."""
    # Validate before touching Redis so a bad report fails loudly instead of inside a retry loop.
    measured_rate(seconds, frames, complexity)

    def update(pipe: Any) -> Throughput:
        # WATCH (set up by transaction()) makes EXEC fail if another worker wrote in between;
        # transaction() then re-runs this with fresh data, so no observation is lost.
        old = _parse(pipe.hget(keys.THROUGHPUT, node_class), node_class)
        new = (old or DEFAULT_THROUGHPUT).observe(seconds, frames, complexity)
        pipe.multi()
        pipe.hset(keys.THROUGHPUT, node_class, json.dumps(new.to_json()))
        return new

    result: Throughput = client.transaction(update, keys.THROUGHPUT, value_from_callable=True)
    return result


def _parse(raw: Any, node_class: str) -> Throughput | None:
    if raw is None:
        return None
    try:
        return Throughput.from_json(json.loads(raw))
    except (ValueError, TypeError) as exc:
        # A corrupt record must not block estimates: fall back to the prior and let the next
        # observation overwrite it.
        log.warning("ignoring throughput record for %r: %s", node_class, exc)
        return None
