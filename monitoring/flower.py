"""Celery Flower for our cluster: the command line, ``cloudrender flower``, and a managed process.

    flower_command(url, port=.., basic_auth="user:password")   argv and env, auth required
    run_flower(url, port, basic_auth)                          run it in the foreground (CLI)
    with FlowerProcess(url, basic_auth=..) as flower: ...      in the background (tests, dashboard)

Flower learns tasks only from the events it receives while it runs (our app turns on
``worker_send_task_events`` and ``task_send_sent_event``), so start it before the work to watch.
``/metrics`` and ``/healthcheck`` are open; the UI and the REST API need basic auth, and an
unauthenticated Flower is refused unless asked for, because its API can revoke and kill tasks.
Flower takes Tornado-style options, so each is one ``--name=value`` argument; the password and
the broker URL go in the environment instead, where other local users cannot read them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

from common.errors import RenderError
from common.settings import BROKER_URL_ENV, RESULT_BACKEND_ENV
from orchestrator.processes import start_process
from orchestrator.server_process import ServerProcess

#: The Celery app Flower inspects.
DEFAULT_APP = "orchestrator.celery_app:app"
#: Flower's default port.
DEFAULT_PORT = 5555
#: The variable through which callers (the CLI) pass "user:password" for basic auth.
AUTH_ENV = "CLOUDRENDER_FLOWER_AUTH"
#: Environment variables through which ``orchestrator.celery_app`` learns where Redis is.
#: Would open the REST API behind our back; removed unless unauthenticated use was asked for.
_UNAUTHENTICATED_ENV = "FLOWER_UNAUTHENTICATED_API"
#: Flower reads every option from FLOWER_<NAME>; this one keeps the password out of argv.
_BASIC_AUTH_ENV = "FLOWER_BASIC_AUTH"

_POLL_S = 0.1
_PORT_ATTEMPTS = 3


def flower_command(
    broker_url: str,
    *,
    port: int,
    address: str = "127.0.0.1",
    basic_auth: str | None,
    allow_unauthenticated: bool = False,
    app: str = DEFAULT_APP,
    base_env: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Return the argv and environment that run Flower; RenderError without basic auth (unless
    ``allow_unauthenticated``, which only Python callers can pass: the CLI always needs auth).

    The password and the broker URL (which may hold Redis credentials) travel in the
    environment, never in argv: any local user can read a process's arguments.
    """
    if not 0 < port < 65536:
        raise RenderError(f"Flower port must be between 1 and 65535, not {port}")
    env = dict(os.environ if base_env is None else base_env)
    env[BROKER_URL_ENV] = broker_url
    env[RESULT_BACKEND_ENV] = broker_url
    env.pop(_BASIC_AUTH_ENV, None)
    if basic_auth:
        _check_basic_auth(basic_auth)
        env[_BASIC_AUTH_ENV] = basic_auth
    elif not allow_unauthenticated:
        raise RenderError(
            "refusing to start Flower without authentication: its API can revoke and kill "
            f"tasks. Set {AUTH_ENV}=user:password"
        )
    if not allow_unauthenticated:
        env.pop(_UNAUTHENTICATED_ENV, None)
    command = [
        sys.executable, "-m", "celery",
        "-A", app,
        "flower",
        f"--port={port}",
        f"--address={address}",
    ]  # fmt: skip
    return command, env


def run_flower(
    broker_url: str,
    port: int,
    basic_auth: str | None,
    *,
    address: str = "127.0.0.1",
    allow_unauthenticated: bool = False,
) -> int:
    """Run Flower in the foreground until it exits, Ctrl-C, SIGTERM or SIGHUP; return its exit
    status (0 when SIGTERM or SIGHUP stopped it)."""
    command, env = flower_command(
        broker_url,
        port=port,
        address=address,
        basic_auth=basic_auth,
        allow_unauthenticated=allow_unauthenticated,
    )
    # Same process group: the terminal's Ctrl-C reaches Flower too, and it stops by itself.
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, env=env)
    with _stopped_by_signals():  # the cleanups below run while a second signal is ignored
        try:
            return proc.wait()
        except _Stopped:
            _stop(proc)
            return 0
        except BaseException:
            _stop(proc)
            raise


