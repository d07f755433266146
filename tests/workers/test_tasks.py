"""Task-body helpers that need no cluster: the merge's lease renewal."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from workers.tasks import _renewing


def test_lease_renews_while_the_block_runs_and_stops_after() -> None:
    calls: list[float] = []
    with _renewing(lambda: calls.append(time.monotonic()), 0.01):
        time.sleep(0.2)
    during = len(calls)
    time.sleep(0.05)
    assert during >= 3 and len(calls) == during
    assert not any(t.name == "lease" for t in threading.enumerate())


def test_a_failing_renewal_does_not_stop_the_lease_or_the_work() -> None:
    attempts: list[int] = []

    def flaky() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("Redis is restarting")

    with _renewing(flaky, 0.01):
        time.sleep(0.2)
    assert len(attempts) > 3


def test_a_killed_pool_process_scratch_folder_is_swept_by_the_next_chunk(tmp_path: Path) -> None:
    """A pool process killed mid-chunk leaves its scratch folder (the render request, a partial
    segment): the next chunk on the machine removes those whose process is gone, only those."""
    import os
    import subprocess

    from workers.tasks import CHUNK_DIR_PREFIX, sweep_chunk_dirs

    gone = subprocess.Popen(["true"])
    gone.wait()
    running = subprocess.Popen(["sleep", "30"])
    try:
        names = {
            "dead": f"{CHUNK_DIR_PREFIX}{gone.pid}-abc",
            "running": f"{CHUNK_DIR_PREFIX}{running.pid}-def",
            "ours": f"{CHUNK_DIR_PREFIX}{os.getpid()}-ghi",
            "other": "cloudrender-merge-xyz",
        }
        for name in names.values():
            (tmp_path / name).mkdir()
            (tmp_path / name / "request.pickle").write_bytes(b"x")
        assert sweep_chunk_dirs(str(tmp_path)) == [names["dead"]]
        left = sorted(p.name for p in tmp_path.iterdir())
        assert left == sorted([names["running"], names["ours"], names["other"]])
    finally:
        running.kill()
        running.wait()
