"""The warm render process of one job on one worker slot (the sandbox side of ``workers.zygote``).

``python -m workers.zygote_process`` runs under the same bubblewrap sandbox a chunk's render
process gets, with every medium of its job bound. It imports the render stack (NumPy, PyAV, the
compositor) once, then waits on its control socket (fd ``CONTROL_FD``) for chunks: each message
names a request file in its scratch directory and the chunk's limits, and carries the write end
of that chunk's report pipe. For each it forks a child that sets the chunk's limits and renders it
exactly as ``workers.render_process`` does (the child is that module's ``serve``), and reports the
child's exit status back. The child starts with the imports already done and shares their pages
with the zygote (copy-on-write); its CPU-time limit counts from the fork.

It renders nothing itself, holds no chunk's data, and ends when its worker closes the socket or
dies (bwrap's --die-with-parent, and its PID namespace's end takes every child with it), or after
``idle`` seconds without a chunk.
"""

from __future__ import annotations

import gc
import json
import os
import selectors
import signal
import socket
import sys
import time
from typing import Any

from workers import fork_safety  # noqa: F401 - resets what a forked child must not inherit

#: Largest control message (a request path, limits: a few hundred bytes).
MAX_MESSAGE = 65536


def main(argv: list[str]) -> int:
    """Import the render stack, then serve chunks on the socket fd ``argv[1]`` until told to stop
    or idle for ``argv[0]`` s."""
    idle = float(argv[0])
    control = socket.socket(fileno=int(argv[1]))
    os.dup2(2, 1)  # fd 1 carries nothing: a library's print goes to stderr
    from workers.render_process import not_dumpable

    # Before the imports: nothing of the job's is in memory yet, and every child inherits it.
    not_dumpable()
    warm()
    # The imports' objects out of the collector's reach: a chunk's first full collection in
    # its forked child traversed them all (0.03 CPU-s) and copied some 2,400 of their pages
    # (about 10 MB) only by touching their headers.
    gc.freeze()
    return serve(control, idle)


def warm() -> None:
    """Import what every chunk's render needs, so that no child imports it again."""
    # Not CUDA: a forked child cannot use its parent's context (``workers.arrays``).
    import workers.encoder
    import workers.kernels
    import workers.render  # noqa: F401


def serve(control: socket.socket, idle: float) -> int:
    """Fork a child per chunk message, report each one's exit; 0 at the end."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # only to wake the selector
    children: dict[int, str] = {}  # pid -> the chunk's id
    try:
        control.send(json.dumps({"ready": os.getpid()}).encode())
    except OSError:
        return 0  # dropped while it imported (a launched zygote its worker no longer wants)
    last = time.monotonic()
    with selectors.DefaultSelector() as selector:
        selector.register(control, selectors.EVENT_READ)
        selector.register(wake_read, selectors.EVENT_READ)
        while True:
            timeout = None if children else max(0.0, last + idle - time.monotonic())
            events = selector.select(timeout)
            if not events and not children:
                return 0  # idle for long enough: the worker starts another when it needs one
            for key, _ in events:
                if key.fileobj is control:
                    if not _handle(control, children, wake_read, wake_write):
                        _kill_all(children)
                        return 0
                    last = time.monotonic()
                else:
                    os.read(wake_read, 4096)
            if _reap(control, children):
                last = time.monotonic()  # idle from a chunk's end: a long one is no idle time


def _handle(
    control: socket.socket, children: dict[int, str], wake_read: int, wake_write: int
) -> bool:
    """Act on one message of the worker's; False when it closed the socket."""
    try:
        data, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, 2)
    except OSError:
        return False
    if not data:
        return False
    try:
        message: dict[str, Any] = json.loads(data)
    except ValueError:
        message = {}
    if "kill" in message:
        for pid, chunk in children.items():
            if chunk == message["kill"]:
                _kill(pid)
    elif "run" in message and len(fds) == 1:
        pid = _fork(message, fds[0], control, wake_read, wake_write)
        os.close(fds[0])
        children[pid] = str(message["run"])
        control.send(json.dumps({"started": message["run"]}).encode())
        return True
    for fd in fds:
        os.close(fd)
    return True


def _fork(
    message: dict[str, Any], fd: int, control: socket.socket, wake_read: int, wake_write: int
) -> int:
    """Fork the chunk's render process; its pid."""
    from workers import render_process

    zygote = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 1  # pragma: no cover - the child's coverage is not collected
    try:
        control.close()
        signal.set_wakeup_fd(-1)
        for closing in (wake_read, wake_write):
            os.close(closing)
        os.setsid()
        for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        code = render_process.forked(str(message["request"]), message["limits"], fd, zygote)
    finally:
        os._exit(code)


def _reap(control: socket.socket, children: dict[int, str]) -> bool:
    """Report every child that ended: {"exit": chunk, "status": code} (minus the signal);
    whether one did."""
    ended = False
    while children:
        try:
            pid, raw = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if not pid:
            break
        chunk = children.pop(pid, None)
        ended = True
        if chunk is not None:
            if not children:
                _sweep()
            status = os.waitstatus_to_exitcode(raw)
            control.send(json.dumps({"exit": chunk, "status": status}).encode())
    return ended


def _sweep() -> None:
    """Kill what a finished chunk left running in the sandbox (a process that left its session):
    with no chunk running, nothing but bwrap's init and this process belongs in the namespace."""
    if (os.getpid(), os.getppid()) != (2, 1):
        return  # not in a PID namespace of our own: /proc shows processes not ours to kill
    mine = {1, os.getpid()}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in mine:
            try:
                os.kill(int(entry), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _kill(pid: int) -> None:
    """SIGKILL a chunk's render process and its group (it leads its own session)."""
    for kill in (os.kill, os.killpg):
        try:
            kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _kill_all(children: dict[int, str]) -> None:
    """Kill and reap every chunk still running: the worker is gone or done with us."""
    for pid in children:
        _kill(pid)
    for pid in children:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
