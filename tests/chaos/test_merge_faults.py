"""Faults that land in the merge, on a real local cluster (real Redis, Celery workers and
renders; the merge runs in the orchestrator's process group): the orchestrator's machine
SIGKILLed mid-merge, and the job cancelled while its merge runs. The first must complete with
every frame equal to the --direct render's; the second must deliver nothing. Neither may leave
anything behind in storage but the video (and the job's ownership marker)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bench.chaos_faults import restart_orchestrator
from bench.support import ChaosCluster, heavy_project, status
from chunking.timeline.export_overrides import with_overrides
from chunking.timeline.studio import load_project
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_record import ChunkState, JobState
from tests.chaos.test_more_faults import wait_for
from tests.helpers import assert_same_frames, reference_render

pytestmark = pytest.mark.timeout(400)


def _files(root: Path) -> list[str]:
    """Every file under ``root``, relative to it (temp files and pins included)."""
    return sorted(
        os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
    )


def _caught_merging(
    cluster: ChaosCluster, api: CloudRenderingAPI, submit: Callable[[], str]
) -> str:
    """Submit jobs until one is caught mid-merge: the orchestrator's group (its merge with it)
    stopped while the job's state says merging. A small job's merge can end between two polls;
    such a job is let finish and another one is tried (``submit(n)``: the n-th, to its own
    output), so the test never passes untested. The job caught and its n."""
    assert cluster.orchestrator is not None
    for n in range(4):
        job = submit(n)
        wait_for(api, job, lambda r: r.state is JobState.MERGING, 240)
        cluster.pause(cluster.orchestrator)
        record = status(api, job)
        if record is not None and record.state is JobState.MERGING:
            return job, n
        cluster.resume(cluster.orchestrator)
        wait_for(api, job, lambda r: False, 240)
    raise AssertionError("no job was caught mid-merge in 4 tries")


def test_the_orchestrator_killed_mid_merge(tmp_path: Path) -> None:
    doc = heavy_project(tmp_path, seconds=1.0, size=(640, 360))
    timeline = load_project(doc, str(tmp_path))
    timeline = replace(timeline, export=with_overrides(timeline.export, lossless=True))
    direct = tmp_path / "direct.mkv"
    renderer = reference_render(doc, tmp_path, direct)
    store = tmp_path / "s"
    with ChaosCluster(workers=2) as cluster:
        api = CloudRenderingAPI(cluster.redis.url, storage_url=f"file://{store}")
        job, n = _caught_merging(cluster, api, lambda n: api.submit_job(
            doc, output=str(tmp_path / f"out{n}.mkv"), chunk_frames=8, base_dir=str(tmp_path),
            use_cache=False,
        ))  # fmt: skip
        out = tmp_path / f"out{n}.mkv"
        restart_orchestrator(cluster, 1.0)  # the lease lapses: the merge is sent again
        record = wait_for(api, job, lambda r: False, 240)
        assert record.state is JobState.COMPLETED, record.error
        assert all(c.state is ChunkState.DONE for c in record.chunks)
        assert_same_frames(out, direct, record, renderer)
        left = _files(store / "jobs" / job)
    assert left == ["output.mkv", "owner.json"], left


def test_a_cancel_during_the_merge(tmp_path: Path) -> None:
    doc = heavy_project(tmp_path, seconds=1.0, size=(640, 360))
    store = tmp_path / "s"
    with ChaosCluster(workers=2) as cluster:
        api = CloudRenderingAPI(cluster.redis.url, storage_url=f"file://{store}")
        job, n = _caught_merging(cluster, api, lambda n: api.submit_job(
            doc, output=str(tmp_path / f"out{n}.mkv"), chunk_frames=8, base_dir=str(tmp_path),
            use_cache=False,
        ))  # fmt: skip
        out = tmp_path / f"out{n}.mkv"
        api.cancel_job(job)
        assert cluster.orchestrator is not None
        cluster.resume(cluster.orchestrator)  # the merge goes on, and finds its job cancelled
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            record = status(api, job)
            if record is not None and record.state.finished and not (store / "jobs" / job).exists():
                break
            time.sleep(0.2)
        time.sleep(3.0)  # a merge still writing would show by now
        record = status(api, job)
        assert record is not None and record.state is JobState.CANCELLED, record
        assert not out.exists()
        left = _files(store / "jobs" / job) if (store / "jobs" / job).exists() else []
    assert left == [], left
