"""A render worker's pool process killed mid-chunk, on a real cluster (workers.chunk_request)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import av

from bench.support import ChaosCluster, heavy_project
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_events import read_events
from orchestrator.job_record import ChunkState, JobState
from orchestrator.job_store import JobStore


def _children(pid: int) -> list[int]:
    """The direct children of `pid` (a worker's pool processes)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes()
            except OSError:
                continue
            if int(stat[stat.rfind(b")") + 2 :].split()[1]) == pid:
                found.append(int(entry))
    return found


def test_a_chunk_whose_pool_process_dies_reads_retrying_at_once(tmp_path: Path) -> None:
    """SIGKILL of the pool process rendering a chunk: before, the chunk read "running" with the
    dead process's frames until Celery handed its message out again (11 s seen with a full
    queue). The worker's main process now reports it retrying, with why, before the message
    goes back; the job still completes with every frame once."""
    doc = heavy_project(tmp_path, seconds=1.0, size=(160, 90))
    with ChaosCluster(1) as cluster:
        api = CloudRenderingAPI(cluster.redis.url, storage_url=f"file://{tmp_path / 'store'}")
        store = JobStore.from_url(cluster.redis.url)
        out = tmp_path / "out.mkv"
        job = api.submit_job(doc, output=str(out), chunk_frames=15, base_dir=str(tmp_path))
        worker = cluster.workers[0]
        assert worker.pid is not None
        deadline = time.monotonic() + 60
        running = []
        while not running and time.monotonic() < deadline:
            running = [
                c for c in store.chunks(job) if c.state is ChunkState.RUNNING and c.frames_done > 0
            ]
        assert running, "no chunk got going"
        (pool,) = _children(worker.pid)
        os.kill(pool, signal.SIGKILL)
        record = api.wait(job, timeout=90)
        assert record.state is JobState.COMPLETED, record.error
        events = [m for _, m in read_events(store.redis, job) if m.get("chunk") == running[0].index]
    said = [(m["event"], m.get("reason")) for m in events if m["event"] != "progress"]
    # Reported by the main process first, then its message ran again once, and finished
    assert said == [
        ("chunk_started", None),
        ("chunk_requeued", "process died"),
        ("chunk_started", None),
        ("chunk_done", None),
    ], said
    with av.open(str(out)) as video:
        assert sum(1 for _ in video.decode(video=0)) == 30


def test_a_chunk_whose_pool_process_dies_every_time_fails_the_job_naming_it(
    tmp_path: Path,
) -> None:
    """A chunk that takes its pool process down on every run (the OOM killer, a crash in the
    worker itself): before, Celery handed its message out again for ever and the job stayed
    "rendering". Now the lost runs count against the node like a crashed render, and once no
    worker is left to try it the job fails naming the chunk and why."""
    doc = heavy_project(tmp_path, seconds=1.0, size=(160, 90))
    with ChaosCluster(1) as cluster:
        api = CloudRenderingAPI(cluster.redis.url, storage_url=f"file://{tmp_path / 'store'}")
        store = JobStore.from_url(cluster.redis.url)
        job = api.submit_job(
            doc, output=str(tmp_path / "out.mkv"), chunk_frames=15, base_dir=str(tmp_path)
        )
        worker = cluster.workers[0]
        assert worker.pid is not None
        kills: list[int] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not store.state(job).finished:
            # As soon as it runs: waiting for its first progress missed the whole run on a
            # quiet machine (a 15-frame chunk renders between two looks).
            victim = [c for c in store.chunks(job) if c.index == 1]
            if victim and victim[0].state is ChunkState.RUNNING:
                for pool in _children(worker.pid):
                    os.kill(pool, signal.SIGKILL)
                kills.append(victim[0].attempts)
                while store.chunk(job, 1).state is ChunkState.RUNNING:
                    time.sleep(0.05)  # until the main process reported the loss
            time.sleep(0.05)
        record = api.get_job_status(job)
    assert record.state is JobState.FAILED, (record.state, kills)
    assert record.error is not None
    assert "chunk 1 (frames 15-29)" in record.error, record.error
    assert "died" in record.error, record.error
    assert len(kills) <= 3, kills
