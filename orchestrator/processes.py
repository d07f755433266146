"""Child processes in their own process group: start, wait, stop (TERM, then KILL), read logs.

Shared by the embedded cluster (Redis, workers) and Flower; ``orchestrator.server_process`` is
the life cycle of a server among them (free port, readiness, stop, cleanup). Children run in
their own session so a terminal's Ctrl-C reaches only us and we stop them in order; on Linux
they also die with us.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType

_HOST = "127.0.0.1"
POLL_SECONDS = 0.05
#: The longest wait for a SIGKILLed process group to be gone.
KILL_WAIT = 10.0
#: How often a SIGKILLed group is looked for: its processes are gone within milliseconds, and a
#: finished render's client waited out most of a POLL_SECONDS step on its workers' group.
KILL_POLL_SECONDS = 0.01
#: How often a SIGKILLed group's leader is looked at (a waitid): it dies within milliseconds.
LEADER_POLL_SECONDS = 0.002
LOG_TAIL_LINES = 25
#: Free bytes below which a child's log folder counts as full (a Celery worker's start alone
#: writes more than this).
LOW_DISK_BYTES = 2**20
_DEFERRED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36

# A launcher each child runs first on Linux: it asks the kernel to send it a signal (argv[2])
# when we die, even by SIGKILL or the OOM killer, then execs the real command under the same
# pid. Checking the parent pid afterwards closes the window in which we died before prctl took
# effect.
_DIE_WITH_PARENT = (
    "import ctypes, os, sys\n"
    f"ctypes.CDLL(None).prctl({_PR_SET_PDEATHSIG}, int(sys.argv[2]))\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(1)\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (the caller handles races)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_process(
    command: list[str],
    log_path: Path,
    env: Mapping[str, str] | None,
    die_with_parent: bool,
    death_signal: int = signal.SIGTERM,
) -> subprocess.Popen[bytes]:
    """Start ``command`` in a new session with its output in ``log_path``; with
    ``die_with_parent``, it gets ``death_signal`` when this process dies."""
    # The kernel fires the parent-death signal when the *thread* that forked exits, so it is
    # only safe from the main thread, whose end is the end of the process.
    if die_with_parent and sys.platform.startswith("linux") and in_main_thread():
        # -I -S keep the launcher fast and deaf to PYTHONPATH.
        launcher = [sys.executable, "-I", "-S", "-c", _DIE_WITH_PARENT, str(os.getpid())]
        command = [*launcher, str(int(death_signal)), *command]
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            # Own session: the terminal's Ctrl-C must reach only us, so that we stop the
            # children in order (workers before their broker) instead of all dying at once.
            start_new_session=True,
        )


def stop_group(
    proc: subprocess.Popen[bytes] | None, directory: Path | None, timeout: float
) -> None:
    """SIGTERM a process group, SIGKILL it after ``timeout`` (at once when that is 0: a SIGTERM
    would only begin a shutdown the SIGKILL cuts short), reap its leader, remove files."""
    with signals_deferred():
        try:
            if proc is not None:
                # The leader stays an unreaped zombie until the end, which keeps its pid, and
                # so the group id, from being reused while we still signal the group.
                group = proc.pid
                if group_members(group):
                    if timeout > 0:
                        signal_group(group, signal.SIGTERM)
                    if timeout <= 0 or not wait_until(lambda: not group_members(group), timeout):
                        signal_group(group, signal.SIGKILL)
                        # Not cut short: SIGKILL is quick, and we return only once it worked
                        # (however short the grace before it was).
                        limit = max(timeout, KILL_WAIT)
                        # The leader's end first (a cheap waitid, not a scan of /proc): the
                        # group's other members got the same SIGKILL, and are gone by then.
                        wait_until(
                            lambda: _ended(proc), limit, hurry=False, poll=LEADER_POLL_SECONDS
                        )
                        wait_until(
                            lambda: not group_members(group),
                            limit,
                            hurry=False,
                            poll=KILL_POLL_SECONDS,
                        )
                proc.wait()
                # Members killed before their parents could reap them were adopted by us if we
                # are a subreaper (adopting_orphans): reap them, or they stay zombies.
                reap_adopted(group)
        finally:
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def adopting_orphans() -> Iterator[None]:
    """Within the block, this process adopts the orphans of its descendants (Linux), so that a
    process group stopped with SIGKILL is reaped here (``stop_group``) rather than left to init:
    no zombie outlives us and the group's CPU time counts in ours."""
    on = sys.platform.startswith("linux") and _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    try:
        yield
    finally:
        if on:
            _prctl(_PR_SET_CHILD_SUBREAPER, 0)


