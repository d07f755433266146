"""Beat in a thread of a local worker's main process, not in a process of its own.

``celery worker --beat`` forks a beat process beside the pool: on a 2-core machine's private
cluster (one pool process) that was the third Python of the worker, about 50 MiB of Pss for
a loop that wakes every few seconds to publish the orchestrator's tick. Here the same scheduler
(``beat_scheduler``: RedBeat with its lock, ``orchestrator.beat.ResilientScheduler``) runs in a
daemon thread of the worker's main process, started once the worker is ready (after its pool
processes are forked) and stopped with the worker.

Celery's own threaded beat (``EmbeddedService(thread=True)``) sleeps with ``time.sleep``
between ticks, so stopping it waits out the interval; this loop waits on an event instead and
stops at once, releasing the RedBeat lock (``Service.sync``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import signals
from celery.beat import Service

log = logging.getLogger(__name__)

#: Seconds a stopping beat may take to finish its tick and release its lock.
STOP_SECONDS = 2.0


class BeatThread(threading.Thread):
    """The app's beat schedule, ticking in a daemon thread until ``stop``."""

    def __init__(self, app: Any) -> None:
        super().__init__(name="beat", daemon=True)
        self.app = app
        self.service = Service(app, scheduler_cls=app.conf.beat_scheduler, remote_control=False)
        self._stopping = threading.Event()

    def run(self) -> None:
        """Tick until stopped; a tick's error ends beat (logged), as it ends Celery's own."""
        self.app.set_current()
        try:
            # As Service.start: the scheduler first (its module connects RedBeat's handler),
            # then the signal on which RedBeat takes its lock, before the first tick.
            scheduler = self.service.scheduler
            signals.beat_init.send(sender=self.service)
            while not self._stopping.is_set():
                interval = scheduler.tick()
                if interval and interval > 0.0:
                    self._stopping.wait(interval)
        except Exception:
            log.critical("beat stopped: the orchestrator's tick no longer runs", exc_info=True)
        finally:
            try:
                self.service.sync()  # the scheduler's close: gives the RedBeat lock back
            except Exception as exc:  # noqa: BLE001 - never fail the worker's shutdown
                log.warning("beat: closing its scheduler failed (%s)", exc)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop ticking and wait up to ``timeout`` s for the lock to be released."""
        self._stopping.set()
        if self.is_alive():
            self.join(timeout)
