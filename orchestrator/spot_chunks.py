"""Chunks sized for spot: with spot pools configured, a chunk renders well inside the slowest
spot pool's interruption notice, so a notice costs at most a short chunk.

The cap follows the measured speed, which moves a little with every finished chunk; a job's
longest chunk is that cap rounded down to a power of two, so re-renders of an edited project
(and its estimate, made between them) cut it at the same frames and find their unchanged chunks
in the segment cache, instead of a grid a frame off that reuses nothing. The cap limits the
anchored plan (chunking.plan: boundaries on the cuts), so an edit moves only the chunks near it.
"""

from __future__ import annotations

import logging
from typing import Any

from chunking.timeline.model import Timeline
from common.errors import RenderError
from common.settings import Settings

log = logging.getLogger(__name__)


def job_chunking(
    client: Any, timeline: Timeline, chunk_frames: int | None
) -> tuple[int | None, int | None]:
    """How a job of this timeline is cut, as plan_job_chunks's (chunk_frames, max_frames): with
    spot pools a chunk has at most the spot cap rounded down to a power of two (so a drifting
    speed keeps the cut): a length asked for is cut to it, and the anchored default plan is
    capped by it, its boundaries still on the cuts (a grid from frame 0 shifted every chunk
    after an edit near the start, and a re-render found none of them in the cache)."""
    cap = spot_chunk_cap(client, timeline)
    if cap is None:
        return chunk_frames, None
    steady = 1 << (max(cap, 1).bit_length() - 1)
    if chunk_frames is not None:
        return min(chunk_frames, steady), None
    return None, steady


def cut_note(asked: int | None, used: int | None) -> str | None:
    """What to tell the user when the spot cap cut the chunk length they asked for (None when
    it did not): a ``--chunk-frames 600`` planned as 64-frame chunks without a word looked like
    the option was ignored."""
    if asked is None or used is None or used >= asked:
        return None
    return (
        f"chunks of {asked} frames asked for (--chunk-frames, chunk_frames) are cut to {used}: "
        "with spot pools (CLOUDRENDER_POOLS_FILE) a chunk renders well inside an interruption "
        "notice"
    )


def spot_chunk_cap(client: Any, timeline: Timeline) -> int | None:
    """The most frames a chunk may have when the cluster has spot pools: one renders well inside
    the slowest spot pool's interruption notice (2 min on AWS, 30 s on GCP and Azure), so a
    notice costs at most a short chunk. None without spot pools."""
    settings = Settings.from_env()
    if not settings.pools_file:
        return None
    from chunking.complexity import complexity
    from orchestrator.autoscaler.interruptions import notice_seconds, spot_chunk_frames
    from orchestrator.autoscaler.observe import seconds_per_unit
    from providers.compute.pools import load_pools

    try:
        pools = load_pools(settings.pools_file, settings.pool_overrides).pools.values()
    except RenderError as exc:
        log.warning("pools file unreadable, chunks are not sized for spot: %s", exc)
        return None
    spot = [p for p in pools if p.spot and notice_seconds(p.provider) > 0]
    if not spot:
        return None
    units = complexity(timeline)
    return min(
        spot_chunk_frames(
            notice_seconds(p.provider),
            units * seconds_per_unit(client, p, settings.prices_file),
        )
        for p in spot
    )
