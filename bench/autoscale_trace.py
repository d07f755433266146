"""The simulated farm's inputs (``bench/autoscale_sim.py``): its pools at list prices and a seeded
day of jobs with deadlines, GPU needs and priorities."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from bench.node_speed import CPU_RATE, seconds_per_unit
from orchestrator.autoscaler.sizing import CHUNK_UNITS
from providers.compute.pools import Pool

DAY = 24 * 3600.0
#: Worker slots of the CPU node an ETA is measured on (c7i.2xlarge: 8 vCPUs, 2 per slot).
CPU_SLOTS = 4


def bench_pools() -> dict[str, Pool]:
    """CPU spot, CPU on-demand and GPU on-demand pools at us-east-1 list prices."""

    def cpu(name: str, market: str, price: float) -> Pool:
        return Pool(
            name, "aws", "c6i.2xlarge", vcpus=8, memory_gb=16.0, market=market,
            region="us-east-1", max_nodes=24, boot_seconds=90.0, price_per_hour=price,
            concurrency=4,
        )  # fmt: skip

    gpu = Pool(
        "gpu-od", "aws", "g5.xlarge", vcpus=4, memory_gb=16.0, gpu="A10G", gpus=1, nvenc=True,
        region="us-east-1", max_nodes=8, boot_seconds=180.0, price_per_hour=1.006, concurrency=2,
    )  # fmt: skip
    return {"cpu-spot": cpu("cpu-spot", "spot", 0.14), "cpu-od": cpu("cpu-od", "on-demand", 0.34),
            "gpu-od": gpu}  # fmt: skip


def rate_of(pool: Pool) -> float:
    """Seconds per unit of one slot of the pool's node class (``bench.node_speed``)."""
    return seconds_per_unit(pool)


@dataclass
class Job:
    """One job of the trace and how it went."""

    id: str
    submitted: float
    units: float
    deadline: float | None
    needs_gpu: bool
    priority: str
    chunks: int
    pending: int = 0
    running: int = 0
    done: int = 0
    last_dispatch: float = 0.0
    started: float | None = None
    finished: float | None = None

    @property
    def chunk_units(self) -> float:
        """Units of one chunk."""
        return self.units / self.chunks

    @property
    def left_units(self) -> float:
        """Units not yet rendered (running chunks count whole)."""
        return (self.pending + self.running) * self.chunk_units

    def eta(self) -> float:
        """Seconds its remaining work takes one CPU node: its chunks in rounds of the node's
        slots, each a whole chunk's time (a job of fewer chunks than slots cannot spread over
        them; until 2026-12-07 its work over 4 slots, so a one-chunk job escalated a quarter of
        its chunk's time before its deadline and missed it behind jobs escalated long before)."""
        chunks = self.pending + self.running
        return math.ceil(chunks / CPU_SLOTS) * self.chunk_units * CPU_RATE


def trace(seed: int, hours: float) -> list[Job]:
    """A seeded day of jobs: arrivals heavier in working hours, seconds to hours of work, some
    with deadlines (some tight), some needing a GPU."""
    rng = random.Random(seed)
    jobs: list[Job] = []
    t = 0.0
    while True:
        hour = t / 3600 % 24
        per_hour = 14.0 if 9 <= hour < 18 else 7.0 if 7 <= hour < 21 else 2.0
        t += rng.expovariate(per_hour / 3600)
        if t >= hours * 3600:
            return jobs
        slot_seconds = 10 ** rng.uniform(1.0, 4.6)  # 10 s to 11 h of one CPU slot
        units = slot_seconds / CPU_RATE
        deadline = None
        if rng.random() < 0.35:
            # As if 4 nodes worked on it alone, with 1-4x slack and a boot.
            deadline = t + 300 + slot_seconds / 16 * rng.uniform(1.0, 4.0)
        jobs.append(
            Job(
                id=f"j{len(jobs):03d}",
                submitted=t,
                units=units,
                deadline=deadline,
                needs_gpu=rng.random() < 0.15,
                priority="high" if rng.random() < 0.1 else "normal",
                chunks=max(1, math.ceil(units / CHUNK_UNITS)),
            )
        )
