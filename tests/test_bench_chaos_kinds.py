"""The chaos benchmark's extra fault kinds pick the process they mean to kill."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import pytest

from bench.chaos_faults import KINDS, MORE_KINDS, _parent, _victim, fault_plan

pytestmark = pytest.mark.timeout(30)


def test_a_plan_of_the_named_kinds_has_each_of_them() -> None:
    kinds = ("render", "pool", "main", "stall")
    plan = fault_plan(random.Random(1), 6, kinds)
    assert set(plan) == set(kinds) and len(plan) == 6
    assert set(fault_plan(random.Random(1), 8)) == set(KINDS)  # the default is unchanged
    assert set(MORE_KINDS).isdisjoint(KINDS)


def test_the_victims_are_the_main_process_a_pool_process_and_the_deepest_one() -> None:
    # main -> "pool" (a shell) -> "render" (sleep): a worker's tree in small
    main = subprocess.Popen(["bash", "-c", "bash -c 'sleep 30; :' & wait"], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            members = [
                int(p) for p in os.listdir("/proc") if p.isdigit() and _group(int(p)) == main.pid
            ]
            if len(members) >= 3:
                break
            assert time.monotonic() < deadline, members
            time.sleep(0.05)
        assert _victim("main", main.pid, members) == main.pid
        pool = _victim("pool", main.pid, members)
        assert pool is not None and _parent(pool) == main.pid
        render = _victim("render", main.pid, members)
        assert render is not None and _parent(render) == pool
        assert _victim("render", None, members) is None
    finally:
        os.killpg(main.pid, signal.SIGKILL)
        main.wait()


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None
