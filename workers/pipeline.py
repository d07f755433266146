"""Run a producer (frame compositing) in a background thread so it overlaps with encoding.

NumPy, Pillow and FFmpeg release the GIL for their heavy work, so compositing frame n + 1 while
the encoder works on frame n uses a second core. Order is preserved; errors re-raise in the
consumer; closing the iterator stops the producer promptly.

Every item is a whole frame (6 MB of RGB at 1080p), so neither side keeps one it handed on:
one finished frame waiting is enough to keep both cores busy (the compositor is the slower
side), and each one more is memory that two render slots of a node pay twice.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


@contextmanager
def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[Iterator[T]]:
    """Iterate `items` in a background thread, at most `depth` items ahead of the consumer."""
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                # Not held while the next one is made: the consumer may be done with it.
                del item
                if stop.is_set():
                    return
            slots.put(_DONE)
        except BaseException as exc:  # re-raised in the consumer, whatever it is
            slots.put(exc)

    def consume() -> Iterator[T]:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
            item = None  # not held while waiting for the next one

    worker = threading.Thread(target=produce, name="compositor", daemon=True)
    worker.start()
    try:
        yield consume()
    finally:
        stop.set()
        while worker.is_alive():
            try:
                slots.get(timeout=0.1)  # unblock a producer waiting on a full queue
            except queue.Empty:
                pass
        worker.join()
