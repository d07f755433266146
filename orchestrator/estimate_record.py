"""The estimate a job is submitted with, as stored on its record, and how far its actual time
and cost landed from it."""

from __future__ import annotations

from typing import Any

from orchestrator.api_estimate import JobEstimate
from orchestrator.job_record import JobRecord, JobState


def estimate_record(job_estimate: JobEstimate) -> dict[str, Any]:
    """What a job keeps of the estimate it was submitted with (JobRecord.estimate): the chosen
    option's ranges, so its accuracy can be measured when it ends."""
    top = job_estimate.headline
    record: dict[str, Any] = {
        "at": round(job_estimate.created_at, 3),
        "frames": job_estimate.frames,
        "complexity": round(job_estimate.complexity, 4),
        # Units per frame by feature as the static weights price them: what the cluster learns
        # its per-feature corrections from when the job has finished (estimate_features).
        "parts": {name: round(value, 5) for name, value in job_estimate.parts.items()},
        "chunks": job_estimate.chunks,
        "reused_chunks": job_estimate.reused_chunks,
        "recommended": job_estimate.recommended is not None,
        "reason": job_estimate.reason,
    }
    if top is not None:
        data = top.to_json()
        record.update(
            {
                key: data[key]
                for key in (
                    "pool",
                    "provider",
                    "market",
                    "nodes",
                    "seconds",
                    "cost",
                    "deadline_probability",
                    "seconds_per_unit",
                    "spread",
                    "throughput_source",
                )
            }
        )
    return record


def accuracy(job: JobRecord) -> dict[str, Any] | None:
    """Estimated (median) against actual time and cost of a completed job that recorded its
    estimate; None otherwise. Actual time is submission to completion (``finished_at -
    submitted_at``: what the user waited, planning and queueing included); actual cost is the
    job's ``actual_cost``. Errors are (estimate - actual) / actual in %."""
    estimate = job.estimate
    if job.state is not JobState.COMPLETED or not estimate or job.finished_at is None:
        return None
    try:
        seconds = estimate["seconds"]
        cost = estimate["cost"]
        est_seconds, est_cost = float(seconds["p50"]), float(cost["p50"])
        low, high = float(seconds["low"]), float(seconds["high"])
    except (KeyError, TypeError, ValueError):
        return None
    actual_seconds = job.finished_at - job.submitted_at
    return {
        "estimated_seconds": est_seconds,
        "actual_seconds": round(actual_seconds, 3),
        "seconds_error_pct": _error(est_seconds, actual_seconds),
        "seconds_in_range": low <= actual_seconds <= high,
        "estimated_cost": est_cost,
        "actual_cost": round(job.actual_cost, 8),
        "cost_error_pct": _error(est_cost, job.actual_cost),
    }


def _error(estimate: float, actual: float) -> float | None:
    """(estimate - actual) / actual in %, None when nothing was actual."""
    if actual <= 0:
        return None
    return round(100 * (estimate - actual) / actual, 2)
