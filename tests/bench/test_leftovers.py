"""A benchmark run's leftovers are found by its marker or by working in its directory (a
redis-server overwrites its environment, marker included), and each run gets its own cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import leftovers, scaling_runs
from bench.measure import Timed
from orchestrator.embedded_redis import EmbeddedRedis

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

SLEEP = [sys.executable, "-c", "import time; time.sleep(30)"]


def test_a_process_working_in_the_run_directory_is_a_leftover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    (run / "redis").mkdir(parents=True)
    # No marker in its environment, as a redis-server shows none: only its directory tells.
    stray = subprocess.Popen(SLEEP, cwd=run / "redis")
    try:
        assert not leftovers.marked_processes("BENCH_TEST_RUN", "x")
        found = leftovers.marked_processes("BENCH_TEST_RUN", "x", run)
        assert [pid for pid, _ in found] == [stray.pid]
        assert not leftovers.marked_processes("BENCH_TEST_RUN", "x", tmp_path / "elsewhere")
        monkeypatch.setattr(leftovers, "LEFTOVER_GRACE_S", 0.2)
        with pytest.raises(SystemExit, match="LEFTOVER PROCESSES after the test run"):
            leftovers.ensure_no_leftovers("BENCH_TEST_RUN", "x", "the test run", run)
        assert stray.wait(timeout=10) != 0  # killed by pid
    finally:
        if stray.poll() is None:
            stray.kill()
        stray.wait()


def test_each_scaling_run_has_its_own_segment_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, str]] = []

    def fake_run_timed(cmd: list[str], env: dict[str, str] | None = None) -> Timed:
        assert env is not None
        seen.append(env)
        output = Path(cmd[cmd.index("-o") + 1])
        output.write_bytes(b"video")
        summary = json.dumps({"seconds": 1.0, "fps": 30.0})
        return Timed(subprocess.CompletedProcess(cmd, 0, summary, ""), 1.5, 2.0, 0.0, 0.0)

    monkeypatch.setattr(scaling_runs, "run_timed", fake_run_timed)
    monkeypatch.setenv("CLOUDRENDER_BROKER_URL", "redis://someone-else:6379/0")
    project = tmp_path / "project.json"
    project.write_text("{}")
    for _ in range(2):
        summary = scaling_runs.render(project, tmp_path, 2)
        assert summary["wall"] == 1.5 and summary["cpu"] == 2.0
    first, second = (Path(env["CLOUDRENDER_EMBEDDED_DIR"]) for env in seen)
    assert first != second
    assert first.is_relative_to(tmp_path) and second.is_relative_to(tmp_path)
    assert all(Path(env["TMPDIR"]).is_relative_to(tmp_path) for env in seen)
    assert all("CLOUDRENDER_BROKER_URL" not in env for env in seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project.json"]  # runs cleaned up


def test_a_redis_server_is_found_by_its_port_not_its_marker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BENCH_TEST_RUN", "redis")
    with EmbeddedRedis() as redis:
        pid, port = redis.pid, redis.port
        # redis-server overwrites its environment with its title: the marker is gone.
        assert not leftovers.marked_processes("BENCH_TEST_RUN", "redis")
        found = leftovers.marked_processes("BENCH_TEST_RUN", "redis", redis_ports=[port])
        assert [p for p, _ in found] == [pid]
