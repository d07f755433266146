"""The background reader that overlaps compositing and encoding (workers.pipeline)."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator

import pytest

from workers.pipeline import prefetched


def _counting(limit: int | None, readers: list[str]) -> Iterator[int]:
    """0, 1, 2, ... recording which thread read each item."""
    n = 0
    while limit is None or n < limit:
        readers.append(threading.current_thread().name)
        yield n
        n += 1


def test_items_arrive_in_order_read_in_a_background_thread() -> None:
    readers: list[str] = []
    with prefetched(_counting(6, readers), depth=2) as items:
        assert list(items) == [0, 1, 2, 3, 4, 5]
        assert list(items) == []  # exhausted stays exhausted, without blocking
    assert readers == ["compositor"] * 6


def test_it_stays_at_most_depth_items_ahead_and_leaving_stops_it() -> None:
    readers: list[str] = []
    began = 0.0
    with prefetched(_counting(None, readers), depth=3) as items:
        assert next(items) == 0
        time.sleep(0.3)
        # One item taken, three waiting in the queue, one read and waiting for room.
        assert len(readers) <= 5
        began = time.monotonic()
    assert time.monotonic() - began < 2
    read = len(readers)
    time.sleep(0.2)
    assert len(readers) == read  # nothing reads the source after the block


def test_an_error_while_reading_ahead_reaches_the_consumer_in_order() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("corrupt packet")

    with prefetched(failing()) as items:
        assert next(items) == 1
        assert next(items) == 2
        with pytest.raises(ValueError, match="corrupt packet"):
            next(items)
        with pytest.raises(StopIteration):
            next(items)


def test_by_default_one_frame_waits_while_the_next_is_made() -> None:
    readers: list[str] = []
    with prefetched(_counting(None, readers)) as items:
        assert next(items) == 0
        time.sleep(0.3)
        # One item taken, one waiting in the queue, one read and waiting for room.
        assert len(readers) <= 3


class _Frame:
    """A stand-in for a frame-sized array that a weak reference can watch."""


def test_a_frame_the_consumer_let_go_is_not_kept_while_the_next_is_made() -> None:
    taken = threading.Event()
    refs: list[weakref.ref[_Frame]] = []
    freed: list[bool] = []

    def frames() -> Iterator[_Frame]:
        frame = _Frame()
        refs.append(weakref.ref(frame))
        yield frame
        del frame
        assert taken.wait(5)
        # Compositing the next frame: the one handed on and dropped must be freed meanwhile
        # (a few frames of 25 MB held by the pipeline are a render slot's memory).
        deadline = time.monotonic() + 2
        while refs[0]() is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        freed.append(refs[0]() is None)
        yield _Frame()

    with prefetched(frames()) as items:
        first = next(items)
        del first
        taken.set()
        assert isinstance(next(items), _Frame)
    assert freed == [True]
