"""A worker node's heartbeat: written when the worker is ready, withdrawn when it shuts down.

An in-process Celery worker (Celery's pytest fixtures, tests/orchestrator/conftest.py) with our
configuration, on the session's private Redis.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.worker import WorkController

from common.names import QUEUE_ORCHESTRATOR
from orchestrator import keys
from orchestrator.job_store import JobStore
from orchestrator.node_roles import ROLE_ORCHESTRATOR
from orchestrator.node_signals import process_scope

pytestmark = pytest.mark.timeout(60)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def heartbeat(client: redis.Redis, name: str, timeout: float = 5.0) -> dict[str, Any]:
    """The node's heartbeat payload, once its heartbeat thread has written it."""
    assert wait_until(lambda: client.exists(keys.node(name)) == 1, timeout), f"no beat from {name}"
    payload: dict[str, Any] = json.loads(client.get(keys.node(name)))
    return payload


def test_a_ready_worker_advertises_its_slots_and_queues(
    celery_worker: WorkController, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    name = celery_worker.hostname

    beat = heartbeat(client, name)

    assert beat["name"] == name and beat["pid"] == os.getpid()
    assert beat["concurrency"] == 1  # the solo pool's one slot
    assert beat["queues"] == [QUEUE_ORCHESTRATOR]
    # An orchestrator-only node: listed, but its slot renders nothing (test_node_names)
    assert beat["role"] == ROLE_ORCHESTRATOR and beat["scope"] == process_scope()
    assert beat["draining"] is False
    assert 0 < client.ttl(keys.node(name)) <= keys.NODE_TTL  # it lives only while renewed
    assert JobStore.from_url(redis_url).heartbeats()[name]["concurrency"] == 1


def test_a_worker_withdraws_its_heartbeat_on_shutdown(
    celery_app: Celery, celery_worker_parameters: dict[str, Any], redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    # Given a ready worker whose heartbeat is up
    with start_worker(celery_app, **celery_worker_parameters) as worker:
        name = worker.hostname
        assert heartbeat(client, name)["name"] == name

    # When it has shut down (worker_shutdown), its slots stop counting at once, not after a TTL
    assert client.exists(keys.node(name)) == 0
    assert name not in JobStore.from_url(redis_url).heartbeats()
    # And its heartbeat thread ends: nothing beats on in this process
    assert wait_until(lambda: not any(t.name == "heartbeat" for t in threading.enumerate()))


def test_a_spot_notice_while_redis_is_away_still_evacuates(tmp_path: Any) -> None:
    """The notice comes during a Redis blip: the node must stop taking work at once, flag
    itself as soon as Redis is back, and leave (SIGTERM) either way, not drop the notice."""
    import signal
    import socket
    import subprocess

    from orchestrator.embedded_redis import find_redis_server
    from orchestrator.node_drain import NodeDrain

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    app = Celery("spot-notice", broker=url, set_as_current=False)
    drain = NodeDrain(app, client, "render@spot", ["render"])
    terms: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: terms.append(signum))
    servers: list[subprocess.Popen[bytes]] = []

    def redis_comes_back() -> None:
        time.sleep(1.5)
        servers.append(
            subprocess.Popen(
                [find_redis_server(), "--port", str(port), "--save", "", "--appendonly", "no",
                 "--dir", str(tmp_path)],
                stdout=subprocess.DEVNULL,
            )
        )  # fmt: skip

    back = threading.Thread(target=redis_comes_back)
    back.start()
    try:
        began = time.monotonic()
        drain.evacuate("GCP pre-emption")
        took = time.monotonic() - began
        back.join()
        assert drain.draining.is_set() and terms == [signal.SIGTERM]
        assert took < 20
        assert client.get(keys.evict("render@spot")) == b"GCP pre-emption"
    finally:
        signal.signal(signal.SIGTERM, previous)
        back.join()
        for server in servers:
            server.terminate()
            server.wait(10)
        client.close()


def test_a_heartbeat_says_when_its_node_got_redis_back(tmp_path: Any) -> None:
    """A node whose connection to Redis dropped: its chunks' tasks may have died with it, which
    the failover must not count against the node (orchestrator.failover.excused_until)."""
    import socket
    import subprocess
    from types import SimpleNamespace

    from orchestrator.embedded_redis import find_redis_server
    from orchestrator.node_signals import _start_node

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"

    def server() -> subprocess.Popen[bytes]:
        argv = [find_redis_server(), "--port", str(port), "--save", "", "--appendonly", "no",
                "--dir", str(tmp_path)]  # fmt: skip
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL)

    first = server()
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    app = Celery("reconnect", broker=url, set_as_current=False)
    sender = SimpleNamespace(hostname="render@blip", pool=None, task_consumer=None)
    stop = threading.Event()
    restarted: list[subprocess.Popen[bytes]] = []
    try:
        assert wait_until(lambda: _ping(client), 10)
        thread = _start_node(app, sender, stop)
        assert heartbeat(client, "render@blip", 10)["reconnected"] == 0.0
        first.terminate()
        first.wait(10)
        time.sleep(2 * keys.HEARTBEAT_SECONDS)  # beats fail meanwhile
        restarted.append(server())
        assert wait_until(lambda: _ping(client), 10)
        beat = heartbeat(client, "render@blip", 10)
        assert wait_until(
            lambda: (
                json.loads(client.get(keys.node("render@blip")) or "{}").get("reconnected", 0) > 0
            ),
            10,
        )
        assert beat["since"] > 0
    finally:
        stop.set()
        for proc in [first, *restarted]:
            proc.terminate()
            proc.wait(10)
        client.close()
    thread.join(10)


def _ping(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
