"""What a child process's log tells when the child died while starting."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator import processes
from orchestrator.processes import LOW_DISK_BYTES, full_disk_note, tail

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    ("free", "full"),
    [(0, True), (8192, True), (LOW_DISK_BYTES - 1, True), (LOW_DISK_BYTES, False), (2**40, False)],
)
def test_a_nearly_full_disk_is_named(free: int, full: bool) -> None:
    note = full_disk_note("/scratch/cloudrender-workers-1-x", free)
    assert (note is not None) is full
    if note is not None:
        assert "/scratch/cloudrender-workers-1-x is full" in note and "TMPDIR" in note


def test_an_empty_log_on_a_full_disk_says_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a worker that died before writing a line, its log on a disk with 4 KiB left
    log = tmp_path / "worker.log"
    log.write_bytes(b"")
    real = shutil.disk_usage

    def nearly_full(path: Any) -> Any:
        usage = real(path)
        return usage._replace(free=4096) if Path(path) == tmp_path else usage

    monkeypatch.setattr(processes.shutil, "disk_usage", nearly_full)
    # Then the message names the full disk, not only "(empty log)"
    shown = tail(log)
    assert shown.startswith("(empty log)")
    assert f"the disk of {tmp_path} is full (4 KiB free)" in shown


def test_a_log_with_room_to_spare_is_shown_as_it_is(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    log.write_text("line 1\nValueError: boom\n")
    assert tail(log) == "line 1\nValueError: boom"
    assert tail(tmp_path / "missing.log") == "(no log)"


#: A group leader that notes a SIGTERM in the file argv[1] and then waits to be killed.
NOTES_SIGTERM = """
import signal, sys, time
def noted(*_):
    open(sys.argv[1], "w").write("SIGTERM")
signal.signal(signal.SIGTERM, noted)
open(sys.argv[2], "w").write("up")
while True:
    time.sleep(0.01)
"""


def _noting_sigterm(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """A started group whose leader notes a SIGTERM in the file returned, once it is up."""
    noted, up = tmp_path / "sigterm", tmp_path / "up"
    proc = processes.start_process(
        [sys.executable, "-c", NOTES_SIGTERM, str(noted), str(up)],
        tmp_path / "log",
        None,
        die_with_parent=False,
    )
    deadline = time.monotonic() + 20
    while not up.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert up.exists()
    return proc, noted


def test_a_group_stopped_without_grace_is_killed_without_a_sigterm(tmp_path: Path) -> None:
    # With no grace a SIGTERM only began a shutdown (Celery's warm one) that the SIGKILL cut
    # short: the workers of a finished render are killed at once, and nothing is left of them.
    proc, noted = _noting_sigterm(tmp_path)
    processes.stop_group(proc, None, 0.0)
    assert proc.returncode == -9
    assert not noted.exists()
    assert processes.group_members(proc.pid) == []


def test_a_group_stopped_with_grace_gets_its_sigterm_first(tmp_path: Path) -> None:
    # A grace keeps the orderly stop: SIGTERM, then SIGKILL once the grace is out.
    proc, noted = _noting_sigterm(tmp_path)
    processes.stop_group(proc, None, 0.3)
    assert noted.read_text() == "SIGTERM"
    assert proc.returncode == -9
    assert processes.group_members(proc.pid) == []
