"""Ending the CLI's own process once a command is over, without the interpreter's teardown.

A render's process holds the codec stack, NumPy, redis-py and Celery's modules: tearing them
down at exit (clearing every module, collecting every object, unloading BLAS's threads) took
about 0.2 CPU-s, and up to a second of wall time on a busy 2-core machine, after the command had
finished and said so. Nothing in that teardown is needed: the command's own clean-up (private
cluster, scratch folders, temporary files) ran in its ``finally`` blocks and context managers,
and what registered with ``atexit`` (``weakref.finalize``, logging's flush) still runs here.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading


def end_process(status: int) -> None:
    """Exit with ``status`` now, after the ``atexit`` functions and flushing standard output
    and error, skipping the interpreter's teardown; return (the caller exits the usual way)
    when that cannot be done safely: a non-daemon thread still runs (Python would join it), or
    standard output cannot be flushed (Python reports that itself)."""
    main = threading.main_thread()
    if threading.current_thread() is not main:
        return
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not main):
        return
    if not _flushed():
        return
    atexit._run_exitfuncs()
    if not _flushed():  # what the atexit functions printed
        return
    os._exit(status)


def _flushed() -> bool:
    """Flush standard output and error; whether both took it (or are closed)."""
    for stream in (sys.stdout, sys.stderr):
        if stream is None or stream.closed:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            return False
    return True
