"""A small cluster whose parts can be killed, frozen and restarted: Redis with append-only
persistence, one orchestrator process (beat + orchestrator/merge/audio queues) and render
workers of one slot each. Used by tests/chaos and bench/chaos.py."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from orchestrator.embedded import LocalWorkers, find_redis_server


class PersistentRedis:
    """redis-server with append-only persistence on a fixed port, restartable in place."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="cloudrender-chaos-redis-"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (or restart) the server on the same port and data directory."""
        self.proc = subprocess.Popen(
            [
                find_redis_server(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 15
        while True:
            try:
                if client.ping():
                    return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        """Kill the server outright (what a crash looks like)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def close(self) -> None:
        """Stop the server and remove its data."""
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class ChaosCluster:
    """Redis + orchestrator + render workers, each a process group the test may abuse."""

    def __init__(self, workers: int, env: dict[str, str] | None = None) -> None:
        self.redis = PersistentRedis()
        self.env = {"OPENBLAS_NUM_THREADS": "1", "CLOUDRENDER_ENCODER_THREADS": "1", **(env or {})}
        self.orchestrator: LocalWorkers | None = None
        self.workers: list[LocalWorkers] = []
        self.initial = workers

    def __enter__(self) -> ChaosCluster:
        self.redis.start()
        self.orchestrator = LocalWorkers(
            self.redis.url, 1, ("orchestrator", "merge", "audio"), self.env, beat=True
        )
        self.orchestrator.start()
        self.orchestrator.wait_ready()
        for _ in range(self.initial):
            self.add_worker()
        return self

    def add_worker(self, env: dict[str, str] | None = None) -> LocalWorkers:
        """Start one more render worker (one slot)."""
        worker = LocalWorkers(self.redis.url, 1, ("render",), {**self.env, **(env or {})})
        worker.start()
        worker.wait_ready()
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: LocalWorkers) -> None:
        """SIGKILL a worker's whole process group, as when its machine dies."""
        pid = worker.pid
        if pid is not None:
            _signal_group(pid, signal.SIGKILL)
        worker.stop()

    def freeze(self, worker: LocalWorkers, seconds: float) -> None:
        """Stop a worker's processes for a while (a stalled machine), then let them go on."""
        self.pause(worker)
        time.sleep(seconds)
        self.resume(worker)

    def pause(self, worker: LocalWorkers) -> None:
        """SIGSTOP a worker's whole process group."""
        if worker.pid is not None:
            _signal_group(worker.pid, signal.SIGSTOP)

    def resume(self, worker: LocalWorkers) -> None:
        """SIGCONT a worker's whole process group."""
        if worker.pid is not None:
            _signal_group(worker.pid, signal.SIGCONT)

    def restart_redis(self, down_seconds: float = 1.0) -> None:
        """Kill Redis and start it again from its append-only file."""
        self.redis.kill()
        time.sleep(down_seconds)
        self.redis.start()

    def __exit__(self, *exc: Any) -> None:
        for worker in self.workers:
            worker.stop()
        if self.orchestrator is not None:
            self.orchestrator.stop()
        self.redis.close()


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
