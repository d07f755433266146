"""A node whose Redis password is changed under it (a rotated secret) stops with one line and
exit 4, as a wrong password at its start does, instead of reconnecting for ever."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from orchestrator import keys
from tests.helpers import CLI

pytestmark = pytest.mark.timeout(150)


def _host(redis_url: str) -> str:
    """host:port/db of a Redis URL, without its user."""
    return redis_url.split("://", 1)[1].rsplit("@", 1)[-1]


def _beating(admin: redis.Redis) -> bool:
    """Whether a node's heartbeat (not only its name's claim) is in Redis."""
    found = admin.keys(keys.node("*"))
    return any(b"concurrency" in (raw or b"") for raw in (admin.mget(found) if found else []))


def test_a_worker_whose_password_is_rotated_stops_with_exit_4(
    cli: CLI, redis_url: str, tmp_path: Path
) -> None:
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser("rotated", enabled=True, passwords=["+old"], commands=["+@all"],
                      keys=["*"], channels=["*"])  # fmt: skip
    url = f"redis://rotated:old@{_host(redis_url)}"
    env = {
        "CLOUDRENDER_BROKER_URL": url,
        "CLOUDRENDER_STORAGE_URL": (tmp_path / "storage").as_uri(),
        "CLOUDRENDER_BENCHMARK_ON_START": "0",
    }
    proc = cli.with_env(**env).start("worker", "--concurrency", "1")
    try:
        # Given a worker that runs (its heartbeat, not only its name's claim, is in Redis)
        deadline = time.monotonic() + 60
        while not _beating(admin):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.2)
        # When its user's password is changed and its connections dropped (a rotation)
        admin.acl_setuser("rotated", enabled=True, passwords=["-old", "+new"])
        admin.execute_command("CLIENT", "KILL", "USER", "rotated")
        # Then it stops within a minute: exit 4, the reason in one line on its stderr
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        admin.acl_deluser("rotated")
        admin.close()
    assert proc.returncode == 4, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: the cluster's Redis at redis://rotated:***@"), last
    assert "refused user 'rotated'" in last and ":old@" not in last


def test_a_password_rotated_while_the_worker_starts_stops_it_with_exit_4(
    cli: CLI, redis_url: str, tmp_path: Path
) -> None:
    """Rotated between the node's name claim and its first heartbeat: Celery's consumer,
    refused, never got ready, and nothing watched the login yet."""
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser("early", enabled=True, passwords=["+old"], commands=["+@all"],
                      keys=["*"], channels=["*"])  # fmt: skip
    url = f"redis://early:old@{_host(redis_url)}"
    env = {
        "CLOUDRENDER_BROKER_URL": url,
        "CLOUDRENDER_STORAGE_URL": (tmp_path / "storage").as_uri(),
        "CLOUDRENDER_BENCHMARK_ON_START": "0",
    }
    proc = cli.with_env(**env).start("worker", "--concurrency", "1")
    try:
        # Given a worker that has claimed its name (its login worked) but does not beat yet
        deadline = time.monotonic() + 60
        while not admin.keys(keys.node("*")):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.01)
        assert not _beating(admin)
        # When its user's password is changed at once (a rotation)
        admin.acl_setuser("early", enabled=True, passwords=["-old", "+new"])
        admin.execute_command("CLIENT", "KILL", "USER", "early")
        # Then it stops within a minute: exit 4, the reason in one line on its stderr
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        admin.acl_deluser("early")
        admin.close()
    assert proc.returncode == 4, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: the cluster's Redis at redis://early:***@"), last
    assert "refused user 'early'" in last and ":old@" not in last
