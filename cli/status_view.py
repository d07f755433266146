"""How the command line shows work: a job record as `cloudrender status` prints it (pure
formatting) and the live progress bar of `cloudrender render`."""

from __future__ import annotations

import time
from collections import Counter
from typing import TextIO

from orchestrator.job_record import ChunkState, JobRecord

BAR = 30
#: Amounts from here up are shown in four significant digits (no job costs this much).
HUGE_DOLLARS = 1e12


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun``, with an ``s`` unless there is exactly one ("1 slot", "2 slots")."""
    return f"{count} {noun}{'s' * (count != 1)}"


def money(dollars: float) -> str:
    """Dollars to a cent's hundredth, or to the micro-dollar below a cent (a local job's);
    a trillion or more in four significant digits (a 300-digit --max-cost filled the screen)."""
    if not abs(dollars) < HUGE_DOLLARS:
        return f"${dollars:.4g}"
    return f"${dollars:.6f}" if 0 < abs(dollars) < 0.01 else f"${dollars:.4f}"


def money4(dollars: float) -> str:
    """Dollars to a cent's hundredth, as `status` shows them (huge ones as `money` does)."""
    return f"${dollars:.4f}" if abs(dollars) < HUGE_DOLLARS else money(dollars)


def render_status(job: JobRecord, now: float | None = None) -> str:
    """Several lines: state, progress bar, frames, fps, ETA, cost so far, chunks."""
    now = time.time() if now is None else now
    filled = int(BAR * job.progress)
    elapsed = (job.finished_at or now) - job.started_at if job.started_at else 0.0
    fps = job.rendered_frames / elapsed if elapsed > 0 else 0.0
    running_cost = _running_cost(job, now)
    priority = (
        job.priority
        if job.effective_priority == job.priority
        else (f"{job.priority} -> {job.effective_priority} (deadline)")
    )
    lines = [
        f"job {job.id} {job.name!r}: {job.state}  priority {priority}",
        f"[{'#' * filled}{'.' * (BAR - filled)}] {100 * job.progress:5.1f}%  "
        f"{job.frames_done}/{job.frames} frames  {fps:.1f} fps  ETA {_eta(job, fps)}",
        f"cost so far {money4(running_cost)} (estimate {money4(job.estimated_cost or 0)}"
        + (f", limit {money4(job.max_cost)}" if job.max_cost is not None else "")
        + ")",
    ]
    counts = Counter(c.state for c in job.chunks)
    if job.chunks:
        lines.append("chunks: " + ", ".join(f"{counts[s]} {s}" for s in ChunkState if counts[s]))
    reused = job.reused_chunks
    if reused:
        lines.append(f"reused {reused} of {len(job.chunks)} chunks from the segment cache")
    for chunk in job.chunks:
        if chunk.state is ChunkState.RUNNING:
            lines.append(
                f"  #{chunk.index} frames {chunk.start}-{chunk.end - 1} on "
                f"{chunk.node}: {chunk.frames_done}/{chunk.frames}"
            )
    if job.node_failures:
        lines.append(
            "failures by worker: "
            + ", ".join(f"{node} {count}" for node, count in sorted(job.node_failures.items()))
        )
    lines += [f"note: {note}" for note in job.notes]
    if job.error:
        lines.append(f"error: {job.error}")
    if job.state.value == "completed":
        undelivered = (job.result or {}).get("delivery_error")
        if undelivered:
            lines.append(f"warning: {undelivered}")
            lines.append(f"the video is kept: cloudrender download {job.id} -o FILE")
        else:
            lines.append(f"output: {job.output}")
    return "\n".join(lines)


def _running_cost(job: JobRecord, now: float) -> float:
    seconds = job.node_seconds
    for chunk in job.chunks:
        if chunk.state is ChunkState.RUNNING and chunk.started_at:
            seconds += now - chunk.started_at
    return job.actual_cost if job.state.finished else seconds / 3600 * job.hourly_rate


def _eta(job: JobRecord, fps: float) -> str:
    if job.state.finished:
        return "-"
    if fps > 0:
        return f"{(job.frames - job.frames_done) / fps:.0f}s"
    if job.eta_seconds is not None:
        return f"~{job.eta_seconds:.0f}s"
    return "?"


class ProgressBar:
    """A one-line progress bar with frames per second and ETA, redrawn in place."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.began = time.monotonic()
        self.shown = 0.0

    def update(self, done: int, total: int, detail: str = "", *, reused: int = 0) -> None:
        """Redraw the bar (at most ten times a second); `reused` of the `done` frames came
        from the segment cache at once, so they count in the bar but not in the speed."""
        now = time.monotonic()
        if now - self.shown < 0.1 and done < total:
            return
        self.shown = now
        elapsed = max(now - self.began, 1e-6)
        fps = max(done - reused, 0) / elapsed
        eta = (total - done) / fps if fps > 0 else 0.0
        filled = int(30 * done / total)
        self.stream.write(
            f"\r\x1b[K[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} frames "
            f"{fps:5.1f} fps ETA {eta:5.1f}s {detail}"
        )
        self.stream.flush()

    def finish(self) -> None:
        """End the bar's line."""
        self.stream.write("\n")
        self.stream.flush()
