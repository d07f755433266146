"""`cloudrender worker --benchmark`, and the benchmark a worker runs at its first start: the
result is printed, stored for the node's class in the cluster, and run once per class."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis

from cli.main import main
from cli.node_commands import first_start_benchmark, needs_benchmark
from common.errors import RenderError
from common.settings import Settings
from orchestrator import keys
from orchestrator.node_class import load_benchmark, record_benchmark
from tests.helpers import CLI
from workers import benchmark
from workers.benchmark_result import BenchmarkResult

pytestmark = pytest.mark.timeout(120)


def fake_result(**change: Any) -> BenchmarkResult:
    """What a benchmark of a 2-vCPU node might return (the real one runs in the subprocesses)."""
    data: dict[str, Any] = {
        "frames": 4,
        "width": 1920,
        "height": 1080,
        "units": 3.5,
        "seconds": 1.5,
        "cpu_seconds": 2.5,
        "fps": 2.67,
        "slot_seconds_per_frame": 0.375,
        "seconds_per_unit": 0.107,
        "stages": {"decode": 0.05, "composite": 0.13, "encode": 0.12, "audio": 0.005},
        "encoder": "libx264",
        "hardware": False,
        "gpu": False,
        "gpu_model": "",
        "vcpus": 2,
        "slots": 2,
        "fingerprint": "0123456789abcdef",
        "measured_at": 1.0,
        **change,
    }
    return BenchmarkResult.from_json(data)


class Runs:
    """A stand-in for workers.benchmark.run_benchmark that counts its calls."""

    def __init__(self, error: Exception | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.error = error

    def __call__(self, **kwargs: Any) -> BenchmarkResult:
        self.calls.append(kwargs)
        if self.error is not None:
            raise self.error
        return fake_result()


def worker_args(**change: Any) -> argparse.Namespace:
    return argparse.Namespace(
        **{"benchmark_frames": 4, "concurrency": 3, "broker": None, "json": False, **change}
    )


# --- worker --benchmark ---------------------------------------------------------------------------


def test_benchmark_prints_stores_and_exits(cli: CLI, redis_url: str) -> None:
    done = cli.with_env(CLOUDRENDER_NODE_POOL="gpu-test")(
        "worker", "--benchmark", "--benchmark-frames", "4", "--broker", redis_url, "--json"
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["node_class"] == "gpu-test"
    assert (printed["frames"], printed["width"], printed["height"]) == (4, 1920, 1080)
    assert printed["fps"] > 0 and printed["seconds_per_unit"] > 0
    with redis.Redis.from_url(redis_url) as client:
        stored = load_benchmark(client, "gpu-test")
        assert stored is not None and load_benchmark(client, "local-cpu") is None
    assert stored.to_json() == {k: v for k, v in printed.items() if k != "node_class"}


def test_benchmark_text_output(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = Runs()
    monkeypatch.setattr(benchmark, "run_benchmark", runs)
    monkeypatch.delenv("CLOUDRENDER_NODE_POOL", raising=False)
    assert main(["worker", "--benchmark", "--broker", redis_url, "--concurrency", "3"]) == 0
    out = capsys.readouterr().out
    assert fake_result().summary() in out
    assert "stored for node class 'local-cpu'" in out
    assert runs.calls == [
        {"frames": 16, "threads": Settings.from_env().encoder_threads, "slots": 3}
    ]


def test_benchmark_without_a_broker_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = Runs()
    monkeypatch.setattr(benchmark, "run_benchmark", runs)
    monkeypatch.delenv("CLOUDRENDER_BROKER_URL", raising=False)
    assert main(["worker", "--benchmark"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: no broker: pass --broker URL or set CLOUDRENDER_BROKER_URL"
    )
    assert runs.calls == []


def test_benchmark_against_an_unreachable_cluster_fails_before_measuring(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = Runs()
    monkeypatch.setattr(benchmark, "run_benchmark", runs)
    assert main(["worker", "--benchmark", "--broker", "redis://127.0.0.1:1/0"]) == 3
    assert "cannot talk to the cluster's Redis" in capsys.readouterr().err
    assert runs.calls == []


# --- first start ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "recorded", "runs"), [(True, False, True), (True, True, False), (False, False, False)]
)
def test_a_first_start_benchmarks_when_on_and_its_class_has_none(
    redis_url: str, on: bool, recorded: bool, runs: bool
) -> None:
    settings = replace(Settings.from_env(), benchmark_on_start=on, node_pool="l4")
    with redis.Redis.from_url(redis_url) as client:
        if recorded:
            record_benchmark(client, "l4", fake_result())
        assert needs_benchmark(client, "l4", settings) is runs
        # Another class's record does not count.
        assert needs_benchmark(client, "other", settings) is on


def test_first_start_stores_once_and_logs_one_line(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = Runs()
    monkeypatch.setattr(benchmark, "run_benchmark", runs)
    settings = replace(Settings.from_env(), benchmark_on_start=True, node_pool="l4")
    first_start_benchmark(redis_url, worker_args(), settings)
    assert runs.calls == [{"frames": 4, "threads": settings.encoder_threads, "slots": 3}]
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "node benchmark (l4): 2.67 frames/s, 0.1070 s per unit per slot, libx264, no GPU; stored"
    ]
    with redis.Redis.from_url(redis_url) as client:
        assert load_benchmark(client, "l4") == fake_result()
    first_start_benchmark(redis_url, worker_args(), settings)  # the next worker of the class
    assert len(runs.calls) == 1
    assert capsys.readouterr().err == ""


def test_a_failed_first_start_benchmark_does_not_stop_the_worker(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(benchmark, "run_benchmark", Runs(RenderError("no space left")))
    settings = replace(Settings.from_env(), benchmark_on_start=True)
    first_start_benchmark(redis_url, worker_args(), settings)  # returns: the worker starts
    assert capsys.readouterr().err.strip() == "node benchmark skipped: no space left"
    with redis.Redis.from_url(redis_url) as client:
        assert not client.exists(keys.BENCHMARKS)


def test_a_worker_benchmarks_before_it_starts(cli: CLI, redis_url: str, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    runner = cli.with_env(
        CLOUDRENDER_BENCHMARK_ON_START="1",
        CLOUDRENDER_STORAGE_URL=(tmp_path / "storage").as_uri(),
        CLOUDRENDER_NODE_POOL=None,
    )
    with open(log, "w") as out:
        proc = runner.start(
            "worker",
            "--broker",
            redis_url,
            "--concurrency",
            "1",
            "--benchmark-frames",
            "4",
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        with redis.Redis.from_url(redis_url) as client:
            deadline = time.monotonic() + 90
            while load_benchmark(client, "local-cpu") is None:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "no benchmark recorded"
                time.sleep(0.2)
            # Then the worker itself starts: its heartbeat appears.
            while not any(client.scan_iter(keys.node("*"))):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the worker did not start"
                time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert "node benchmark (local-cpu): " in log.read_text()
