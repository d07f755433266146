"""A chunk that finishes after its job ended (cancelled or failed: its objects removed; or
completed: its segments removed after the merge) stored its segment into a prefix nobody
cleans again: swept an hour later at best (the sweep's grace), never in a job's own storage
the sweep does not cover, or in a completed job's prefix (it holds the video). The segment
goes as the chunk reports itself finished."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from chunking.timeline.project import read_project
from common.settings import Settings
from orchestrator.celery_app import make_app
from orchestrator.job_record import ChunkRecord, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.worker_hooks import WorkerHooks
from tests.helpers import colour_project
from workers.job_spec import JobSpec

pytestmark = pytest.mark.timeout(60)


def _job(store: JobStore, tmp: Path, keep_segments: bool) -> JobSpec:
    """A rendering job of two chunks in a local storage of its own."""
    prepared = read_project(colour_project(0.5), base_dir=str(tmp))
    timeline = prepared.timeline
    spec = JobSpec(
        id=f"late{int(keep_segments)}", project=dict(prepared.document),
        base_dir=prepared.base_dir, export=dataclasses.asdict(timeline.export),
        storage_url=f"file://{tmp / 'storage'}", frames=timeline.frames,
        output_ext=timeline.export.container, chunks=[(0, 5), (5, 10)],
        keep_segments=keep_segments,
    )  # fmt: skip
    store.create(JobRecord(id=spec.id, submitted_at=time.time(), frames=10), spec.to_dict())
    store.set_chunks(spec.id, [ChunkRecord(0, 0, 5), ChunkRecord(1, 5, 10)], spec.to_dict())
    store.transition(spec.id, JobState.PLANNING)
    store.transition(spec.id, JobState.RENDERING)
    return spec


@pytest.mark.parametrize(
    ("ended", "keep_segments", "kept"),
    [
        (None, False, True),  # still rendering: the merge needs it
        (JobState.CANCELLED, False, False),
        (JobState.FAILED, False, False),
        (JobState.COMPLETED, False, False),  # the merge removed the parts already
        (JobState.COMPLETED, True, True),  # the job asked to keep them
    ],
)
def test_a_segment_stored_after_its_job_ended_is_removed(
    redis_url: str, tmp_path: Path, ended: JobState | None, keep_segments: bool, kept: bool
) -> None:
    store = JobStore.from_url(redis_url)
    service = WorkerHooks(store, make_app(Settings(broker_url=redis_url, result_backend=redis_url)))
    spec = _job(store, tmp_path, keep_segments)
    assert service.chunk_started(spec.id, 1, "t1", "n1")
    if ended is JobState.COMPLETED:
        store.transition(spec.id, JobState.MERGING)
    if ended is not None:
        store.transition(spec.id, ended)
    source = tmp_path / "segment.mkv"
    source.write_bytes(b"segment")
    spec.storage().put_file(spec.segment_key(1), str(source))  # the late upload
    result = {"index": 1, "start": 5, "end": 10, "key": spec.segment_key(1), "node": "n1",
              "seconds": 1.0, "reused": False}  # fmt: skip
    service.chunk_finished(spec.id, 1, result)
    assert spec.storage().exists(spec.segment_key(1)) is kept
