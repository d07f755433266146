"""A chunk's render process (``workers.render_process``) and the warm render process that forks
it (``workers.zygote_process``) are not dumpable: no core dump, and no other process of the
worker's user can ptrace them or read their memory (the job's media, decoded)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable

import pytest

from workers import render_process, zygote_process

pytestmark = pytest.mark.timeout(60)

LIMITS = {"memory_bytes": 1 << 40, "file_bytes": 1 << 40, "cpu_seconds": 0}


def in_child(body: Callable[[], bool]) -> bool:
    """What ``body`` returns in a forked child (True/False), read back over a pipe."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        code = 1
        try:
            os.close(read)
            os.write(write, b"1" if body() else b"0")
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    try:
        answer = os.read(read, 1)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    assert answer in (b"0", b"1"), "the child reported nothing"
    return answer == b"1"


def test_a_process_is_dumpable_until_a_chunks_limits_are_applied() -> None:
    assert in_child(render_process.dumpable)  # the test itself: the default
    assert not in_child(lambda: (render_process.apply_limits(LIMITS), render_process.dumpable())[1])


def test_the_warm_render_process_is_not_dumpable_before_it_imports_the_render_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its forked chunks inherit the flag; set before the imports, nothing of a job's is in a
    dumpable process's memory at any time."""

    def body() -> bool:
        seen: list[bool] = []

        def warm() -> None:
            seen.append(render_process.dumpable())
            raise SystemExit(0)  # stop before serving

        monkeypatch.setattr(zygote_process, "warm", warm)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        saved = os.dup(1)  # main() points fd 1 at stderr
        try:
            zygote_process.main(["1", str(theirs.fileno())])
        except SystemExit:
            pass
        finally:
            os.dup2(saved, 1)
        return seen == [False]

    assert in_child(body)
