"""The chaos benchmark's extra fault kinds pick the process they mean to kill."""

from __future__ import annotations

import contextlib
import errno
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from bench.chaos_faults import (
    KINDS,
    MORE_KINDS,
    FullDisk,
    _parent,
    _victim,
    descendants,
    fault_plan,
)

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


def test_the_render_is_found_in_a_session_of_its_own() -> None:
    """A zygote starts renders in a session of their own: a "render" fault that looked only in
    the worker's process group found none (pid None) and killed nothing."""
    main = subprocess.Popen(
        ["bash", "-c", "bash -c 'setsid sleep 30 & wait' & wait"], start_new_session=True
    )
    try:
        deadline = time.monotonic() + 10
        # Until the sleep runs in its own group: between its fork and setsid it is still in
        # the worker's (a loaded CI run looked in that moment).
        below = descendants(main.pid)
        while not any(_group(p) not in (main.pid, None) for p in below):
            assert time.monotonic() < deadline, below
            time.sleep(0.05)
            below = descendants(main.pid)
        group = [p for p in [main.pid, *below] if _group(p) == main.pid]
        assert _victim("render", main.pid, group) is None  # what the group alone gave
        render = _victim("render", main.pid, sorted({*group, *below}))
        assert render is not None and _group(render) != main.pid
    finally:
        for pid in descendants(main.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.killpg(main.pid, signal.SIGKILL)
        main.wait()


def _group(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _can_mount() -> bool:
    return os.geteuid() == 0 and os.path.exists("/proc/filesystems")


@pytest.mark.skipif(not _can_mount(), reason="the disk fault mounts a tmpfs (root only)")
def test_the_disk_fault_fills_the_stores_own_filesystem_then_frees_it(tmp_path: Path) -> None:
    disk = FullDisk(tmp_path / "store", size_mb=8)
    try:
        before = os.statvfs(disk.root)
        assert os.statvfs(tmp_path).f_fsid != before.f_fsid  # its own filesystem
        errors: list[int] = []

        def write_during() -> None:
            time.sleep(0.3)
            try:
                (disk.root / "segment.mkv").write_bytes(b"x" * 65536)
            except OSError as exc:
                errors.append(exc.errno or 0)

        writer = threading.Thread(target=write_during)
        writer.start()
        taken = disk.fill(1.0)
        writer.join()
        assert taken >= 7 * 1024 * 1024
        assert errors == [errno.ENOSPC]  # while full
        assert not disk.filler.exists()
        (disk.root / "segment.mkv").write_bytes(b"x" * 65536)  # room again
    finally:
        disk.close()
    assert os.statvfs(tmp_path / "store").f_fsid == os.statvfs(tmp_path).f_fsid  # unmounted
