"""A render node whose own scratch disk is full (its temporary directory on a filesystem with no
room left) beside a healthy one: the job completes on the healthy node, in about the time of a
clean render, rather than failing after the sick node retried every chunk it took on itself."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.support import ChaosCluster, heavy_project, make_video, status
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_record import ChunkState, JobState

pytestmark = pytest.mark.timeout(300)


@contextlib.contextmanager
def full_filesystem(root: Path) -> Iterator[Path]:
    """A small tmpfs mounted on ``root`` and filled to its last byte (skips where it cannot
    mount: that needs root)."""
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0777", "tmpfs", str(root)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("a full scratch disk needs a tmpfs of its own (mount, as root)")
    try:
        with open(root / "filler", "wb") as handle, contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        assert os.statvfs(root).f_bavail == 0
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], capture_output=True, check=False)


@pytest.mark.parametrize("audio", [False, True])
def test_a_node_with_a_full_scratch_disk_leaves_its_chunks_to_a_healthy_node(
    tmp_path: Path, audio: bool
) -> None:
    """With an audio track too: the mix and the merge, retried with backoff on a failure of
    the disk, went back to the idle sick node each time (it stops taking work instead)."""
    doc = heavy_project(tmp_path, seconds=1.0, size=(320, 180))
    if audio:
        make_video(tmp_path / "tone.mkv", frames=31, size=(64, 36), audio_hz=440.0)
        clip = {"id": "t", "start_time": 0, "end_time": 1.0, "source": {"File": "tone.mkv"}}
        doc["tracks"].append({"id": "a", "track_type": "Audio", "name": "a", "clips": [clip]})
    out = tmp_path / "out.mkv"
    paused = False
    with ChaosCluster(workers=1) as cluster:
        sick = cluster.add_worker()
        assert sick.log_path is not None
        # Over the worker's temporary directory (its chunks' scratch), once it is running.
        with full_filesystem(sick.log_path.parent):
            api = CloudRenderingAPI(cluster.redis.url, storage_url=f"file://{tmp_path / 's'}")
            job = api.submit_job(doc, output=str(out), chunk_frames=4, base_dir=str(tmp_path))
            began = time.monotonic()
            record = None
            while time.monotonic() - began < 240:
                record = status(api, job) or record
                beat = api.store.redis.get(keys.node(sick.hostname))
                paused = paused or bool(beat and json.loads(beat).get("scratch_full"))
                if record is not None and record.state.finished:
                    break
                time.sleep(0.2)
    assert record is not None
    assert record.state is JobState.COMPLETED, record.error
    chunks = [(c.index, c.state.value, c.node, c.attempts, c.error) for c in record.chunks]
    assert all(c.state is ChunkState.DONE and c.node != sick.hostname for c in record.chunks), (
        chunks
    )
    assert out.exists()
    # Handed on at once, not after the ~90 s of backoff a transient error gets.
    took = time.monotonic() - began
    assert took < 60, (took, chunks)
    assert paused  # its heartbeat said so: dispatch counted it out
