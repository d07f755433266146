"""A cancel that loses the race with the merge completing the job leaves the job as it ended:
its video kept, its cancel flag lowered, and the caller told it is too late."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import RenderError
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_record import ChunkRecord, JobRecord, JobState
from providers.storage import open_storage


def test_a_cancel_that_comes_too_late_keeps_the_completed_jobs_video(
    redis_url: str, tmp_path: Path
) -> None:
    storage_url = f"file://{tmp_path / 'storage'}"
    api = CloudRenderingAPI(redis_url, storage_url=storage_url)
    api.store.create(JobRecord(id="late", state=JobState.MERGING), {})
    storage = open_storage(storage_url)
    video = tmp_path / "v.mp4"
    video.write_bytes(b"the finished video")
    storage.put_file("jobs/late/output.mp4", str(video))
    real = api.store.transition

    def merge_wins(job_id: str, state: JobState, **fields: object) -> bool:
        # The merge records the job complete between the cancel's look and its transition.
        real(job_id, JobState.COMPLETED)
        return real(job_id, state, **fields)

    api.store.transition = merge_wins  # type: ignore[method-assign]
    with pytest.raises(RenderError, match="job late is already completed; nothing to cancel"):
        api.cancel_job("late")
    api.store.transition = real  # type: ignore[method-assign]
    assert api.store.state("late") is JobState.COMPLETED
    assert storage.exists("jobs/late/output.mp4")  # it was deleted: download failed
    assert not api.store.redis.exists(keys.cancel("late"))


def test_a_plan_finished_after_its_job_was_cancelled_stores_nothing(redis_url: str) -> None:
    """Its chunk records and pending list were written after the cancel set the job's keys to
    expire, and so never expired."""
    api = CloudRenderingAPI(redis_url)
    api.store.create(JobRecord(id="planned-late", state=JobState.PLANNING), {})
    api.cancel_job("planned-late")
    stored = api.store.set_chunks("planned-late", [ChunkRecord(0, 0, 10)], {})
    assert stored is False
    client = api.store.redis
    assert not client.exists(keys.chunks("planned-late"), keys.pending("planned-late"))
    assert client.ttl(keys.job("planned-late")) > 0
    api.store.create(JobRecord(id="planning", state=JobState.PLANNING), {})
    assert api.store.set_chunks("planning", [ChunkRecord(0, 0, 10)], {}) is True
    assert client.llen(keys.pending("planning")) == 1


def test_a_cancelled_job_shows_what_it_spent(redis_url: str) -> None:
    """Billing charged it; `status` showed $0."""
    api = CloudRenderingAPI(redis_url)
    api.store.create(
        JobRecord(id="spent", state=JobState.RENDERING, node_seconds=36.0, hourly_rate=1.0), {}
    )
    assert api.cancel_job("spent").actual_cost == pytest.approx(0.01)
