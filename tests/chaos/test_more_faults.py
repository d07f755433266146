"""Faults the long chaos run does not inject, each on a real local cluster: Redis frozen (alive
but unreachable) mid-job, the same chunk message delivered twice at once, and a render node
stalled (SIGSTOP) past its heartbeat's lifetime then resumed. Each job must complete with
every frame equal to the --direct render's, once."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bench.support import ChaosCluster, heavy_project, status
from chunking.timeline.export_overrides import with_overrides
from chunking.timeline.studio import load_project
from common.names import QUEUE_RENDER, TASK_RENDER_CHUNK, render_queue
from common.settings import Settings
from orchestrator.api import CloudRenderingAPI
from orchestrator.celery_app import make_app
from orchestrator.job_record import ChunkState, JobRecord, JobState
from tests.helpers import assert_same_frames, reference_render

pytestmark = pytest.mark.timeout(400)


def wait_for(
    api: CloudRenderingAPI, job: str, condition: Callable[[JobRecord], bool], timeout: float
) -> JobRecord:
    """The job's record once ``condition`` (or its end) holds."""
    deadline = time.monotonic() + timeout
    record = None
    while time.monotonic() < deadline:
        record = status(api, job) or record
        if record is not None and (condition(record) or record.state.finished):
            return record
        time.sleep(0.05)
    raise AssertionError(f"job {job} stuck: {record}")


def mid_chunk(record: JobRecord) -> bool:
    """Whether a chunk is running with frames done."""
    return any(c.state is ChunkState.RUNNING and c.frames_done > 0 for c in record.chunks)


def run(tmp_path: Path, fault: Callable[[ChaosCluster, CloudRenderingAPI, str], None]) -> None:
    """Render a lossless job on two workers with ``fault`` injected mid-chunk; check it."""
    doc = heavy_project(tmp_path, seconds=1.5, size=(640, 360))
    timeline = load_project(doc, str(tmp_path))
    timeline = replace(timeline, export=with_overrides(timeline.export, lossless=True))
    direct = tmp_path / "direct.mkv"
    renderer = reference_render(doc, tmp_path, direct)
    out = tmp_path / "out.mkv"
    with ChaosCluster(workers=2) as cluster:
        api = CloudRenderingAPI(cluster.redis.url, storage_url=f"file://{tmp_path / 's'}")
        job = api.submit_job(doc, output=str(out), chunk_frames=8, base_dir=str(tmp_path))
        wait_for(api, job, mid_chunk, 120)
        fault(cluster, api, job)
        record = wait_for(api, job, lambda r: False, 300)
    assert record.state is JobState.COMPLETED, record.error
    assert sum(c.frames for c in record.chunks) == timeline.frames
    assert all(c.state is ChunkState.DONE for c in record.chunks)
    assert_same_frames(out, direct, record, renderer)


def test_redis_frozen_mid_job(tmp_path: Path) -> None:
    def freeze_redis(cluster: ChaosCluster, api: CloudRenderingAPI, job: str) -> None:
        pid = cluster.redis.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(12.0)
        finally:
            os.kill(pid, signal.SIGCONT)

    run(tmp_path, freeze_redis)


def test_a_chunk_message_delivered_twice_at_once(tmp_path: Path) -> None:
    def duplicate(cluster: ChaosCluster, api: CloudRenderingAPI, job: str) -> None:
        # An app of its own: the shared one stays pointed where the other tests expect it.
        settings = Settings.from_env()
        app = make_app(replace(settings, broker_url=cluster.redis.url, result_backend=None))
        record = api.get_job_status(job)
        for chunk in record.chunks:
            if chunk.state is ChunkState.RUNNING and chunk.task_id:
                queue = render_queue(record.renderer) if record.renderer else QUEUE_RENDER
                app.send_task(
                    TASK_RENDER_CHUNK, args=[job, chunk.index], task_id=chunk.task_id, queue=queue
                )

    run(tmp_path, duplicate)


def test_a_render_node_stalled_past_its_heartbeat_then_resumed(tmp_path: Path) -> None:
    def stall(cluster: ChaosCluster, api: CloudRenderingAPI, job: str) -> None:
        record = api.get_job_status(job)
        busy = {c.node for c in record.chunks if c.state is ChunkState.RUNNING}
        victim = next(w for w in cluster.workers if w.hostname in busy)
        cluster.freeze(victim, 20.0)

    run(tmp_path, stall)
