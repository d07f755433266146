"""A benchmark stopped while it waits for a command (Ctrl-C, or SIGTERM from `timeout`) stops
that command too, instead of leaving it (and the private cluster of a `cloudrender render`)
running behind it."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from bench.measure import run_timed
from bench.script import exit_on_signals

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals")


@pytest.fixture
def handlers() -> Iterator[None]:
    """Restore the signal handlers a test changes."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGALRM)}
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_an_interrupted_run_stops_its_command(tmp_path: Path, handlers: None) -> None:
    pidfile = tmp_path / "pid"
    code = f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)"

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.5)
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_timed([sys.executable, "-c", code])
    assert time.monotonic() - began < 30
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped and reaped


def test_sigterm_becomes_system_exit(handlers: None) -> None:
    exit_on_signals()
    with pytest.raises(SystemExit) as stopped:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # the handler runs between bytecodes, well within this
    assert stopped.value.code == 128 + signal.SIGTERM
