"""`cloudrender submit / status / cancel / estimate` against a running cluster (DESIGN 4.3)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.helpers import CLI, colour_project
from tests.media import project, solid, video_track, write_project

pytestmark = pytest.mark.timeout(300)


def on_cluster(cli: CLI, cluster: str, storage: Path) -> CLI:
    """The command line pointed at the test cluster's broker and at ``storage``."""
    return cli.with_env(CLOUDRENDER_BROKER_URL=cluster, CLOUDRENDER_STORAGE_URL=f"file://{storage}")


def test_submit_status_cancel_estimate(cli: CLI, cluster: str, tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    run = on_cluster(cli, cluster, storage)
    doc = colour_project(1, "#123456")
    path = write_project(tmp_path / "p.json", doc)
    out = tmp_path / "out.mp4"
    submitted = run("submit", str(path), "-o", str(out), "--priority", "high")
    assert submitted.returncode == 0, submitted.stderr
    job = submitted.stdout.strip().splitlines()[-1]
    watched = run("status", job, "--watch")
    assert watched.returncode == 0, watched.stderr
    assert "completed" in watched.stdout and "30/30 frames" in watched.stdout
    status = json.loads(run("status", job, "--json").stdout)
    assert status["state"] == "completed" and status["frames_done"] == 30
    assert out.stat().st_size > 0
    fetched = tmp_path / "fetched.mp4"
    got = run("download", job, "-o", str(fetched))
    assert got.returncode == 0 and fetched.read_bytes() == out.read_bytes()
    url = run("download", job, "--url").stdout.strip()
    assert url == f"file://{storage}/jobs/{job}/output.mp4"
    again = run("cancel", job)
    assert again.returncode == 2 and again.stderr.strip() == (
        f"error: job {job} is already completed; nothing to cancel"
    )
    unknown = run("status", "nope")
    assert unknown.returncode == 2 and "no job 'nope'" in unknown.stderr
    quote = json.loads(run("estimate", str(path), "--json").stdout)
    assert quote["frames"] == 30 and quote["cost"] > 0


def test_max_cost_refusal_is_one_line(cli: CLI, cluster: str, tmp_path: Path) -> None:
    doc = project(
        [video_track("v", [{"id": "c", "start_time": 0, "end_time": 1, **solid("#123456")}])]
    )
    path = write_project(tmp_path / "p.json", doc)
    result = on_cluster(cli, cluster, tmp_path)(
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
