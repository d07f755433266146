"""Celery beat's scheduler: RedBeat (a Redis lock, so only one beat ticks) that rides out Redis
restarts instead of stopping, which stock beat does on the first connection error."""

from __future__ import annotations

import logging
from typing import Any

import redis
from kombu.exceptions import OperationalError
from redbeat import RedBeatScheduler

log = logging.getLogger(__name__)

#: Seconds between attempts while Redis is away.
RETRY_SECONDS = 1.0


class ResilientScheduler(RedBeatScheduler):  # type: ignore[misc]
    """RedBeat whose tick survives Redis being briefly unreachable."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Run due entries; while Redis is away, wait and try again."""
        try:
            if self.lock_key and self.lock is not None and not self.lock.owned():
                # The lock expired while Redis was down: take it back unless another beat did.
                if not self.lock.acquire(blocking=False):
                    return float(self.max_interval)
            return float(super().tick(*args, **kwargs))
        except (
            redis.ConnectionError,
            redis.TimeoutError,
            redis.exceptions.LockError,
            OperationalError,
        ) as exc:
            log.warning("beat: Redis unavailable (%s); retrying in %.0fs", exc, RETRY_SECONDS)
            return RETRY_SECONDS

    def close(self) -> None:
        """Release the lock if Redis is reachable; never fail the shutdown."""
        try:
            super().close()
        except (redis.ConnectionError, redis.TimeoutError, redis.exceptions.LockError):
            self.lock = None
