"""The background reader that overlaps compositing and encoding."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from workers.pipeline import Ahead, prefetched


def _counting(limit: int | None, readers: list[str]) -> Iterator[int]:
    """0, 1, 2, ... recording which thread read each item."""
    n = 0
    while limit is None or n < limit:
        readers.append(threading.current_thread().name)
        yield n
        n += 1


def test_ahead_reads_in_the_callers_thread_until_asked_to_run_ahead() -> None:
    readers: list[str] = []
    ahead = Ahead(_counting(6, readers), depth=2, name="reader")
    assert [next(ahead), next(ahead)] == [0, 1]
    assert readers == [threading.current_thread().name] * 2
    ahead.run_ahead()
    ahead.run_ahead()  # a second call starts nothing more
    assert list(ahead) == [2, 3, 4, 5]
    assert readers[2:] == ["reader"] * 4
    assert list(ahead) == []  # exhausted stays exhausted, without blocking
    ahead.close()


def test_ahead_stays_at_most_depth_items_ahead_and_close_stops_it() -> None:
    readers: list[str] = []
    ahead = Ahead(_counting(None, readers), depth=3)
    ahead.run_ahead()
    assert next(ahead) == 0
    time.sleep(0.3)
    # One item taken, three waiting in the queue, one read and waiting for room.
    assert len(readers) <= 5
    began = time.monotonic()
    ahead.close()
    assert time.monotonic() - began < 2
    read = len(readers)
    time.sleep(0.2)
    assert len(readers) == read  # nothing reads the source after close
    with pytest.raises(StopIteration):
        next(ahead)


def test_an_error_while_reading_ahead_reaches_the_consumer_in_order() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("corrupt packet")

    ahead = Ahead(failing())
    ahead.run_ahead()
    assert next(ahead) == 1
    assert next(ahead) == 2
    with pytest.raises(ValueError, match="corrupt packet"):
        next(ahead)
    with pytest.raises(StopIteration):
        next(ahead)
    ahead.close()


def test_prefetched_stops_its_producer_when_the_consumer_leaves_early() -> None:
    readers: list[str] = []
    with prefetched(_counting(None, readers)) as items:
        assert next(items) == 0
    read = len(readers)
    time.sleep(0.2)
    assert len(readers) == read
