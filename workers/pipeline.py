"""Run a producer (frame compositing) in a background thread so it overlaps its consumer.

NumPy, Pillow and FFmpeg release the GIL for their heavy work, so compositing frame n + 1 while
the encoder works on frame n uses a second core. Order is preserved; errors re-raise in the
consumer; closing stops the producer promptly. (Decoding in a thread of its own as well was
measured: no faster, and 8 % more CPU in a one-thread render slot.)
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()


class Ahead(Generic[T]):
    """An iterator over `items` that, once `run_ahead` is called, is read by a background thread
    up to `depth` items ahead of the consumer.

    Until then it reads `items` in the caller's thread. `close` must be called before anything
    else touches what `items` reads.
    """

    def __init__(self, items: Iterator[T], depth: int = 3, name: str = "ahead") -> None:
        self._items = items
        self._depth = depth
        self._name = name
        self._slots: queue.Queue[object] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._finished = False

    def __iter__(self) -> Ahead[T]:
        return self

    def run_ahead(self) -> None:
        """Read the rest of the items in a background thread (once; later calls do nothing)."""
        if self._thread is not None or self._finished:
            return
        self._slots = queue.Queue(maxsize=self._depth)
        self._thread = threading.Thread(target=self._produce, name=self._name, daemon=True)
        self._thread.start()

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        if self._slots is None:
            try:
                return next(self._items)
            except BaseException:
                self._finished = True
                raise
        item = self._slots.get()
        if item is _DONE:
            self._finished = True
            raise StopIteration
        if isinstance(item, BaseException):
            self._finished = True
            raise item
        return item  # type: ignore[return-value]

    def _produce(self) -> None:
        slots = self._slots
        assert slots is not None
        try:
            for item in self._items:
                while not self._stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            slots.put(_DONE)
        except BaseException as exc:  # re-raised in the consumer, whatever it is
            slots.put(exc)

    def close(self) -> None:
        """Stop the background reader (if one runs) and wait until it no longer reads."""
        self._finished = True
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        assert self._slots is not None
        while thread.is_alive():
            try:
                self._slots.get(timeout=0.1)  # unblock a producer waiting on a full queue
            except queue.Empty:
                pass
        thread.join()


@contextmanager
def prefetched(items: Iterator[T], depth: int = 3) -> Iterator[Iterator[T]]:
    """Iterate `items` in a background thread, at most `depth` items ahead of the consumer."""
    ahead = Ahead(items, depth, name="compositor")
    ahead.run_ahead()
    try:
        yield ahead
    finally:
        ahead.close()
