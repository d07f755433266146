"""A job estimate's headline option as one quote: what ``estimate_cost`` returns over HTTP.

``CloudRenderingAPI.estimate_cost`` prices the job on this cluster's slots from the throughput
its workers measured (``orchestrator.planning.quote``). The service answers an estimate as ranges
per option (``POST /v1/estimate``, a JobEstimate); ``HTTPRenderingAPI.estimate_cost`` returns the
same type as the Redis client by taking the headline option (the recommended one, else the first)
at its medians: wall time and cost are its p50, the node seconds what that cost buys at the
option's price per slot.
"""

from __future__ import annotations

from common.errors import RenderError
from orchestrator.api_estimate import JobEstimate
from orchestrator.api_results import ReuseEstimate
from orchestrator.costing import BASES


def reuse_estimate(job: JobEstimate) -> ReuseEstimate:
    """The headline option of `job` as a ReuseEstimate; RenderError when it has no option."""
    top = job.headline
    if top is None:
        raise RenderError(f"the estimate has no option to quote: {job.reason}")
    option = top.option
    per_frame = job.complexity * option.seconds_per_unit + option.seconds_per_frame
    rate = option.price_per_hour / max(option.slots_per_node, 1)  # dollars per slot-hour
    to_render = job.chunks - job.reused_chunks
    if rate > 0:
        node_seconds = top.cost.p50 / rate * 3600
    else:  # free slots: the work itself, as the cost cannot tell it
        share = to_render / job.chunks if job.chunks else 1.0
        node_seconds = job.frames * share * per_frame + to_render * option.seconds_per_chunk
    return ReuseEstimate(
        frames=job.frames,
        complexity=job.complexity,
        seconds_per_frame=per_frame,
        node_seconds=node_seconds,
        wall_seconds=top.seconds.p50,
        cost=top.cost.p50,
        hourly_rate=rate,
        basis=_basis(option.source),
        chunks=job.chunks,
        reused_chunks=job.reused_chunks,
    )


def _basis(source: str) -> str:
    """An option's throughput source as an Estimate's basis: a fit to this cluster's own jobs
    ("jobs (12)") is its history."""
    if source in BASES:
        return source
    return "history" if source.startswith("jobs") else "default"
