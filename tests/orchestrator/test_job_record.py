"""The job service on a real Redis with real worker processes: submit, watch, overtake, cancel."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from common.errors import RenderError
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI, CostLimitExceeded
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import ChunkState, JobNotFound, JobRecord, JobState
from orchestrator.job_store import JobStore
from tests.helpers import colour_project, slow_project
from tests.media import decode_rgb, make_video, project, video_track

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def api(cluster: str, tmp_path: Path) -> CloudRenderingAPI:
    """A client of the module's cluster, which has one worker slot: the setting where
    priorities and fairness show."""
    return CloudRenderingAPI(cluster, storage_url=f"file://{tmp_path / 'storage'}")


def test_submit_and_wait_records_everything(api: CloudRenderingAPI, tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    out = tmp_path / "out.mp4"
    job = api.submit_job(colour_project(2.0), output=str(out), chunk_frames=20)
    subscription = api.on_progress_update(events.append, job_id=job)
    record = api.wait(job, timeout=120)
    subscription.stop()
    assert record.state is JobState.COMPLETED, record.error
    assert record.frames_done == record.frames == 60
    assert record.chunk_count == 3 and len(record.chunks) == 3
    for chunk in record.chunks:
        assert chunk.state is ChunkState.DONE and chunk.attempts == 1
        assert chunk.node and chunk.seconds is not None and chunk.started_at
    assert record.node_seconds > 0 and record.actual_cost > 0
    assert record.estimated_cost is not None and record.estimated_seconds is not None
    assert len(decode_rgb(out)) == 60
    kinds = {e["event"] for e in events}
    assert {"chunk_started", "chunk_done", "completed"} <= kinds
    # A fresh client (as after a restart) reads the same record from Redis.
    again = CloudRenderingAPI(api.broker_url, storage_url=api.storage_url)
    assert again.get_job_status(job).to_json() == record.to_json()


def test_urgent_job_overtakes_a_running_low_priority_job(
    api: CloudRenderingAPI, tmp_path: Path
) -> None:
    low = api.submit_job(
        slow_project(tmp_path, 4.0),
        output=str(tmp_path / "low.mp4"),
        priority="low",
        chunk_frames=15,
        base_dir=str(tmp_path),
    )
    _wait_for(lambda: api.get_job_status(low).frames_done > 0, 60)
    urgent = api.submit_job(
        colour_project(1.0), output=str(tmp_path / "urgent.mp4"), priority="urgent", chunk_frames=15
    )
    done_urgent = api.wait(urgent, timeout=120)
    low_now = api.get_job_status(low)
    assert done_urgent.state is JobState.COMPLETED
    assert low_now.state is not JobState.COMPLETED  # the urgent one finished first
    assert api.wait(low, timeout=200).state is JobState.COMPLETED


def test_equal_priority_jobs_share_the_worker_chunk_by_chunk(
    api: CloudRenderingAPI, tmp_path: Path
) -> None:
    a = api.submit_job(colour_project(2.0), output=str(tmp_path / "a.mp4"), chunk_frames=10)
    b = api.submit_job(
        colour_project(2.0, "#ff0000"), output=str(tmp_path / "b.mp4"), chunk_frames=10
    )
    ra, rb = api.wait(a, timeout=120), api.wait(b, timeout=120)
    starts = sorted(
        [(c.started_at or 0, "a") for c in ra.chunks]
        + [(c.started_at or 0, "b") for c in rb.chunks]
    )
    order = "".join(job for _, job in starts)
    # Round-robin: neither job runs all its chunks before the other starts its second.
    assert set(order[:3]) == {"a", "b"}  # b starts before a has run three chunks
    assert "aaaaaa" not in order and "bbbbbb" not in order


def test_cancel_stops_a_running_chunk_quickly(api: CloudRenderingAPI, tmp_path: Path) -> None:
    storage = Path(api.storage_url.removeprefix("file://"))
    out = tmp_path / "cancelled.mp4"
    job = api.submit_job(
        slow_project(tmp_path, 6.0), output=str(out), chunk_frames=90, base_dir=str(tmp_path)
    )
    events: list[dict[str, Any]] = []
    subscription = api.on_progress_update(events.append, job_id=job)
    _wait_for(lambda: any(e["event"] == "progress" for e in events), 60)
    running = [c.index for c in api.get_job_status(job).chunks if c.state is ChunkState.RUNNING]
    cancelled_at = time.time()
    record = api.cancel_job(job)
    assert record.state is JobState.CANCELLED
    assert running  # it was mid-chunk: the record says how that chunk ended
    for chunk in record.chunks:
        if chunk.index in running:
            assert (chunk.state, chunk.error) == (ChunkState.FAILED, "cancelled")
    # The worker polls the flag between frames: its progress events stop within 2 seconds,
    # and it is free for the next job.
    probe = api.submit_job(colour_project(0.2), output=str(tmp_path / "probe.mp4"))
    assert api.wait(probe, timeout=60).state is JobState.COMPLETED
    subscription.stop()
    last = max(e["time"] for e in events if e["event"] == "progress")
    assert last - cancelled_at < 2.0
    assert not out.exists()
    assert not list(storage.rglob(f"jobs/{job}/**/*.mkv"))
    with pytest.raises(RenderError, match="already cancelled"):
        api.cancel_job(job)
    with pytest.raises(JobNotFound):
        api.cancel_job("no-such-job")


def test_cost_ceiling_rejects_before_anything_runs(api: CloudRenderingAPI, tmp_path: Path) -> None:
    before = set(api.store.recent())
    with pytest.raises(CostLimitExceeded, match="above the limit"):
        api.submit_job(colour_project(5.0), output=str(tmp_path / "x.mp4"), max_cost=1e-9)
    assert set(api.store.recent()) == before
    quote = api.estimate_cost(colour_project(5.0))
    assert quote.frames == 150 and quote.cost > 0 and quote.wall_seconds > 0


def test_deterministic_failure_fails_the_job_once(api: CloudRenderingAPI, tmp_path: Path) -> None:
    good = make_video(tmp_path / "good.mp4", frames=30)
    doc = project(
        [
            video_track(
                "v", [{"id": "bad", "start_time": 0, "end_time": 1, "source": {"File": "bad.mp4"}}]
            )
        ]
    )
    (tmp_path / "bad.mp4").write_bytes(good.read_bytes())
    job = api.submit_job(doc, output=str(tmp_path / "x.mp4"), base_dir=str(tmp_path))
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 4096)
    record = api.wait(job, timeout=60)
    assert record.state is JobState.FAILED
    assert record.error and "clip 'bad'" in record.error
    assert all(c.attempts <= 1 for c in record.chunks)


def test_finished_jobs_expire(tmp_path: Path) -> None:
    # The lifetime is a cluster setting: the workers that finish jobs apply it.
    with EmbeddedCluster(workers=1, env={"CLOUDRENDER_JOB_TTL": "1"}) as short:
        api = CloudRenderingAPI(short.broker_url, storage_url=f"file://{tmp_path}")
        job = api.submit_job(colour_project(0.2), output=str(tmp_path / "x.mp4"))
        assert api.wait(job, timeout=60).state is JobState.COMPLETED
        _wait_for(lambda: not api.store.redis.exists(keys.job(job)), 10)
        with pytest.raises(JobNotFound):
            api.get_job_status(job)
        assert api.store.cleanup() == 1 and job not in api.store.recent()


def _wait_for(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_progress_subscription_stops_cleanly(api: CloudRenderingAPI) -> None:
    sub = api.on_progress_update(lambda event: None)
    sub.stop()
    assert not any(t.name == "progress" and t.is_alive() for t in threading.enumerate())


def test_cluster_status_scale_billing_and_metrics(api: CloudRenderingAPI, tmp_path: Path) -> None:
    status = api.get_cluster_status()
    assert len(status.nodes) == 1 and status.slots == 1
    assert status.nodes[0].last_heartbeat > time.time() - 15
    job = api.submit_job(colour_project(0.5), output=str(tmp_path / "m.mp4"))
    assert api.wait(job, timeout=60).state is JobState.COMPLETED
    billing = api.get_billing()
    assert billing.total > 0 and billing.jobs[job] > 0
    assert sum(billing.by_day.values()) == pytest.approx(billing.total)
    # The job kept the estimate it was submitted with; billing sets it against the actual.
    measured = billing.accuracy[job]
    record = api.get_job_status(job)
    assert record.estimate is not None
    assert measured["actual_cost"] == pytest.approx(record.actual_cost, abs=1e-7)
    assert set(measured) >= {"estimated_seconds", "actual_seconds", "seconds_error_pct"}
    metrics = api.get_metrics()
    assert metrics.jobs["completed"] >= 1 and metrics.active_nodes == 1
    assert metrics.average_job_seconds is not None
    assert metrics.total_cost == pytest.approx(billing.total)
    assert metrics.average_frame_seconds is not None and metrics.average_frame_seconds > 0
    nodes = api.get_node_metrics()
    assert len(nodes) == 1 and nodes[0].completed_chunks >= 1
    assert nodes[0].memory_total_bytes and nodes[0].memory_total_bytes > 0  # from its heartbeat
    try:
        api.scale_cluster(2)
        _wait_for(lambda: api.get_cluster_status().slots == 2, 20)
    finally:
        api.scale_cluster(1)
        _wait_for(lambda: api.get_cluster_status().slots == 1, 20)
    with pytest.raises(RenderError, match="at least one"):
        api.scale_cluster(0)


def test_a_field_never_set_reads_as_none_not_as_a_missing_job(redis_url: str) -> None:
    store = JobStore.from_url(redis_url)
    store.create(JobRecord(id="fields"), {})
    assert store.get_fields("fields", "audio_sent_at", "state") == {
        "audio_sent_at": None,
        "state": "queued",
    }
    with pytest.raises(JobNotFound):
        store.get_fields("nope", "state")
