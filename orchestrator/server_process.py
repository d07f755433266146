"""The life cycle of a server child on a local port (``ServerProcess``): a free port, readiness,
stop and clean-up, over ``orchestrator.processes``. The embedded Redis, Flower and the tests'
storage emulators are ones."""

from __future__ import annotations

import subprocess
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from common.errors import RenderError
from common.scratch import make_scratch, sweep_scratch
from orchestrator.processes import describe_exit, free_port, signals_deferred, stop_group, tail


class ServerProcess:
    """A server child on a local port, in its own process group, with a private log directory.

    Subclasses say how to launch it (``_launch``), when it serves (``_serving``: False when the
    port turned out to be taken) and how it stops (``_halt``, a static function so the
    finalizer that stops a forgotten server holds no reference to it). ``start`` retries on
    another free port when a race took the one probed; ``stop`` is safe to repeat.
    """

    #: Names the server in messages.
    label = "server"
    #: Names its private directory (cloudrender-NAME-*) and its log (NAME.log) in it.
    name = "server"
    port_attempts = 3

    def __init__(self, *, port: int | None, start_timeout: float, stop_timeout: float) -> None:
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._requested_port = port
        self._port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._port

    @property
    def pid(self) -> int | None:
        """The server's process id (also its process group id) while running, else None."""
        return self._proc.pid if self._proc is not None else None

    @property
    def directory(self) -> Path | None:
        """The private working directory (holds the log) while running, else None."""
        return self._dir

    @property
    def log_path(self) -> Path | None:
        """The server's log file while running, else None."""
        return self._dir / f"{self.name}.log" if self._dir is not None else None

    def exited(self) -> str | None:
        """How the server ended ("exited with status 1", "killed by SIGKILL") if it was
        started and is gone, else None."""
        status = self._proc.poll() if self._proc is not None else None
        return None if status is None else describe_exit(status)

    def start(self) -> Self:
        """Start the server and return once it serves; RenderError with its log if it cannot."""
        if self._proc is not None or self._dir is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        try:
            sweep_scratch(self.name)  # what killed clients left
            self._dir = Path(make_scratch(self.name))
            deadline = time.monotonic() + self.start_timeout
            attempts = 1 if self._requested_port else self.port_attempts
            for _ in range(attempts):
                port = self._requested_port or free_port()
                # Deferred so that a Ctrl-C cannot land between fork and our recording the child.
                with signals_deferred():
                    self._proc = self._launch(port, self._dir / f"{self.name}.log")
                if self._serving(port, deadline):
                    self._port = port
                    self._finalizer = weakref.finalize(
                        self, self._halt, self._proc, port, self._dir, self.stop_timeout
                    )
                    return self
                # Another process took the free port before the server bound it. No port given
                # to _halt: a server never confirmed as ours must not get a protocol command.
                proc, self._proc = self._proc, None
                self._halt(proc, None, None, self.stop_timeout)
            raise RenderError(
                f"{self.label} could not bind a free port in {attempts} attempts:\n"
                f"{self._log_tail()}"
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        finalizer, self._finalizer = self._finalizer, None
        if finalizer is not None:
            finalizer.detach()
        proc, self._proc = self._proc, None
        directory, self._dir = self._dir, None
        port, self._port = self._port, None
        self._halt(proc, port, directory, self.stop_timeout)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _launch(self, port: int, log_path: Path) -> subprocess.Popen[bytes]:
        """Start the server process listening on ``port``."""
        raise NotImplementedError

    def _serving(self, port: int, deadline: float) -> bool:
        """Wait until it serves: True; False if the port was taken; RenderError otherwise."""
        raise NotImplementedError

    @staticmethod
    def _halt(
        proc: subprocess.Popen[bytes] | None,
        port: int | None,
        directory: Path | None,
        timeout: float,
    ) -> None:
        """Stop a process group and remove its directory (subclasses may be gentler first)."""
        stop_group(proc, directory, timeout)

    def _log_tail(self) -> str:
        return tail(self.log_path)
