"""Chunks sized for spot: with spot pools configured, a chunk renders well inside the slowest
spot pool's interruption notice, so a notice costs at most a short chunk.

The cap follows the measured speed, which moves a little with every finished chunk; a job's
chunk length is that cap rounded down to a power of two, so re-renders of an edited project
(and its estimate, made between them) cut it at the same frames and find their unchanged chunks
in the segment cache, instead of a grid a frame off that reuses nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from chunking.timeline.model import Timeline
from common.errors import RenderError
from common.settings import Settings

log = logging.getLogger(__name__)


def job_chunk_frames(client: Any, timeline: Timeline, chunk_frames: int | None) -> int | None:
    """The chunk length a job of this timeline is planned with: the one asked for, at most the
    spot cap rounded down to a power of two (None: the anchored default plan)."""
    cap = spot_chunk_cap(client, timeline)
    if cap is None:
        return chunk_frames
    steady = 1 << (max(cap, 1).bit_length() - 1)
    return min(chunk_frames or steady, steady)


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
