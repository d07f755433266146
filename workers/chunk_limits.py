"""The resource limits of a chunk's render process, and what its end means (pure).

The address space is ``chunk_memory_bytes``, by default twice the per-frame budget
(``max_frame_bytes``) plus room for Python and the libraries, and per core for the decoder and
encoder threads; the CPU time is ``chunk_cpu_seconds``, by default the task's hard time limit on
every core (a backstop for a render process outliving its worker); a file the render process
writes may reach twice the chunk's raw frames. On a node with NVIDIA devices the memory limit is
on the data segment (``RLIMIT_DATA``) instead: CUDA reserves address space far beyond what it
uses, so an address-space limit would stop NVENC.

A limit hit is deterministic (the same chunk hits it on any worker), so it fails the job with one
line; a render process that dies for no reason of its own is ``ChunkCrashed``, which the task
hands to another worker like any unexpected failure.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from typing import Any

from chunking.timeline.model import Timeline
from common.errors import RenderError
from common.settings import Settings
from workers.render_process import CPU, FILE_SIZE, MEMORY

#: Address space a render process needs besides its frames: Python, NumPy, PyAV and the
#: worker's own libraries (a fork shares the worker's), and per core the decoder and encoder
#: threads' stacks and x264's per-thread frames (measured at 1080p: about 32 MB per encoder
#: thread, 1.1 GB in all for a plain chunk, 1.75 GB with three layers and four effects).
BASE_MEMORY = 2 * 2**30
PER_CPU_MEMORY = 64 * 2**20
PER_CPU_PIXEL_BYTES = 24
#: Frames (at the per-frame budget) a render process may hold at once: the one being composited
#: and the pictures its decoders and the prefetch queue keep.
FRAMES_IN_MEMORY = 2
#: Files a render process writes may be this many times the chunk's raw RGB frames, plus slack.
FILE_FACTOR = 2
FILE_SLACK = 256 * 2**20


class ChunkLimitExceeded(RenderError):
    """A chunk needed more memory, CPU time or file space than its render process may have."""


class ChunkCrashed(RuntimeError):
    """The render process died without a reason of its own: another worker may try the chunk."""


class ChunkSpinning(ChunkCrashed):
    """The render process kept working without a new frame for too long (``workers.liveness``
    FrameClock): killed, and the chunk handed to another worker as a crash is, so the failover's
    node limit fails its job, naming it, when it spins wherever it runs."""


def spinning(frame: int, sources: str, seconds: float, limit: float) -> ChunkSpinning:
    """The one-line error of a render stopped for making no new frame in ``limit`` seconds."""
    return ChunkSpinning(
        f"made no new frame in {seconds:.0f} s (limit {limit:.0f} s) while its render process "
        f"kept running, on frame {frame}: {sources}; a file there may make the demuxer or "
        "decoder loop: re-encode it"
    )


def flush_spinning(last: int, seconds: float, limit: float) -> ChunkSpinning:
    """The one-line error of a render stopped for ending no sooner than ``limit`` seconds
    after its last frame (``last``) was made: the encoder's flush looped."""
    return ChunkSpinning(
        f"its render process kept running {seconds:.0f} s (limit {limit:.0f} s) after its "
        f"last frame ({last}) was made, without ending: the encoder's flush or the muxer "
        "looped; try another codec or encoder"
    )


@dataclass(frozen=True)
class ChunkLimits:
    """Resource limits of one chunk's render process."""

    memory_bytes: int
    cpu_seconds: int | None
    file_bytes: int
    memory_rlimit: str = "AS"  # "AS" (address space) or "DATA" (on NVIDIA nodes)

    def as_json(self) -> dict[str, Any]:
        """The limits as the render process receives them."""
        return {
            "memory_bytes": self.memory_bytes,
            "cpu_seconds": self.cpu_seconds,
            "file_bytes": self.file_bytes,
            "memory_rlimit": self.memory_rlimit,
        }


def default_memory_bytes(max_frame_bytes: int, cpus: int, pixels: int) -> int:
    """The address-space limit when none is configured: never below what legit work needs."""
    per_cpu = PER_CPU_MEMORY + PER_CPU_PIXEL_BYTES * pixels
    return FRAMES_IN_MEMORY * max_frame_bytes + BASE_MEMORY + per_cpu * cpus


