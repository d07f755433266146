"""A process run with another role's Redis user says so in one line and exits non-zero.

The README had the orchestrator run with the worker user: its embedded beat died of a
NoPermissionError while the orchestrator went on heartbeating, a healthy-looking node that never
ticked. And `keys create` with the client user read as "cannot talk to the cluster's Redis ...
maxmemory", exit 3, the code for an unreachable Redis.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from orchestrator import keys
from tests.helpers import subprocess_env
from tests.security.redis_servers import ROLES, acl_server

pytestmark = pytest.mark.timeout(180)

PASSWORDS = {role: f"{role}-{secrets.token_hex(8)}" for role in ROLES}
ADMIN_PASSWORD = secrets.token_hex(8)
#: The CLI's exit status for a Redis user that may not run a command (cli.failures.EXIT_FORBIDDEN).
EXIT_FORBIDDEN = 4


@pytest.fixture(scope="module")
def acl_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The deployment's Redis with its ACL users; yields the port."""
    with acl_server(tmp_path_factory.mktemp("acl"), PASSWORDS, ADMIN_PASSWORD) as server:
        yield server.port


@pytest.fixture
def admin(acl_redis: int) -> Iterator[redis.Redis]:
    """A connection with every right (tests only); our keys removed afterwards."""
    with redis.Redis(port=acl_redis, username="admin", password=ADMIN_PASSWORD) as client:
        yield client
        client.flushdb()


def url(port: int, role: str) -> str:
    """The broker URL of a role."""
    return f"redis://{role}:{PASSWORDS[role]}@127.0.0.1:{port}/0"


def orchestrator(port: int, role: str, tmp_path: Path) -> subprocess.Popen[str]:
    """`cloudrender orchestrator` with ``role``'s Redis user, its stderr piped."""
    env = {"CLOUDRENDER_BROKER_URL": url(port, role), "CLOUDRENDER_STORAGE_URL": tmp_path.as_uri()}
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "orchestrator"],
        env=subprocess_env(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float) -> tuple[int, str]:
    """Its exit status and stderr once it exits by itself (killed, and failed, if it does not)."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, err = proc.communicate()
        pytest.fail(f"still running after {timeout:g} s:\n{err[-3000:]}")
    return proc.returncode, err


def children(pid: int) -> list[int]:
    """The processes ``pid`` started."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def last_line(err: str) -> str:
    """The last line the process wrote to stderr."""
    lines = [line for line in err.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def test_an_orchestrator_with_the_worker_user_exits_naming_the_refusal(
    acl_redis: int, admin: redis.Redis, tmp_path: Path
) -> None:
    proc = orchestrator(acl_redis, "worker", tmp_path)
    status, err = finish(proc, 60)
    line = last_line(err)
    assert status == EXIT_FORBIDDEN, err[-3000:]
    assert line.startswith("error: Redis user 'worker' at redis://worker:***@"), line
    assert "the orchestrator's beat stopped: SMEMBERS 'cr:redbeat:" in line
    assert "orchestrator: `cloudrender orchestrator`" in line
    assert PASSWORDS["worker"] not in err
    assert not admin.get(keys.TICKS)


def test_an_orchestrator_whose_beat_is_killed_exits_too(
    acl_redis: int, admin: redis.Redis, tmp_path: Path
) -> None:
    proc = orchestrator(acl_redis, "orchestrator", tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not admin.get(keys.TICKS):  # beat runs under the orchestrator's user
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no beat tick within 60 s"
            time.sleep(0.2)
        # As the kernel's OOM killer would: beat and the pool's two processes (the pool
        # replaces its own; nothing replaced beat).
        forked = children(proc.pid)
        assert len(forked) == 3, forked
        for pid in forked:
            os.kill(pid, signal.SIGKILL)
        status, err = finish(proc, 60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    line = last_line(err)
    assert status != 0
    assert line == (
        "error: the orchestrator's beat stopped (killed by SIGKILL); stopping the orchestrator "
        "so that its supervisor restarts it (the log above has the details)"
    )


def test_an_orchestrator_stopped_on_purpose_exits_0(
    acl_redis: int, admin: redis.Redis, tmp_path: Path
) -> None:
    proc = orchestrator(acl_redis, "orchestrator", tmp_path)
    deadline = time.monotonic() + 60
    while not admin.get(keys.TICKS):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    status, err = finish(proc, 60)
    assert status == 0, err[-3000:]
    assert "beat stopped" not in err


def test_a_command_refused_by_acl_names_the_user_and_exits_4(acl_redis: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "keys", "create", "alice"],
        env=subprocess_env({"CLOUDRENDER_BROKER_URL": url(acl_redis, "client")}),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_FORBIDDEN, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    line = done.stderr.strip()
    assert line.startswith("error: Redis user 'client' at redis://client:***@127.0.0.1:"), line
    assert "may not do this: " in line and "(this user has no permissions" in line
    assert "orchestrator: `cloudrender orchestrator`, serve, keys" in line
    assert "maxmemory" not in line and PASSWORDS["client"] not in line
