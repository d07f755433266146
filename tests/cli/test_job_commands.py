"""`cloudrender submit / status / cancel / estimate` against a running cluster (DESIGN 4.3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.embedded import EmbeddedCluster
from tests.media import project, solid, video_track, write_project

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    with EmbeddedCluster(workers=1) as running:
        yield running.broker_url


def cli(cluster: str, storage: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CLOUDRENDER_BROKER_URL": cluster,
        "CLOUDRENDER_STORAGE_URL": f"file://{storage}",
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_submit_status_cancel_estimate(cluster: str, tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    doc = project(
        [video_track("v", [{"id": "c", "start_time": 0, "end_time": 1, **solid("#123456")}])],
        settings={"export": {"preset": "ultrafast"}},
    )
    path = write_project(tmp_path / "p.json", doc)
    out = tmp_path / "out.mp4"
    submitted = cli(cluster, storage, "submit", str(path), "-o", str(out), "--priority", "high")
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().splitlines()[-1]
    watched = cli(cluster, storage, "status", job, "--watch")
    assert watched.returncode == 0, watched.stderr
    assert "completed" in watched.stdout and "30/30 frames" in watched.stdout
    status = json.loads(cli(cluster, storage, "status", job, "--json").stdout)
    assert status["state"] == "completed" and status["frames_done"] == 30
    assert out.stat().st_size > 0
    fetched = tmp_path / "fetched.mp4"
    got = cli(cluster, storage, "download", job, "-o", str(fetched))
    assert got.returncode == 0 and fetched.read_bytes() == out.read_bytes()
    url = cli(cluster, storage, "download", job, "--url").stdout.strip()
    assert url == f"file://{storage}/jobs/{job}/output.mp4"
    again = cli(cluster, storage, "cancel", job)
    assert again.returncode == 2 and again.stderr.strip() == (
        f"error: job {job} is already completed; nothing to cancel"
    )
    unknown = cli(cluster, storage, "status", "nope")
    assert unknown.returncode == 2 and "no job 'nope'" in unknown.stderr
    quote = json.loads(cli(cluster, storage, "estimate", str(path), "--json").stdout)
    assert quote["frames"] == 30 and quote["cost"] > 0


def test_max_cost_refusal_is_one_line(cluster: str, tmp_path: Path) -> None:
    doc = project(
        [video_track("v", [{"id": "c", "start_time": 0, "end_time": 1, **solid("#123456")}])]
    )
    path = write_project(tmp_path / "p.json", doc)
    result = cli(
        cluster,
        tmp_path,
        "submit",
        str(path),
        "-o",
        str(tmp_path / "x.mp4"),
        "--max-cost",
        "0.0000001",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "above the limit" in lines[0]
    time.sleep(0.1)
    assert not (tmp_path / "x.mp4").exists()