def chunk_limits(
    settings: Settings,
    timeline: Timeline,
    frames: int,
    time_limit: float | None,
    *,
    cpus: int | None = None,
    nvidia: bool | None = None,
) -> ChunkLimits:
    """The limits of a chunk of ``frames`` frames of ``timeline`` under these settings."""
    cpus = cpus or os.cpu_count() or 1
    pixels = timeline.width * timeline.height
    memory = settings.chunk_memory_bytes or default_memory_bytes(
        settings.max_frame_bytes, cpus, pixels
    )
    cpu = settings.chunk_cpu_seconds
    if cpu is None and time_limit:
        cpu = int(time_limit * cpus) + 1
    raw = frames * pixels * 3
    nvidia = os.path.exists("/dev/nvidiactl") if nvidia is None else nvidia
    return ChunkLimits(memory, cpu, FILE_FACTOR * raw + FILE_SLACK, "DATA" if nvidia else "AS")


def failure_of(
    status: int, report: dict[str, Any] | None, limits: ChunkLimits
) -> BaseException | None:
    """What a render process's exit status and last report mean; None when it succeeded."""
    if report is not None and "error" in report:
        error = report["error"]
        kind = error.get("kind") if isinstance(error, dict) else None
        message = str(error.get("message", "")) if isinstance(error, dict) else ""
        if kind in (MEMORY, CPU, FILE_SIZE):
            return limit_exceeded(kind, limits)
        if kind == "render":
            return _render_error(error, message)
        return ChunkCrashed(f"the chunk's render process failed: {message[:500]}")
    if status == 0 and report is not None and isinstance(report.get("done"), dict):
        return None
    if status < 0:
        sig = -status
        if sig == signal.SIGXCPU:
            return limit_exceeded(CPU, limits)
        if sig == signal.SIGXFSZ:
            return limit_exceeded(FILE_SIZE, limits)
        if sig in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT):
            # An allocation refused under the chunk's own limit ends native code like this.
            name = signal.Signals(sig).name
            return limit_exceeded(MEMORY, limits, f"; its render process died of {name}")
        if sig == signal.SIGKILL:
            # Never the chunk's limit (an address-space limit refuses allocations, it kills
            # nothing): the node's OOM killer, making room for another process, or an operator.
            # The chunk may well fit elsewhere: a node fault, retried, not the project's.
            return ChunkCrashed(
                "the chunk's render process was killed (SIGKILL: the node's out-of-memory "
                "killer or an operator)"
            )
        return ChunkCrashed(f"the chunk's render process was killed by signal {sig}")
    return ChunkCrashed(f"the chunk's render process exited with status {status} without a result")


def limit_exceeded(kind: str, limits: ChunkLimits, detail: str = "") -> ChunkLimitExceeded:
    """The one-line error of a chunk stopped by one of its limits."""
    if kind == MEMORY:
        return ChunkLimitExceeded(
            f"ran out of memory (limit {_gb(limits.memory_bytes)}){detail}: the project needs "
            "more memory per frame than a chunk may use (CLOUDRENDER_CHUNK_MEMORY_BYTES)"
        )
    if kind == CPU:
        return ChunkLimitExceeded(
            f"exceeded its CPU time limit ({limits.cpu_seconds} s, CLOUDRENDER_CHUNK_CPU_SECONDS)"
        )
    return ChunkLimitExceeded(
        f"exceeded its file size limit ({_gb(limits.file_bytes)}): the segment grew far beyond "
        "the chunk's raw frames"
    )


def _render_error(error: dict[str, Any], message: str) -> RenderError:
    """The child's RenderError, rebuilt as its class from the one exception tree."""
    import common.errors as errors

    cls = getattr(errors, str(error.get("class", "")), RenderError)
    if (
        not (isinstance(cls, type) and issubclass(cls, RenderError))
        or cls is errors.ValidationError
    ):
        cls = RenderError
    exc = cls(message[:2000])
    exc.transient = bool(error.get("transient", False))
    return exc


def _gb(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"
