"""A process run with another role's Redis user says so in one line and exits non-zero.

The README had the orchestrator run with the worker user: its embedded beat died of a
NoPermissionError while the orchestrator went on heartbeating, a healthy-looking node that never
ticked. And `keys create` with the client user read as "cannot talk to the cluster's Redis ...
maxmemory", exit 3, the code for an unreachable Redis.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator

import pytest
import redis

from tests.helpers import subprocess_env
from tests.security.redis_servers import ROLES, acl_server

pytestmark = pytest.mark.timeout(180)

PASSWORDS = {role: f"{role}-{secrets.token_hex(8)}" for role in ROLES}
ADMIN_PASSWORD = secrets.token_hex(8)
#: The CLI's exit status for a Redis user that may not run a command (cli.main.EXIT_FORBIDDEN).
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
