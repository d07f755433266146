"""Celery beat's scheduler: RedBeat (a Redis lock, so only one beat ticks) that rides out Redis
restarts and error replies instead of stopping, which stock beat does on the first one.

Every recovery the orchestrator makes (lost chunks, lost plan, merge and audio tasks,
deadlines, autoscaling) hangs on this tick, and the orchestrator's heartbeat goes on without
it: an error reply (``OOM command not allowed`` at ``maxmemory``, ``READONLY`` after a replica
failover) killed the beat process for good while everything looked healthy. With
``beat_max_loop_interval`` at a few seconds (celery_config) a restarted or standby beat also
takes the lock within seconds of the last one's lapsing, not after Celery's default 300 s.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from kombu.exceptions import OperationalError
from redbeat import RedBeatScheduler
from redbeat.schedulers import get_redis

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
            self._reseed()
            return float(super().tick(*args, **kwargs))
        except (redis.RedisError, OperationalError) as exc:
            log.warning("beat: Redis error (%s); retrying in %.0fs", exc, RETRY_SECONDS)
            return RETRY_SECONDS

    def _reseed(self) -> None:
        """Write the schedule again when Redis lost it (restarted without persistence, or
        flushed): RedBeat writes it only at start, and without it no tick ever runs again
        while the lock and the heartbeat look healthy."""
        client = get_redis(self.app)
        if not client.exists(self.app.redbeat_conf.schedule_key):
            log.warning(
                "beat: the schedule is gone from Redis (restarted empty?); writing it again"
            )
            self.setup_schedule()

    def close(self) -> None:
        """Release the lock if Redis is reachable; never fail the shutdown."""
        try:
            super().close()
        except redis.RedisError:
            self.lock = None
