"""Argument types the subcommands share: counts that must be whole and positive, and the
number of worker processes this machine may run."""

from __future__ import annotations

import argparse
import os

from cli.status_view import plural
from common.names import MAX_CHUNK_FRAMES

#: Worker processes per core `render --workers` may start on this machine: far more only
#: share the cores (each renders frames flat out), and by the thousand the private cluster's
#: pool ran out of file descriptors while starting.
PROCESSES_PER_CORE = 16


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        # argparse said "invalid _positive value" (this function's name) and echoed every digit
        # of a 5000-digit number.
        raise argparse.ArgumentTypeError(f"{shown(text)!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def frame(text: str) -> int:
    """``render --start/--end``: a frame index, 0 or more (int() refused a 5000-digit number
    with every digit quoted, and -5 was taken, then called a range outside the timeline)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{shown(text)!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a frame number, 0 or more, not {value}")
    return value


def chunk_frames(text: str) -> int:
    """``--chunk-frames``: a positive count of at most MAX_CHUNK_FRAMES, the API's bound (a
    20-digit number was accepted here while the API refused anything over it)."""
    value = positive(text)
    if value > MAX_CHUNK_FRAMES:
        raise argparse.ArgumentTypeError(
            f"{shown(text)} frames is more than a chunk may hold: at most {MAX_CHUNK_FRAMES:,}"
        )
    return value


def processes(text: str) -> int:
    """``render --workers``: worker processes on this machine, at most PROCESSES_PER_CORE per
    core (99999999999 ended in Celery's flattened traceback of too many open files)."""
    value = positive(text)
    cores = os.cpu_count() or 1
    most = PROCESSES_PER_CORE * cores
    if value > most:
        raise argparse.ArgumentTypeError(
            f"{shown(text)} worker processes are more than this machine's {plural(cores, 'core')} "
            f"can run: at most {most} ({PROCESSES_PER_CORE} per core)"
        )
    return value


def shown(text: str) -> str:
    """An argument as an error quotes it: whole, or its start and length when it is long."""
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"
