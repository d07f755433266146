"""A render node's pool size as ``scale_cluster`` asked for it: an absolute size the node follows.

``scale_cluster`` writes the size it wants for each render node (``keys.slots(name)``). The
node's heartbeat thread looks at that key every poll and, while its pool has another size, sends
its own worker the ``cr_pool_size`` control command, which the worker's loop runs: it grows or
shrinks the pool to that size. Celery's ``pool_grow``/``pool_shrink`` are steps, and
``scale_cluster`` used to work them out from heartbeats up to a few seconds old, so a second
call soon after the first repeated or cancelled its step (1 -> 3 -> 1 left 3 slots). A size is
idempotent: sent again, or overtaken by a newer one, the pool still ends at the last size asked
for. A shrink stops idle processes only; while they are busy (or still stopping) the node asks
again every RESEND_SECONDS until chunks finish. Once a heartbeat has told the size, the node
removes the key (unless a newer size replaced it meanwhile), so ``scale_cluster`` counts from
the heartbeat again.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from celery import Celery
from celery.worker.control import control_command, nok, ok
from kombu.exceptions import OperationalError

from orchestrator import keys

#: The control command that sets this worker's pool size (ours: Celery's commands are steps).
COMMAND = "cr_pool_size"
#: The most worker processes one render node runs: a typo of a few zeros would fork millions.
MAX_SLOTS_PER_NODE = 256
#: Seconds between two commands for a size not reached yet (a shrink waits for busy processes).
RESEND_SECONDS = 2.0

# Removes the asked-for size only if it is still the one reached: a newer size stays.
_REMOVE_IF_SAME = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


@control_command(args=[("slots", int)], signature="<slots>")  # type: ignore[untyped-decorator]
def cr_pool_size(state: Any, slots: int = 1, **_: Any) -> dict[str, Any]:
    """Grow or shrink this worker's pool to ``slots`` processes (idle ones only stop)."""
    consumer = state.consumer
    if consumer.controller.autoscaler:
        return dict(nok("the pool autoscales (--autoscale): change its range instead"))
    size = resize(consumer, min(max(int(slots), 1), MAX_SLOTS_PER_NODE))
    return dict(ok(f"{size} processes"))


def resize(consumer: Any, slots: int) -> int:
    """Grow or shrink the consumer's pool towards ``slots`` processes; its size now."""
    pool = consumer.pool
    now = int(pool.num_processes)
    if slots > now:
        pool.grow(slots - now)
        consumer._update_prefetch_count(slots - now)
    elif slots < now and not _stopping(pool):
        try:
            pool.shrink(now - slots)
        except ValueError:
            pass  # fewer idle processes than asked: those went, the node asks again later
        consumer._update_prefetch_count(int(pool.num_processes) - now)
    return int(pool.num_processes)


def _stopping(pool: Any) -> bool:
    """Whether a process a shrink stopped is not reaped yet: billiard's shrink would count it
    again (its size would drop below its processes)."""
    processes = getattr(getattr(pool, "_pool", None), "_pool", None) or []
    return any(getattr(process, "_controlled_termination", False) for process in processes)


class PoolFollower:
    """Keeps a node's pool at the size ``scale_cluster`` asked for (from its heartbeat thread)."""

    def __init__(self, app: Celery, client: Any, name: str) -> None:
        self.app = app
        self.client = client
        self.name = name
        self._next_ask = 0.0

    def follow(self, slots: int) -> None:
        """Ask the worker for the wanted size while its pool (``slots`` now, as the last
        heartbeat told) differs; remove the wish once reached."""
        key = keys.slots(self.name)
        try:
            raw = self.client.get(key)
            if raw is None:
                return
            try:
                wanted = int(raw)
            except ValueError:
                self.client.eval(_REMOVE_IF_SAME, 1, key, raw)  # not a size: nothing to follow
                return
            if wanted == slots:
                self.client.eval(_REMOVE_IF_SAME, 1, key, raw)
            elif time.monotonic() >= self._next_ask:
                self.app.control.broadcast(
                    COMMAND, arguments={"slots": wanted}, destination=[self.name]
                )
                self._next_ask = time.monotonic() + RESEND_SECONDS
        except (redis.RedisError, OperationalError, OSError):
            pass  # the broker is away: the next poll tries again
