"""A cancel that loses the race with the merge completing the job leaves the job as it ended:
its video kept, its cancel flag lowered, and the caller told it is too late."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.errors import RenderError
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_record import JobRecord, JobState
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
