"""BLAS runs on one thread in every process that renders, so pixels never depend on core counts.

OpenBLAS splits a matrix product across its threads, and the split changes the order in which
floats are added: the blur and colour matrices of a frame rendered on a 16-core node differ in
the last bit from the same frame on a 2-core laptop (or in a worker started with
OPENBLAS_NUM_THREADS=1), and after rounding to 8 bits some pixels flip. A chunk must equal the
same frames of a whole render wherever it runs (DESIGN 4.2), so the compositor pins BLAS to one
thread. Parallelism comes from chunks and from compositing overlapping encoding, not from BLAS.
"""

from __future__ import annotations

import threading
from typing import Any

from threadpoolctl import threadpool_limits

_lock = threading.Lock()
_pinned: list[Any] = []  # the limiter, kept so the limit is never garbage-collected away


def pin_single_thread() -> None:
    """Limit every BLAS library loaded in this process to one thread (cheap after the first)."""
    if _pinned:
        return
    with _lock:
        if not _pinned:
            _pinned.append(threadpool_limits(limits=1, user_api="blas"))
