"""The node benchmark's slice rendered by every slot at once: how much faster a chunk runs alone.

A node runs one chunk per worker slot. A chunk alone on its node runs faster than one beside
others: its decode, compositing and encoding overlap on the idle cores, and nothing shares its
core's caches or its SMT sibling. The CPU over wall time of one render sees only the first;
on the 2-vCPU development node it said 1.13-1.2 while lone chunks ran 1.5x faster than chunks
beside another (docs/cost.md), which priced a job of one or two chunks 20-30 % long until a job
of its own had measured the speed-up. So the benchmark renders the slice in `slots` processes at
once, as the slots would, and compares their wall time with the render alone.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import statistics
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Seconds the renders may take to start (imports) and to finish, before the measure is given up.
START_TIMEOUT = 120.0
RENDER_TIMEOUT = 600.0


def beside_seconds(
    directory: Path, size: tuple[int, int], frames: int, threads: int | None, slots: int
) -> float | None:
    """Median wall seconds of the slice's render (source generated in `directory`) while
    `slots` renders of it run at once, each in its own process as a node's slots are; None
    with fewer than two slots, or when a render failed or timed out (the estimate then keeps
    the CPU over wall time of the render alone)."""
    if slots < 2:
        return None
    context = multiprocessing.get_context("spawn")  # no forked copy of the caller's threads
    renders: list[Any] = []
    try:
        barrier = context.Barrier(slots)
        results: Any = context.Queue()
        for index in range(slots):
            process = context.Process(
                target=_render,
                args=(str(directory), size, frames, threads, barrier, results, index),
                daemon=True,
            )
            process.start()
            renders.append(process)
    except (OSError, AssertionError) as exc:
        # No /dev/shm for the barrier, no processes left, or called from a daemonic process
        # (AssertionError): the rest of the benchmark stands without this measure.
        log.warning("node benchmark: the slots' renders could not start: %s", exc)
        for process in renders:
            process.kill()
            process.join()
        return None
    walls: list[float] = []
    try:
        until = time.monotonic() + START_TIMEOUT + RENDER_TIMEOUT
        while len(walls) < slots:
            try:
                seconds = results.get(timeout=1.0)
            except queue.Empty:
                # A render that died before it could answer (killed, or a spawned process that
                # could not start) would otherwise be waited for until the timeout.
                if time.monotonic() > until or not any(p.is_alive() for p in renders):
                    log.warning("node benchmark: the slots' renders did not all finish")
                    return None
                continue
            if seconds is None:
                log.warning("node benchmark: a slot's render failed")
                return None
            walls.append(float(seconds))
    finally:
        for process in renders:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
    return statistics.median(walls)


def _render(
    directory: str,
    size: tuple[int, int],
    frames: int,
    threads: int | None,
    barrier: Any,
    results: Any,
    index: int,
) -> None:
    """One slot: the warm-up render, then the timed one once every slot is ready."""
    try:
        from chunking.timeline.studio import load_project
        from workers.benchmark_slice import slice_project
        from workers.render import render_to_file

        width, height = size
        out = Path(directory)
        for name, count in (("warm", 4), ("timed", frames)):
            timeline = load_project(slice_project(width, height, count), directory)
            if name == "timed":
                barrier.wait(timeout=START_TIMEOUT)
            summary = render_to_file(
                timeline,
                str(out / f"beside-{index}-{name}.mkv"),
                audio=False,
                file_format="matroska",
                threads=threads,
            )
        results.put(summary.seconds)  # timed as the render alone is
    except Exception:  # noqa: BLE001 - any failure means no measure; the caller says so
        results.put(None)