class _Stopped(BaseException):
    """SIGTERM or SIGHUP arrived (a BaseException, like KeyboardInterrupt: nothing swallows it)."""


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """Raise _Stopped on SIGTERM and SIGHUP in the block: their default kills this process on the
    spot, leaving Flower running on its port with no parent (systemd stop, ``kill PID``)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    signums = (signal.SIGTERM, signal.SIGHUP)

    def stop(_signum: int, _frame: object) -> None:
        for each in signums:  # once: a second signal must not interrupt the cleanup
            signal.signal(each, signal.SIG_IGN)
        raise _Stopped

    previous = {each: signal.signal(each, stop) for each in signums}
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop Flower: SIGTERM, then SIGKILL after 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


class FlowerProcess(ServerProcess):
    """A background Flower in its own process group, ready once /healthcheck answers."""

    label = "Flower"
    name = "flower"
    port_attempts = _PORT_ATTEMPTS

    def __init__(
        self,
        broker_url: str,
        *,
        basic_auth: str | None,
        port: int | None = None,
        address: str = "127.0.0.1",
        allow_unauthenticated: bool = False,
        env: Mapping[str, str] | None = None,
        start_timeout: float = 30.0,
        stop_timeout: float = 10.0,
    ) -> None:
        # Fails now, not in start(), when auth is missing or malformed.
        flower_command(
            broker_url,
            port=port or DEFAULT_PORT,
            address=address,
            basic_auth=basic_auth,
            allow_unauthenticated=allow_unauthenticated,
        )
        super().__init__(port=port, start_timeout=start_timeout, stop_timeout=stop_timeout)
        self.broker_url = broker_url
        self.basic_auth = basic_auth
        self.address = address
        self.allow_unauthenticated = allow_unauthenticated
        self._env = dict(env) if env is not None else None

    @property
    def url(self) -> str:
        """Flower's base URL, e.g. ``http://127.0.0.1:5555`` (no trailing slash)."""
        return f"http://{_url_host(self.address)}:{self.port}"

    def _launch(self, port: int, log_path: Path) -> subprocess.Popen[bytes]:
        command, env = flower_command(
            self.broker_url,
            port=port,
            address=self.address,
            basic_auth=self.basic_auth,
            allow_unauthenticated=self.allow_unauthenticated,
            base_env={**os.environ, **(self._env or {})},
        )
        return start_process(command, log_path, env, True)

    def _serving(self, port: int, deadline: float) -> bool:
        """Wait for /healthcheck; False if the port was taken, RenderError on other failures."""
        assert self._proc is not None
        url = f"http://{_url_host(self.address)}:{port}/healthcheck"
        while True:
            status = self._proc.poll()
            if status is not None:
                tail = self._log_tail()
                if "Address already in use" in tail and not self._requested_port:
                    return False
                raise RenderError(f"Flower exited with status {status} while starting:\n{tail}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200 and response.read().strip() == b"OK":
                        return True
            if time.monotonic() > deadline:
                raise RenderError(
                    f"Flower did not answer {url} within {self.start_timeout:g} s:\n"
                    f"{self._log_tail()}"
                )
            time.sleep(_POLL_S)


def _check_basic_auth(basic_auth: str) -> None:
    """Raise RenderError unless ``basic_auth`` is "user:password" (comma-separated for several)."""
    for entry in basic_auth.split(","):
        user, colon, password = entry.partition(":")
        if not (user and colon and password):
            raise RenderError(
                f"Flower basic auth must look like user:password (several separated by commas); "
                f"check {AUTH_ENV}"
            )


def _url_host(address: str) -> str:
    """The host to reach a server bound to ``address``: loopback for the wildcard addresses."""
    if address in ("", "0.0.0.0"):
        return "127.0.0.1"
    if address == "::":
        return "[::1]"
    return f"[{address}]" if ":" in address else address
