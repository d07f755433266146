"""Fault injection (short version): workers killed, Redis restarted, a spot notice, a stall.

Whatever happens, the lossless output must equal the --direct render frame for frame, and no
chunk may appear twice. bench/chaos.py runs the long version and prints the figures; both use
the cluster of ``bench.support`` and the fake metadata service of ``workers.spot_fake``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis

from bench.support import ChaosCluster, heavy_project, status
from chunking.timeline.export_overrides import with_overrides
from chunking.timeline.studio import load_project
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_record import ChunkState, JobRecord, JobState
from tests.helpers import assert_same_frames, reference_render
from workers.spot_fake import FakeMetadataService

pytestmark = pytest.mark.timeout(600)


def wait_until(
    api: CloudRenderingAPI, job: str, condition: Callable[[JobRecord], bool], timeout: float = 120
) -> JobRecord:
    deadline = time.monotonic() + timeout
    record = None
    while time.monotonic() < deadline:
        record = status(api, job) or record
        if record is not None and (condition(record) or record.state.finished):
            return record
        time.sleep(0.1)
    chunks = (
        [(c.index, c.state.value, c.node, c.attempts) for c in record.chunks] if record else None
    )
    state = record.state.value if record else None
    raise AssertionError(f"the job ({state}) did not get there in time: {chunks}")


def test_job_survives_kills_redis_restart_spot_notice_and_a_stall(tmp_path: Path) -> None:
    # Chunks of about half a second: long enough for progress reports to show one mid-render.
    doc = heavy_project(tmp_path, size=(1280, 720))
    timeline = load_project(doc, str(tmp_path))
    timeline = replace(timeline, export=with_overrides(timeline.export, lossless=True))
    direct = tmp_path / "direct.mkv"
    reference_renderer = reference_render(doc, tmp_path, direct)
    metadata = FakeMetadataService()
    out = tmp_path / "out.mkv"
    try:
        with ChaosCluster(workers=2) as cluster:
            spot = cluster.add_worker(
                {
                    "CLOUDRENDER_SPOT_PROVIDER": "gcp",
                    "CLOUDRENDER_SPOT_ENDPOINT": metadata.url,
                    "CLOUDRENDER_SPOT_INTERVAL": "0.3",
                }
            )
            api = CloudRenderingAPI(cluster.redis.url, storage_url=f"file://{tmp_path / 's'}")
            job = api.submit_job(doc, output=str(out), chunk_frames=8, base_dir=str(tmp_path))

            def running_on(worker: Any) -> Callable[[JobRecord], bool]:
                return lambda r: any(
                    c.state is ChunkState.RUNNING
                    and c.node == worker.hostname
                    and c.frames_done > 0
                    for c in r.chunks
                )

            # A worker dies mid-chunk (its whole machine: main process and pool). Chunks
            # take a fraction of a second, so it is frozen first and killed only if its chunk's
            # segment is not written yet: then that chunk must be rendered again elsewhere.
            victim = cluster.workers[0]
            segments = tmp_path / "s" / "jobs" / job / "segments"
            hit: list[int] = []
            while True:
                record = wait_until(api, job, running_on(victim))
                if record.state.finished:
                    break
                cluster.pause(victim)
                now = status(api, job) or record
                hit = [
                    c.index
                    for c in now.chunks
                    if c.state is ChunkState.RUNNING
                    and c.node == victim.hostname
                    and not (segments / f"{c.index:06d}.mkv").exists()
                ]
                if hit:
                    break
                cluster.resume(victim)
            cluster.kill_worker(victim)
            cluster.add_worker()
            # Redis crashes and comes back from its append-only file.
            cluster.restart_redis()
            # The spot node gets its notice while rendering and hands the chunk back.
            wait_until(api, job, running_on(spot))
            metadata.notice = True
            # A machine stalls longer than the heartbeat lifetime, then resumes.
            cluster.freeze(cluster.workers[1], 8.0)
            try:
                record = wait_until(api, job, lambda r: r.state.finished, timeout=300)
            except AssertionError:
                orchestrator = cluster.orchestrator
                log = orchestrator.log_path if orchestrator is not None else None
                print(log.read_text()[-4000:] if log is not None else "no log")
                raise
            deadline = time.monotonic() + 30
            while spot.pids() and time.monotonic() < deadline:
                time.sleep(0.2)
            spot_gone = not spot.pids()
    finally:
        metadata.close()
    assert record.state is JobState.COMPLETED, record.error
    assert sum(c.frames for c in record.chunks) == timeline.frames
    assert_same_frames(out, direct, record, reference_renderer)
    assert all(c.state is ChunkState.DONE for c in record.chunks)
    # The faults really happened: the killed worker's chunk ran again elsewhere, and the spot
    # node handed back its work and shut itself down.
    assert hit, "the job ended before a chunk could be caught mid-render"
    killed = hit[0]
    assert record.chunks[killed].node != victim.hostname
    assert record.chunks[killed].attempts >= 2
    assert spot_gone


def test_redis_losing_its_data_is_reported_not_waited_for(tmp_path: Path) -> None:
    # Given a Redis without persistence (the embedded default) and a job in flight
    from orchestrator.api_results import JobLost
    from orchestrator.embedded import EmbeddedCluster

    doc = heavy_project(tmp_path, seconds=1.0)
    with EmbeddedCluster(workers=1) as cluster:
        api = CloudRenderingAPI(cluster.broker_url, storage_url=f"file://{tmp_path / 's'}")
        job = api.submit_job(
            doc, output=str(tmp_path / "x.mkv"), chunk_frames=4, base_dir=str(tmp_path)
        )
        wait_until(api, job, lambda r: r.frames_done > 0)
        # When its data is gone (what a restart without appendonly does)
        redis.Redis.from_url(cluster.broker_url).flushall()
        # Then waiting for the job fails at once with the reason, instead of hanging
        began = time.monotonic()
        with pytest.raises(JobLost, match="append-only persistence"):
            api.wait(job, timeout=60)
        assert time.monotonic() - began < 5
