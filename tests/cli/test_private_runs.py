"""A private render's job objects leave the lasting storage however the render ended
(cli.private_runs)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from cli.private_runs import dropping_run_job, record_run_job, sweep_dead_runs


def stored(storage: Path, job_id: str) -> Path:
    """A segment of ``job_id`` in the lasting storage."""
    segment = storage / "jobs" / job_id / "segments" / "000000.mkv"
    segment.parent.mkdir(parents=True)
    segment.write_bytes(b"segment")
    return segment


def test_a_killed_renders_job_is_swept_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL of the client: no cleanup ran, the next private render removes what it left."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    storage = tmp_path / "storage"
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = tmp_path / f"cloudrender-run-{gone.pid}-abc"
    live = tmp_path / f"cloudrender-run-{os.getpid()}-def"
    for run, job in ((dead, "deadjob"), (live, "livejob")):
        run.mkdir()
        record_run_job(str(run), job)
    dead_segment, live_segment = stored(storage, "deadjob"), stored(storage, "livejob")
    kept = stored(storage, "cachedjob")  # named by no run folder (kept segments, say)
    sweep_dead_runs(str(storage))
    assert not dead_segment.exists() and not dead.exists()
    assert live_segment.exists() and live.exists() and kept.exists()


def test_a_render_that_ends_in_an_error_removes_its_jobs_objects(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    segment = stored(storage, "job1")
    with pytest.raises(RuntimeError), dropping_run_job(str(tmp_path), str(storage)):
        record_run_job(str(tmp_path), "job1")
        raise RuntimeError("the private Redis died")
    assert not segment.exists()
