"""A child process that reports on a pipe: started as a program (bubblewrap) or forked.

Both kinds run in their own session, so signals meant for the worker (a terminal's Ctrl-C, a
process-group kill of the pool) are the worker's to handle; the worker kills its child when it
must. ``status`` follows subprocess: the exit code, or minus the signal that killed it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import warnings
from collections.abc import Callable, Mapping

from workers import fork_safety  # noqa: F401 - resets what a forked child must not inherit

#: Signals a forked child must not handle the way the Celery pool process does.
_RESET = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
)


class Child:
    """A running child: its pid and the read end of its report pipe."""

    def __init__(self, pid: int, fd: int, popen: subprocess.Popen[bytes] | None = None) -> None:
        self.pid = pid
        self.fd = fd
        self._popen = popen
        self.status: int | None = None

    @classmethod
    def spawn(cls, argv: list[str], env: Mapping[str, str], cwd: str) -> Child:
        """Run ``argv``; its stdout is the report pipe."""
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
        assert popen.stdout is not None
        return cls(popen.pid, popen.stdout.fileno(), popen)

    @classmethod
    def fork(cls, target: Callable[[int], int]) -> Child:
        """Fork; the child runs ``target(write_fd)`` and exits with what it returns."""
        read, write = os.pipe()
        with warnings.catch_warnings():
            # Python 3.12 warns about fork() beside other threads. The child touches no lock
            # they may hold: it renders with threads of its own and leaves through os._exit.
            warnings.filterwarnings("ignore", r".*fork\(\) may lead", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child's coverage is not collected
            code = 1
            try:
                os.close(read)
                os.setsid()
                for signum in _RESET:
                    signal.signal(signum, signal.SIG_DFL)
                code = target(write)
            finally:
                os._exit(code)
        os.close(write)
        return cls(pid, read)

    def poll(self) -> int | None:
        """The exit status if the child has ended (reaped here), else None."""
        if self.status is None:
            if self._popen is not None:
                self.status = self._popen.poll()
            else:
                try:
                    pid, raw = os.waitpid(self.pid, os.WNOHANG)
                except ChildProcessError:  # reaped by someone else: its status is lost
                    pid, raw = self.pid, 1 << 8
                if pid:
                    self.status = os.waitstatus_to_exitcode(raw)
        return self.status

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the child to end; TimeoutError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"process {self.pid} still runs after {timeout} s")
            time.sleep(0.005)
        assert self.status is not None
        return self.status

    def kill(self) -> None:
        """SIGKILL the child's whole session (it leads its own process group)."""
        if self.poll() is not None:
            return
        # The process first (a forked child may not have made its own group yet), then its group.
        for kill in (os.kill, os.killpg):
            try:
                kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        """Kill the child if it still runs, reap it, and close the pipe."""
        self.kill()
        self.wait()
        if self._popen is not None and self._popen.stdout is not None:
            self._popen.stdout.close()
        else:
            os.close(self.fd)
