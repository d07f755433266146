"""What a user sees of a distributed render while it runs: each chunk's state, the job's, and
the progress bar's tail."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from orchestrator.job_record import ChunkState


@dataclass
class ChunkProgress:
    """Live state of one chunk."""

    index: int
    frames: int
    done: int = 0
    state: ChunkState = ChunkState.PENDING
    reused: bool = False  # taken from the segment cache, not rendered


@dataclass
class JobProgress:
    """Live state of a distributed render, handed to the progress callback."""

    frames: int
    chunks: list[ChunkProgress]
    started: float = field(default_factory=time.monotonic)

    @property
    def done(self) -> int:
        """Frames rendered so far."""
        return sum(c.done for c in self.chunks)

    @property
    def finished_chunks(self) -> int:
        """Chunks whose segment is stored."""
        return sum(1 for c in self.chunks if c.state == ChunkState.DONE)

    @property
    def reused_chunks(self) -> int:
        """Chunks taken from the segment cache instead of being rendered."""
        return sum(1 for c in self.chunks if c.reused)

    @property
    def reused_frames(self) -> int:
        """Frames of the chunks taken from the segment cache (done at once, not rendered)."""
        return sum(c.frames for c in self.chunks if c.reused)


def progress_detail(state: JobProgress, shown: int = 6) -> str:
    """The progress bar's tail: chunks finished, then the running ones with their percent."""
    running = [c for c in state.chunks if c.state == ChunkState.RUNNING]
    detail = " ".join(f"#{c.index}:{100 * c.done // max(c.frames, 1)}%" for c in running[:shown])
    more = f" +{len(running) - shown}" if len(running) > shown else ""
    total = len(state.chunks)
    reused = f" (reused {state.reused_chunks} of {total} chunks)" if state.reused_chunks else ""
    return f"chunks {state.finished_chunks}/{total}{reused} {detail}{more}".rstrip()
