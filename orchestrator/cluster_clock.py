"""The cluster's time: a machine's clock set to the Redis server's, which every node shares."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis

from orchestrator.store_retry import redis_deadline

#: How often a clock measures again how far its machine's clock is from the Redis server's.
CLOCK_CHECK_SECONDS = 60.0
#: How far this machine's clock may drift from its monotonic clock between two measurements
#: before it counts as stepped and is measured again at once.
CLOCK_STEP_SECONDS = 1.0


class ClusterClock:
    """This machine's clock, corrected to the Redis server's (``TIME``, measured every minute)."""

    def __init__(self, client: Any, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self._clock = clock
        self._offset = 0.0
        self._offset_checked: float | None = None  # monotonic time of the last measurement
        self._wall_checked = 0.0  # this machine's clock then

    def now(self) -> float:
        """The cluster's time: this machine's clock set to the Redis server's.

        Nodes compare each other's timestamps (a chunk's last progress against the
        orchestrator's tick, a merge's lease, a retry's due time): a worker whose clock ran a
        minute behind had every chunk it started taken for stalled and rendered again."""
        checked = self._offset_checked
        wall, mono = self._clock(), time.monotonic()
        if checked is None or mono - checked > CLOCK_CHECK_SECONDS or self._stepped(wall, mono):
            try:
                # One attempt, never the store's patience: the last offset serves while Redis is
                # away, and a retried TIME held a read-only status 21 s against a dead broker.
                with redis_deadline(0.0):
                    before = self._clock()
                    seconds, micros = self.client.time()
                    after = self._clock()
            except redis.RedisError:
                pass  # the write that follows reports Redis being away; keep the last offset
            else:
                self._offset = seconds + micros / 1e6 - (before + after) / 2
                self._offset_checked = time.monotonic()
                self._wall_checked = (before + after) / 2
        return self._clock() + self._offset

    def _stepped(self, wall: float, mono: float) -> bool:
        """Whether this machine's clock was stepped since the last measurement (NTP, a VM
        resumed, an operator): it moved unlike the monotonic clock. Until measured again, a
        worker's clock stepped an hour back stamped its chunks' progress an hour old, and
        every chunk it ran was taken for stalled."""
        if self._offset_checked is None:
            return True
        moved = wall - self._wall_checked
        return abs(moved - (mono - self._offset_checked)) > CLOCK_STEP_SECONDS
