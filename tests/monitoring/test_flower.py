"""Flower against a real embedded cluster: auth on the API, our worker and tasks, its metrics."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from common.errors import RenderError
from common.names import TASK_MERGE, TASK_RENDER_CHUNK
from monitoring.flower import FlowerProcess, flower_command
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import JobState
from orchestrator.processes import free_port
from tests.helpers import CLI, colour_project, end_with_signal

pytestmark = pytest.mark.timeout(300)

AUTH = "test:secret"
T = TypeVar("T")


def get(url: str, auth: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if auth is not None:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def poll(probe: Callable[[], T | None], timeout: float = 20.0) -> T:
    """Call ``probe`` until it returns something other than None."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:g} s")
        time.sleep(0.5)


def flower_processes(port: int) -> list[int]:
    """Live processes whose command line runs a Flower on ``port``."""
    found = []
    with os.scandir("/proc") as entries:
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"flower" in argv and f"--port={port}".encode() in argv:
                found.append(int(entry.name))
    return found


def test_command_requires_auth() -> None:
    with pytest.raises(RenderError, match="without authentication"):
        flower_command("redis://127.0.0.1:1/0", port=5555, basic_auth=None)
    with pytest.raises(RenderError, match="user:password"):
        flower_command("redis://127.0.0.1:1/0", port=5555, basic_auth="nopassword")
    _, open_env = flower_command(
        "redis://127.0.0.1:1/0",
        port=5555,
        basic_auth=None,
        allow_unauthenticated=True,
        base_env={"FLOWER_BASIC_AUTH": "stale:one"},
    )
    assert "FLOWER_BASIC_AUTH" not in open_env


def test_secrets_stay_out_of_the_command_line() -> None:
    # Any local user can read /proc/PID/cmdline; the environment is private to the owner.
    broker = "redis://:s3cret@h:1/0"
    cmd, env = flower_command(
        broker,
        port=5601,
        address="0.0.0.0",
        basic_auth=AUTH,
        base_env={"PATH": "/bin", "FLOWER_UNAUTHENTICATED_API": "1"},
    )
    assert cmd == [
        sys.executable, "-m", "celery", "-A", "orchestrator.celery_app:app", "flower",
        "--port=5601", "--address=0.0.0.0",
    ]  # fmt: skip
    assert env == {
        "PATH": "/bin",
        "CLOUDRENDER_BROKER_URL": broker,
        "CLOUDRENDER_RESULT_BACKEND": broker,
        "FLOWER_BASIC_AUTH": AUTH,
    }


def test_flower_sees_worker_tasks_and_metrics(
    embedded_cluster: EmbeddedCluster, tmp_path: Path
) -> None:
    assert embedded_cluster.workers is not None
    hostname = embedded_cluster.workers.hostname
    # Flower learns tasks only from events it receives while running: start it first.
    with FlowerProcess(embedded_cluster.broker_url, basic_auth=AUTH) as flower:
        pid, port = flower.pid, flower.port
        assert flower_processes(port) == [pid]
        assert pid is not None and flower.url.startswith("http://127.0.0.1:")
        assert b"secret" not in Path(f"/proc/{pid}/cmdline").read_bytes()

        status, _ = get(f"{flower.url}/api/workers")
        assert status == 401
        status, _ = get(f"{flower.url}/api/workers", auth="test:wrong")
        assert status == 401

        def our_worker() -> dict[str, Any] | None:
            status, body = get(f"{flower.url}/api/workers", auth=AUTH)
            assert status == 200, body
            workers: dict[str, Any] = json.loads(body)
            return workers if hostname in workers else None

        workers = poll(our_worker)
        assert hostname.startswith("local-") and all(name.startswith("local-") for name in workers)

        api = CloudRenderingAPI(
            embedded_cluster.broker_url, storage_url=f"file://{tmp_path / 'storage'}"
        )
        doc = colour_project(1.0, "#3366ff")
        job = api.submit_job(doc, output=str(tmp_path / "out.mp4"), chunk_frames=15)
        record = api.wait(job, timeout=120)
        assert record.state is JobState.COMPLETED, record.error

        def our_tasks() -> dict[str, list[dict[str, Any]]] | None:
            status, body = get(f"{flower.url}/api/tasks", auth=AUTH)
            assert status == 200, body
            tasks: dict[str, dict[str, Any]] = json.loads(body)
            by_name: dict[str, list[dict[str, Any]]] = {}
            for task in tasks.values():
                if job in str(task.get("args")) or job in str(task.get("kwargs")):
                    by_name.setdefault(str(task.get("name")), []).append(task)
            merged = by_name.get(TASK_MERGE, [])
            done = merged and merged[0].get("state") == "SUCCESS"
            return by_name if done and len(by_name.get(TASK_RENDER_CHUNK, [])) == 2 else None

        tasks = poll(our_tasks)
        assert {TASK_RENDER_CHUNK, TASK_MERGE} <= set(tasks)
        for task in tasks[TASK_RENDER_CHUNK]:
            assert task["state"] == "SUCCESS" and task["worker"] == hostname

        online = f'flower_worker_online{{worker="{hostname}"}} 1.0'

        def metrics_with_our_worker() -> str | None:
            # The gauge is set by the worker's heartbeat events, which come every few seconds.
            status, body = get(f"{flower.url}/metrics")
            assert status == 200
            text = body.decode()
            return text if online in text else None

        metrics = poll(metrics_with_our_worker)
        assert "flower_events_total" in metrics
        status, body = get(f"{flower.url}/healthcheck")
        assert (status, body) == (200, b"OK")

    assert flower.pid is None
    assert not Path(f"/proc/{pid}").exists()
    assert flower_processes(port) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_cloudrender_flower_stopped_by_a_signal_stops_flower(
    cli: CLI, redis_url: str, signum: signal.Signals
) -> None:
    """`kill PID` (systemd stop) killed `cloudrender flower` alone: Flower went on answering
    on its port with no parent, and the next start found the port taken."""
    port = free_port()
    run = cli.with_env(CLOUDRENDER_BROKER_URL=redis_url, CLOUDRENDER_FLOWER_AUTH=AUTH)
    proc = run.start("flower", "--port", str(port), stdout=subprocess.DEVNULL)
    try:

        def serving() -> bool | None:
            assert proc.poll() is None, proc.communicate()[1]
            with contextlib.suppress(OSError):
                return get(f"http://127.0.0.1:{port}/healthcheck")[0] == 200 or None
            return None

        poll(serving, timeout=60)
        assert len(flower_processes(port)) == 1
        err = end_with_signal(proc, signum)
    finally:
        for pid in flower_processes(port):
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode == (130 if signum == signal.SIGINT else 0), err
    assert flower_processes(port) == []
    with pytest.raises(OSError):
        get(f"http://127.0.0.1:{port}/healthcheck")
