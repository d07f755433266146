"""Frame-sized buffers come back from the heap instead of fresh pages from the kernel.

Every compositing step allocates a frame-sized array (25 MB of float RGB at 1080p) and frees
the one before. glibc serves blocks that large with mmap and returns them with munmap, so each
step's first write faults in and zeroes some 6,000 fresh pages: measured at several
milliseconds per step, a good part of a step's own cost. Raising the mmap threshold to its
ceiling (32 MB on 64-bit glibc) and not trimming the heap's top keeps freed frames for the
next step. The peak footprint stays what the render really needs at once; only memory freed
in the middle of a render is kept until the process ends (a render process ends with its chunk).

One arena for all threads: the compositor runs in a thread of its own (workers.pipeline), and
glibc gives such a thread an arena of 64 MB heaps, each unmapped as soon as it is empty. A
frame's few 6-25 MB arrays do not fit one such heap, so a second one was made and unmapped
again nearly every frame: measured on the 1080p throughput bench as 120,000-320,000 page faults
a render, varying from run to run, against about 45,000 with the main heap, which only grows.
"""

from __future__ import annotations

import ctypes
import threading

#: mallopt() parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8  # how many arenas threads may spread over
#: glibc's largest mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX): 4 MiB * sizeof(long).
_MMAP_CEILING = 32 * 2**20
_TRIM_THRESHOLD = 2**30

_lock = threading.Lock()
_done: list[bool] = []


def keep_frame_buffers() -> bool:
    """Tune this process's malloc to reuse frame buffers (once; glibc only); whether it took."""
    if _done:
        return _done[0]
    with _lock:
        if not _done:
            _done.append(_tune())
    return _done[0]


def _tune() -> bool:
    try:
        mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    except OSError:
        return False
    if mallopt is None:  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # mallopt answers 1 on success, 0 when a value is out of range.
    return (
        bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_CEILING))
        and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
        and bool(mallopt(_M_ARENA_MAX, 1))
    )
