"""A render node whose own scratch disk is full stops taking work while another node takes it.

A node with no room in its temporary directory fails every chunk, audio mix and merge it takes,
at once, and being idle it asks for the next message first: a chunk is handed on at once
(``workers.tasks``), but an audio mix or a merge retried with backoff went back to the same
node until its retries were spent and the job failed, beside a healthy node. So while its
scratch disk is full (or read-only) and another render node takes work, the node stops consuming
its queues and says so in its heartbeat (``scratch_full``: dispatch counts it out); it consumes
again once the disk has room, or when no other node is left (then its tasks retry with backoff
here, and a disk that stays full fails the job in the disk's words, not a job waiting for ever).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import redis
from celery import Celery
from kombu.exceptions import OperationalError

from common.names import QUEUE_ORCHESTRATOR
from orchestrator.job_store import JobStore
from orchestrator.node_roles import takes_work
from workers.task_support import scratch_in_trouble

log = logging.getLogger(__name__)

#: Seconds between two looks at the other nodes' heartbeats while paused (the disk itself is
#: looked at on every poll: one statvfs).
PEERS_SECONDS = 5.0


class ScratchPause:
    """Stop and resume this node's consumers as its scratch disk fills and empties."""

    def __init__(
        self,
        app: Celery,
        client: Any,
        name: str,
        queues: Sequence[str],
        full: Callable[[], bool] = scratch_in_trouble,
    ) -> None:
        self.app = app
        self.client = client
        self._store = JobStore(client)  # the one reader of heartbeats
        self.name = name
        # Never the orchestrator's queue: planning writes no scratch, and it may be the only
        # node that plans.
        self.queues = [q for q in queues if q != QUEUE_ORCHESTRATOR]
        self.full = full
        #: the queues this node stopped consuming for its disk (none: it takes work)
        self.paused: list[str] = []
        #: whether its scratch disk had room at the last look (told in its heartbeat: two
        #: nodes on one full disk must not stop for each other)
        self.room = True
        self._peers_at = 0.0
        self._peers: set[str] = set()

    def check(self, held_back: bool) -> None:
        """Pause or resume; ``held_back``: the node is draining or leaving (the drain owns
        its consumers then, and resumes them itself if the drain is called off)."""
        if held_back:
            self.paused, self.room = [], True
            return
        full = self.full()
        self.room = not full
        if not full and not self.paused:
            return
        covered = self._covered(fresh=not self.paused)
        if full and not self.paused:
            # Only what another node takes: a queue nobody else consumes would stall.
            queues = [q for q in self.queues if q in covered]
            if queues and self._control("cancel_consumer", queues):
                self.paused = queues
                log.warning(
                    "node %s: its scratch disk is full; it takes no work from %s while other "
                    "nodes do",
                    self.name,
                    ", ".join(queues),
                )
        elif self.paused and (not full or not set(self.paused) <= covered):
            if self._control("add_consumer", self.paused):
                self.paused = []
                why = "has room again" if not full else "is still full, but no other node is left"
                log.warning("node %s takes work again: its scratch disk %s", self.name, why)

    def _covered(self, fresh: bool) -> set[str]:
        """The queues other render nodes that take work consume now (looked up at most every
        PEERS_SECONDS while paused)."""
        now = time.monotonic()
        if not fresh and now - self._peers_at < PEERS_SECONDS:
            return self._peers
        found: set[str] = set()
        try:
            beats = self._store.heartbeats()
        except (redis.RedisError, OSError):
            return self._peers  # the broker is away: keep doing what we do
        for name, beat in beats.items():
            if name != self.name and takes_work(beat) and beat.get("scratch_room", True):
                found.update(str(q) for q in beat.get("queues") or ())
        self._peers, self._peers_at = found, now
        return found

    def _control(self, command: str, queues: Sequence[str]) -> bool:
        """Send ``cancel_consumer`` or ``add_consumer`` for each queue to this node; whether
        they went out (if not, the next poll tries again)."""
        try:
            for queue in queues:
                getattr(self.app.control, command)(queue, destination=[self.name])
        except (OperationalError, redis.RedisError, OSError):
            return False
        return True
