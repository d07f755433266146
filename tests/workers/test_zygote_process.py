"""The zygote's own process (workers.zygote_process): what its forked chunks inherit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]

#: The zygote's main with its serving loop replaced by a report of the collector's state.
PROBE = """
import gc, socket, sys
from workers import zygote_process

ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
zygote_process.serve = lambda control, idle: print(gc.get_freeze_count()) or 0
sys.exit(zygote_process.main(["1", str(theirs.fileno())]))
"""


def test_the_imports_are_frozen_before_chunks_fork() -> None:
    # Each chunk's first full collection would otherwise traverse (and copy the pages of)
    # every object of the render stack the zygote imported.
    run = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=90
    )
    assert run.returncode == 0, run.stderr
    # fd 1 is the zygote's stderr (a library's print must not reach its control socket)
    assert int(run.stderr.strip().splitlines()[-1]) > 10_000
