"""A process forked after its main thread converted a picture with swscale's slice threads
(PyAV keeps one reformatter per thread, its SwsContext and slice threads with it) must convert
pictures of its own: the child inherited the parent's reformatter without its threads, and the
first conversion that set it up again waited for ever in pthread_cond_destroy
(tests/workers/test_mezzanine_export.py's chunk hung 300 s after the file's other renders)."""

from __future__ import annotations

import os

import av
import numpy as np

from workers import fork_safety  # noqa: F401 - imported by every module that forks a render
from workers.child import Child


def _convert(width: int, threads: int) -> None:
    frame = av.VideoFrame.from_ndarray(np.zeros((360, width, 3), np.uint8), format="rgb24")
    frame.reformat(format="yuv422p10le", threads=threads)


def test_a_child_forked_after_threaded_conversions_converts_its_own() -> None:
    _convert(640, threads=4)  # this process's main thread: a sliced SwsContext kept

    def child(fd: int) -> int:
        _convert(720, threads=1)  # set up again: it waited on the parent's slice threads
        os.write(fd, b"done\n")
        return 0

    forked = Child.fork(child)
    try:
        status = forked.wait(30)
    except TimeoutError:
        forked.kill()
        forked.wait(5)
        raise AssertionError("the forked child hung converting a picture") from None
    finally:
        os.close(forked.fd)
    assert status == 0