def reap_adopted(group: int) -> None:
    """Reap this process's exited children that were members of process group ``group`` (not
    any other child: a zombie some Popen still tracks is left to it)."""
    me = str(os.getpid()).encode()
    with contextlib.suppress(OSError):  # no /proc (not Linux): nothing was adopted
        for pid, fields in _process_stats():
            if fields[0] == b"Z" and fields[1] == me and int(fields[2]) == group:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)


def _ended(proc: subprocess.Popen[bytes]) -> bool:
    """Whether ``proc`` has exited, without reaping it (its pid stays its group's id)."""
    waitid = getattr(os, "waitid", None)
    if proc.returncode is not None or waitid is None:
        return True  # without waitid (macOS) the look at the group alone decides
    try:
        return waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True  # reaped elsewhere


def _process_stats() -> Iterator[tuple[int, list[bytes]]]:
    """Every process's pid and the fields of its /proc/<pid>/stat after the command name (state,
    parent, process group, ...)."""
    with os.scandir("/proc") as entries:  # closed even if we are interrupted mid-scan
        for entry in entries:
            if not entry.name.isdigit():
                continue
            try:
                # A plain open: pathlib's parsing of each name took half of a scan's time, and
                # a finished render's stop scans every process of the machine several times.
                with open(f"{entry.path}/stat", "rb") as handle:
                    stat = handle.read()
            except OSError:
                continue  # exited while we looked
            # The command name in parentheses may contain anything: split after its last ")".
            fields = stat[stat.rfind(b")") + 2 :].split()
            if len(fields) > 2:
                yield int(entry.name), fields


def _prctl(option: int, value: int) -> bool:
    """prctl(2) with one argument; whether it succeeded."""
    try:
        return int(ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def signal_group(group: int, signum: int) -> None:
    """Send a signal to a process group that may already be gone."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signum)


def group_members(group: int) -> list[int]:
    """Return the live (not zombie) processes in a process group."""
    proc_fs = Path("/proc")
    if not proc_fs.is_dir():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [group]
    return [
        pid
        for pid, fields in _process_stats()
        if int(fields[2]) == group and fields[0] not in (b"Z", b"X")
    ]


def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait up to `timeout` seconds for a process to exit; whether it did."""
    return wait_until(lambda: proc.poll() is not None, timeout)


def wait_until(
    condition: Callable[[], bool], timeout: float, hurry: bool = True, poll: float = POLL_SECONDS
) -> bool:
    """Poll ``condition`` every ``poll`` s until true or ``timeout``; a second Ctrl-C cuts the
    wait short."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline or (hurry and hurrying()):
            return condition()
        time.sleep(poll)
    return True


def tail(path: Path | None, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log file (empty if there is none), and whether its disk is full."""
    if path is None:
        return "(no log)"
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    shown = "\n".join(text.rstrip().splitlines()[-lines:]) or "(empty log)"
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return shown
    # A child that cannot write its log dies saying nothing: "(empty log)" was all a user read
    # of a worker started on a full temporary directory.
    note = full_disk_note(str(path.parent), free)
    return shown if note is None else f"{shown}\n{note}"


def full_disk_note(directory: str, free: int, low: int = LOW_DISK_BYTES) -> str | None:
    """What to tell of a child's log folder with `free` bytes left: None unless nearly full."""
    if free >= low:
        return None
    return (
        f"the disk of {directory} is full ({free // 1024} KiB free), so the process could not "
        "write its files or its log: free space there, or point TMPDIR at a larger disk"
    )


def in_main_thread() -> bool:
    """Whether this is the main thread (signal handlers live only there)."""
    return threading.current_thread() is threading.main_thread()


class _Deferral:
    def __init__(self) -> None:
        self.received: list[int] = []

    def record(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)


_deferral: _Deferral | None = None


def hurrying() -> bool:
    """True once the user has interrupted cleanup: skip the graceful waits."""
    return _deferral is not None and bool(_deferral.received)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and termination signals until the block ends, then deliver them."""
    # A second Ctrl-C in the middle of cleanup would otherwise abandon the remaining children.
    # Python runs handlers only in the main thread, so elsewhere there is nothing to hold.
    global _deferral
    if _deferral is not None or not in_main_thread():
        yield
        return
    deferral = _Deferral()
    saved = {
        signum: signal.signal(signum, deferral.record)
        for signum in _DEFERRED_SIGNALS
        # None: a handler installed outside Python, which we could not put back.
        if signal.getsignal(signum) is not None
    }
    _deferral = deferral
    try:
        yield
    finally:
        _deferral = None
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        for held in dict.fromkeys(deferral.received):
            signal.raise_signal(held)


def describe_exit(status: int) -> str:
    """A Popen return code in words: "exited with status N" or "killed by SIGNAME"."""
    if status >= 0:
        return f"exited with status {status}"
    try:
        name = signal.Signals(-status).name
    except ValueError:
        name = f"signal {-status}"
    return f"killed by {name}"
