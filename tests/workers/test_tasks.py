"""Task-body helpers that need no cluster: the merge's lease renewal."""

from __future__ import annotations

import threading
import time

from workers.tasks import _renewing


def test_lease_renews_while_the_block_runs_and_stops_after() -> None:
    calls: list[float] = []
    with _renewing(lambda: calls.append(time.monotonic()), 0.01):
        time.sleep(0.2)
    during = len(calls)
    time.sleep(0.05)
    assert during >= 3 and len(calls) == during
    assert not any(t.name == "lease" for t in threading.enumerate())


def test_a_failing_renewal_does_not_stop_the_lease_or_the_work() -> None:
    attempts: list[int] = []

    def flaky() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("Redis is restarting")

    with _renewing(flaky, 0.01):
        time.sleep(0.2)
    assert len(attempts) > 3
