"""What a node's benchmark measured (workers.benchmark runs it): a plain record, so that what
only reads stored measurements (the autoscaler's view of pools, ``cluster status``) loads no
media stack."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class BenchmarkResult:
    """What one benchmark run measured on this node."""

    frames: int
    width: int
    height: int
    #: complexity units per frame of the slice (chunking.complexity)
    units: float
    #: wall seconds of the whole render, and the CPU seconds of this process meanwhile
    seconds: float
    cpu_seconds: float
    fps: float
    #: one worker slot's seconds per frame (see the module docstring), and per unit
    slot_seconds_per_frame: float
    seconds_per_unit: float
    #: seconds per frame of each stage timed alone: decode, composite, encode, audio
    stages: dict[str, float]
    encoder: str
    hardware: bool
    gpu: bool
    gpu_model: str
    vcpus: int
    slots: int
    fingerprint: str
    measured_at: float
    warnings: list[str] = field(default_factory=list)
    #: the slice's pipeline parallelism (chunking.complexity.pipeline_parallelism): what its
    #: CPU over its wall time would be with no overheads (0: a record from before it was kept)
    pipeline: float = 0.0
    #: wall seconds of the same render while every slot renders it at once
    #: (``workers.benchmark_beside``; 0: one slot, the measure failed, or a record from before)
    beside_seconds: float = 0.0
    #: wall seconds of the render alone again, after the slots' renders (0: one slot, the
    #: measure failed, or a record from before): the speed-up of a lone chunk compares the
    #: slots' renders with the mean of the two, so a load that rose or fell while the benchmark
    #: ran is not read as a speed-up (on 2026-12-07 a shared machine read alone 2.91 s, beside
    #: 7.14 s: 2.45x on 2 vCPUs, more than the cores could give)
    alone_again_seconds: float = 0.0

    @property
    def alone_cores(self) -> float:
        """How many cores one chunk keeps busy alone, as the estimate's concurrency model reads
        it (``estimate_math.concurrency_speed``): from how much faster the render ran alone than
        beside the other slots (which counts their contention for caches and SMT siblings
        too), else its CPU over its wall time (its own overlap only); 0 when unknown."""
        if self.seconds <= 0:
            return 0.0
        overlap = self.cpu_seconds / self.seconds
        if self.beside_seconds <= 0 or self.slots < 2 or self.vcpus < 1:
            return overlap
        # Beside, each slot has vcpus / slots cores; alone it ran `ratio` times faster. A chunk
        # keeps no more cores busy than the node has (a loaded machine can read more).
        alone = self.seconds
        if self.alone_again_seconds > 0:
            alone = (self.seconds + self.alone_again_seconds) / 2  # bracketing the slots' renders
        ratio = self.beside_seconds / alone
        return min(max(overlap, ratio * self.vcpus / self.slots), float(self.vcpus))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BenchmarkResult:
        """Rebuild from to_json(); ValueError on anything malformed."""
        try:
            result = cls(
                frames=int(data["frames"]),
                width=int(data["width"]),
                height=int(data["height"]),
                units=float(data["units"]),
                seconds=float(data["seconds"]),
                cpu_seconds=float(data["cpu_seconds"]),
                fps=float(data["fps"]),
                slot_seconds_per_frame=float(data["slot_seconds_per_frame"]),
                seconds_per_unit=float(data["seconds_per_unit"]),
                stages={str(k): float(v) for k, v in dict(data["stages"]).items()},
                encoder=str(data["encoder"]),
                hardware=bool(data["hardware"]),
                gpu=bool(data["gpu"]),
                gpu_model=str(data.get("gpu_model") or ""),
                vcpus=int(data["vcpus"]),
                slots=int(data["slots"]),
                fingerprint=str(data["fingerprint"]),
                measured_at=float(data["measured_at"]),
                warnings=[str(w) for w in data.get("warnings") or []],
                pipeline=float(data.get("pipeline") or 0.0),
                beside_seconds=float(data.get("beside_seconds") or 0.0),
                alone_again_seconds=float(data.get("alone_again_seconds") or 0.0),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed benchmark record: {exc}") from None
        if not (math.isfinite(result.seconds_per_unit) and result.seconds_per_unit > 0):
            raise ValueError(f"malformed benchmark record: rate {result.seconds_per_unit!r}")
        return result

    def summary(self) -> str:
        """One readable block for a terminal."""
        stages = ", ".join(f"{name} {1000 * s:.0f} ms" for name, s in self.stages.items())
        gpu = f"yes ({self.gpu_model})" if self.gpu else "no"
        return "\n".join(
            [
                f"node benchmark: {self.frames} frames of {self.width}x{self.height}, "
                f"{self.units:.2f} units per frame",
                f"  render       {self.seconds:.2f} s wall, {self.cpu_seconds:.2f} s CPU, "
                f"{self.fps:.2f} frames/s",
                f"  per stage    {stages} per frame (each alone)",
                f"  per slot     {self.slot_seconds_per_frame:.3f} s per frame, "
                f"{self.seconds_per_unit:.4f} s per unit ({self.slots} slots on "
                f"{self.vcpus} vCPUs)",
                f"  beside       {self.beside_seconds:.2f} s wall with every slot rendering, "
                f"{self.alone_again_seconds:.2f} s alone again after "
                f"({self.alone_cores:.2f} cores for a chunk alone)",
                f"  encoder      {self.encoder}{' (hardware)' if self.hardware else ''}",
                f"  GPU          {gpu}",
                f"  fingerprint  {self.fingerprint}",
            ]
        )
