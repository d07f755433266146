"""In-process probes of ``scaling.py``: what starting a cluster and starting a chunk cost.

    cluster_lifecycle   EmbeddedCluster (Redis + workers) and Redis alone, started and stopped
    chunk_start_costs   a fresh Compositor opening its sources and compositing a chunk's first
                        frame (seek, decode pre-roll from the keyframe), against a steady frame

Both run in this process, away from the noise of the long subprocess runs; a cluster started
here carries the run marker of ``bench.scaling_runs`` and is checked for leftovers.
"""

from __future__ import annotations

import bisect
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

from bench.leftovers import ensure_no_leftovers, marked_environ
from bench.scaling_runs import MARKER

#: Frames composited after a chunk's first one to measure the steady per-frame cost.
STEADY_FRAMES = 6


def cluster_lifecycle(workers: int, repeat: int) -> dict[str, Any]:
    """Median seconds to start and stop EmbeddedCluster and its Redis alone, in-process."""
    from orchestrator.embedded import EmbeddedCluster
    from orchestrator.embedded_redis import EmbeddedRedis

    times: dict[str, list[float]] = {
        "start": [],
        "stop": [],
        "workers_stop": [],
        "redis_start": [],
        "redis_stop": [],
    }
    for _ in range(repeat):
        marker = uuid.uuid4().hex
        with marked_environ(MARKER, marker):
            threads = str(max(1, (os.cpu_count() or 1) // workers))  # as cli.render_command
            env = {"CLOUDRENDER_ENCODER_THREADS": threads, "OMP_NUM_THREADS": threads}
            cluster = EmbeddedCluster(workers=workers, env=env)
            t0 = time.perf_counter()
            cluster.start()
            t1 = time.perf_counter()
            ports = [cluster.redis.port]  # its marker is gone from its environment (leftovers)
            if cluster.workers is not None:
                cluster.workers.stop()  # what cluster.stop() does first; then it stops Redis
            t2 = time.perf_counter()
            cluster.stop()
            t3 = time.perf_counter()
            redis = EmbeddedRedis()
            redis.start()
            t4 = time.perf_counter()
            ports.append(redis.port)
            redis.stop()
            t5 = time.perf_counter()
        ensure_no_leftovers(MARKER, marker, f"EmbeddedCluster(workers={workers})", None, ports)
        for key, value in (
            ("start", t1 - t0),
            ("stop", t3 - t1),
            ("workers_stop", t2 - t1),
            ("redis_start", t4 - t3),
            ("redis_stop", t5 - t4),
        ):
            times[key].append(round(value, 3))
    medians: dict[str, Any] = {k: round(statistics.median(v), 3) for k, v in times.items()}
    return {**medians, "starts": times["start"], "stops": times["stop"]}


def chunk_start_costs(project: Path, starts: list[int]) -> dict[int, dict[str, float]]:
    """Per chunk start: sources opened, first frame, steady frame, decode pre-roll (in-process)."""
    from chunking.timeline.loader import load
    from workers.compositor import Compositor
    from workers.video_source import VideoSource

    timeline = load(str(project))
    costs: dict[int, dict[str, float]] = {}
    for start in sorted(set(starts)):
        compositor = Compositor(timeline)
        try:
            began = time.perf_counter()
            compositor.open_range(start, timeline.frames)
            opened = time.perf_counter()
            compositor.frame(start)
            first = time.perf_counter()
            steady_end = min(start + 1 + STEADY_FRAMES, timeline.frames)
            for t in range(start + 1, steady_end):
                compositor.frame(t)
            steady = (time.perf_counter() - first) / max(1, steady_end - start - 1)
            preroll = 0
            for source in compositor.sources.values():
                if isinstance(source, VideoSource):
                    wanted = source.pts[min(start, len(source.pts) - 1)]
                    key = source.keyframes[bisect.bisect_right(source.keyframes, wanted) - 1]
                    preroll += bisect.bisect_left(source.pts, wanted) - source.pts.index(key)
        finally:
            compositor.close()
        costs[start] = {
            "open": round(opened - began, 3),
            "first_frame": round(first - opened, 3),
            "steady_frame": round(steady, 3),
            # What starting here costs beyond compositing one more frame mid-chunk.
            "excess": round(opened - began + first - opened - steady, 3),
            "preroll_frames": preroll,
        }
    return costs
