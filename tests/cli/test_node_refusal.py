"""A node whose Redis password is changed under it (a rotated secret) stops with one line and
exit 4, as a wrong password at its start does, instead of reconnecting for ever."""

from __future__ import annotations

import time
from collections.abc import Callable
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


def _rotated(
    cli: CLI,
    redis_url: str,
    tmp_path: Path,
    user: str,
    ready: Callable[[redis.Redis], bool],
    poll: float,
    check: Callable[[redis.Redis], None] = lambda admin: None,
) -> tuple[int | None, str]:
    """Start a worker logging in as ``user``, wait until ``ready`` (polling every ``poll`` s)
    and ``check`` it, then change the user's password and drop its connections (a rotation);
    the worker's exit status and standard error once it stops (within a minute)."""
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser(user, enabled=True, passwords=["+old"], commands=["+@all"],
                      keys=["*"], channels=["*"])  # fmt: skip
    env = {
        "CLOUDRENDER_BROKER_URL": f"redis://{user}:old@{_host(redis_url)}",
        "CLOUDRENDER_STORAGE_URL": (tmp_path / "storage").as_uri(),
        "CLOUDRENDER_BENCHMARK_ON_START": "0",
    }
    proc = cli.with_env(**env).start("worker", "--concurrency", "1")
    try:
        deadline = time.monotonic() + 60
        while not ready(admin):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(poll)
        check(admin)
        admin.acl_setuser(user, enabled=True, passwords=["-old", "+new"])
        admin.execute_command("CLIENT", "KILL", "USER", user)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        admin.acl_deluser(user)
        admin.close()
    return proc.returncode, err


def test_a_worker_whose_password_is_rotated_stops_with_exit_4(
    cli: CLI, redis_url: str, tmp_path: Path
) -> None:
    # Given a worker that runs (its heartbeat, not only its name's claim, is in Redis), when
    # its user's password is rotated
    returncode, err = _rotated(cli, redis_url, tmp_path, "rotated", _beating, poll=0.2)
    # Then it stops within a minute: exit 4, the reason in one line on its stderr
    assert returncode == 4, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: the cluster's Redis at redis://rotated:***@"), last
    assert "refused user 'rotated'" in last and ":old@" not in last


def test_a_password_rotated_while_the_worker_starts_stops_it_with_exit_4(
    cli: CLI, redis_url: str, tmp_path: Path
) -> None:
    """Rotated between the node's name claim and its first heartbeat: Celery's consumer,
    refused, never got ready, and nothing watched the login yet."""

    def claimed(admin: redis.Redis) -> bool:
        return bool(admin.keys(keys.node("*")))

    def not_beating(admin: redis.Redis) -> None:
        assert not _beating(admin)

    # Given a worker that has claimed its name (its login worked) but does not beat yet, when
    # its user's password is rotated at once
    returncode, err = _rotated(
        cli, redis_url, tmp_path, "early", claimed, poll=0.01, check=not_beating
    )
    # Then it stops within a minute: exit 4, the reason in one line on its stderr
    assert returncode == 4, err[-2000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: the cluster's Redis at redis://early:***@"), last
    assert "refused user 'early'" in last and ":old@" not in last
