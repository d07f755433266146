"""The local engine's /proc view: start times tell a process from a later one on its pid,
process groups are found and killed."""

from __future__ import annotations

import os
import subprocess
import time

from providers.compute.local_procs import (
    kill_groups,
    live_groups,
    start_ticks,
    stat_fields,
    ticks_to_epoch,
    wait_until,
)


def test_own_process_has_a_start_time_near_now_and_a_gone_one_has_none() -> None:
    ticks = start_ticks(os.getpid())
    assert ticks > 0
    assert abs(ticks_to_epoch(ticks) - time.time()) < 3600  # this test process started recently
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert start_ticks(gone.pid) == -1
    assert stat_fields(gone.pid) is None


def test_a_group_is_live_until_killed() -> None:
    proc = subprocess.Popen(["sleep", "30"], start_new_session=True)
    try:
        assert live_groups({proc.pid}) == {proc.pid}
        kill_groups({proc.pid})
        proc.wait(timeout=10)  # reaped here: a zombie would still be listed by /proc
        assert live_groups({proc.pid}) == set()
        kill_groups({proc.pid})  # gone already: no error
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_wait_until_says_whether_the_condition_came_true() -> None:
    assert wait_until(lambda: True, 0.0)
    started = time.monotonic()
    assert not wait_until(lambda: False, 0.1)
    assert time.monotonic() - started >= 0.1
