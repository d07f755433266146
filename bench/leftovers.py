"""Keeping a benchmark's processes to itself: no foreign broker, and none left behind.

Every process a benchmark starts inherits a marker (``NAME=value``) in its environment; after a
run ``/proc`` is searched for processes that carry it (or, for ``left_behind``, that name the
run's directory or Redis ports) and they are killed by pid, and the benchmark fails loudly. The
broker and storage settings of the calling shell are dropped, so that a benchmark always uses
its private cluster, never a system Redis.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

#: Settings that would send a render to someone else's broker or storage.
FOREIGN_ENV = ("CLOUDRENDER_BROKER_URL", "CLOUDRENDER_RESULT_BACKEND", "CLOUDRENDER_STORAGE_URL")
#: How long leftover children may take to disappear after their CLI exited.
LEFTOVER_GRACE_S = 3.0


def require_proc(parser: argparse.ArgumentParser) -> None:
    """Stop with a usage error where there is no /proc to search for leftovers."""
    if not Path("/proc/self/environ").exists():
        parser.error("needs /proc (Linux) to check for leftover redis-server/celery processes")


def drop_foreign(env: MutableMapping[str, str]) -> None:
    """Remove the external broker and storage settings from an environment."""
    for key in FOREIGN_ENV:
        env.pop(key, None)


def child_env(name: str, value: str) -> dict[str, str]:
    """This environment with the run marker and without any external broker or storage."""
    env = dict(os.environ)
    drop_foreign(env)
    env[name] = value
    return env


@contextmanager
def marked_environ(name: str, value: str) -> Iterator[None]:
    """Mark (and clean) os.environ while this process starts a cluster itself."""
    saved = dict(os.environ)
    drop_foreign(os.environ)
    os.environ[name] = value
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def live_processes() -> Iterator[tuple[int, bytes, bytes]]:
    """(pid, command line, environment) of every other live user process; raw /proc bytes."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            stat = Path(entry.path, "stat").read_bytes()
            if stat[stat.rfind(b")") + 2 :].split()[0] in (b"Z", b"X"):
                continue  # a zombie holds no resources and has no environment left
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except (OSError, IndexError):
            continue  # exited while we looked
        if not cmdline:
            continue  # a kernel thread
        try:
            environ = Path(entry.path, "environ").read_bytes()
        except OSError:
            environ = b""  # not ours to read
        yield int(entry.name), cmdline, environ


def readable(cmdline: bytes) -> str:
    """A /proc command line as one line of text."""
    return cmdline.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def kill(pids: Iterable[int]) -> None:
    """SIGKILL each pid that is still there."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def marked_processes(
    name: str, value: str, directory: Path | None = None, redis_ports: Iterable[int] = ()
) -> list[tuple[int, str]]:
    """Live processes (pid, command line) whose environment carries the marker name=value,
    whose working directory lies in `directory`, or that are a redis-server on `redis_ports`."""
    needle = f"{name}={value}".encode()
    port_args = redis_port_args(redis_ports)
    return [
        (pid, readable(cmdline))
        for pid, cmdline, environ in live_processes()
        if needle in environ.split(b"\0")
        or (directory and works_in(pid, directory))
        or is_redis_on(cmdline, port_args)
    ]


def redis_port_args(ports: Iterable[int]) -> list[bytes]:
    """How a redis-server on these ports shows them in its command line."""
    # redis-server rewrites its command line to "redis-server 127.0.0.1:PORT" (and with it the
    # memory /proc shows as its environment), so it is found by its port.
    ports = list(ports)
    return [f"--port\0{p}\0".encode() for p in ports] + [f"127.0.0.1:{p}".encode() for p in ports]


def is_redis_on(cmdline: bytes, port_args: list[bytes]) -> bool:
    """Whether a /proc command line is a redis-server's naming one of `port_args`."""
    return b"redis-server" in cmdline and any(p in cmdline for p in port_args)


def works_in(pid: int, directory: Path) -> bool:
    """Whether a process's working directory is `directory` or below it."""
    # redis-server overwrites its environment, marker included, with its process title; it
    # still works in the directory its config names, which a run puts in its own directory.
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return False
    root = str(directory.resolve())
    return cwd == root or cwd.startswith(root + "/")


def ensure_no_leftovers(
    name: str,
    value: str,
    what: str,
    directory: Path | None = None,
    redis_ports: Iterable[int] = (),
) -> None:
    """Fail loudly (after killing them by pid) if processes of this run outlived it: those that
    carry its marker, work in its `directory` or are its redis-server on `redis_ports`."""
    ports = list(redis_ports)
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    left = marked_processes(name, value, directory, ports)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = marked_processes(name, value, directory, ports)
    if not left:
        return
    kill(pid for pid, _ in left)
    listing = "\n".join(f"  {pid}: {cmd}" for pid, cmd in left)
    sys.exit(f"LEFTOVER PROCESSES after {what} (now killed):\n{listing}")


def left_behind(needles: Iterable[bytes], redis_ports: Iterable[int]) -> list[tuple[int, str]]:
    """Processes naming any needle in their command line or environment, or our Redis ports."""
    needles = list(needles)
    port_args = redis_port_args(redis_ports)
    found = []
    for pid, cmdline, environ in live_processes():
        ours = any(n in cmdline or n in environ for n in needles)
        ours = ours or is_redis_on(cmdline, port_args)
        if ours:
            found.append((pid, readable(cmdline)))
    return found
