"""The background reader that overlaps compositing and encoding (workers.pipeline)."""

from __future__ import annotations

import threading
import time
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
