"""Celery beat's scheduler: RedBeat (a Redis lock, so only one beat ticks) that rides out Redis
restarts and error replies instead of stopping, which stock beat does on the first one.

Every recovery the orchestrator makes (lost chunks, lost plan, merge and audio tasks,
deadlines, autoscaling) hangs on this tick, and the orchestrator's heartbeat goes on without
it: an error reply (``OOM command not allowed`` at ``maxmemory``, ``READONLY`` after a replica
failover) killed the beat process for good while everything looked healthy. With
``beat_max_loop_interval`` at a few seconds (celery_config) a restarted or standby beat also
takes the lock within seconds of the last one's lapsing, not after Celery's default 300 s.

An error that waiting does not cure (the Redis user may not touch beat's keys: an ACL user of
another role) ends beat instead, and ``WatchedBeat``, the orchestrator's embedded beat, stops
the whole orchestrator with one line naming the cause: Celery's own ``--beat`` let the beat
process die while the worker beside it went on heartbeating, a healthy-looking orchestrator
that never ticked.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import signal
import threading
import time
from typing import Any, ClassVar

import redis
from celery import bootsteps
from celery.beat import _Process
from kombu.exceptions import OperationalError
from redbeat import RedBeatScheduler
from redbeat.schedulers import get_redis

from common.errors import RenderError
from common.redis_refusal import refused

log = logging.getLogger(__name__)

#: Seconds between attempts while Redis is away.
RETRY_SECONDS = 1.0
#: Seconds between looks at whether the embedded beat process still runs.
WATCH_SECONDS = 0.5
#: The longest an entry is held back for a send still queued: a message lost (a worker killed
#: after taking it, before it started) would otherwise stop the orchestrator's tick until the
#: lost send's own expiry (30 s), where a tick every 2 s used to run the next.
HOLD_SECONDS = 10.0
#: Bytes of the page in which a dying beat process leaves its cause.
_LAST_WORDS_BYTES = 4096
#: What a beat process that died of them says as an unreachable Redis (the CLI's exit 3).
_UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OperationalError)


class ResilientScheduler(RedBeatScheduler):  # type: ignore[misc]
    """RedBeat whose tick survives Redis being briefly unreachable, and that sends no entry
    while its last send still waits in the queue (``apply_async``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        #: Per entry name, its last send's task id and the monotonic time at which it expires.
        self._waiting: dict[str, tuple[str, float]] = {}
        super().__init__(*args, **kwargs)

    def apply_async(self, entry: Any, producer: Any = None, advance: bool = True, **kw: Any) -> Any:
        """Send the entry's task, unless its last send was not taken yet and is still held:
        then advance the entry only (coalesced, the queued one does the same work).

        A busy worker took every tick queued behind its task (a private render's one pool
        process: one per 2 s of its chunk) one after another before the job's merge, at
        priority 0; one queued tick does what they all did. An expiry alone would risk no tick
        ever running on a backed-up queue; this never holds more than the one that waits, and
        the next is sent as soon as that one starts (or its hold ends, or cannot be looked up).
        """
        waiting = self._waiting.get(entry.name)
        if waiting is not None and self._still_queued(entry, *waiting):
            log.debug("beat: %s not sent, its last send %s still waits", entry.name, waiting[0])
            return self.reserve(entry) if advance else None
        result = super().apply_async(entry, producer=producer, advance=advance, **kw)
        expires = entry.options.get("expires")
        if result is not None and isinstance(expires, int | float) and self._stores_state(entry):
            held = min(float(expires), HOLD_SECONDS)
            self._waiting[entry.name] = (result.id, time.monotonic() + held)
        else:
            self._waiting.pop(entry.name, None)
        return result

    def _stores_state(self, entry: Any) -> bool:
        """Whether the entry's task records that it started (else it would look queued while
        it runs, and a task that records nothing would look queued until it expired)."""
        conf = self.app.conf
        # A task not imported here (beat sends it by name) has the configuration's defaults.
        task = self.app.tasks.get(entry.task)
        ignores = conf.task_ignore_result if task is None else task.ignore_result
        tracks = conf.task_track_started if task is None else task.track_started
        return bool(tracks and not ignores and not entry.options.get("ignore_result"))

    def _still_queued(self, entry: Any, task_id: str, expires_at: float) -> bool:
        """Whether the last send is within its hold (HOLD_SECONDS, or its expiry if sooner) and
        still PENDING (not started); a failed look says no, so the entry is sent as before."""
        if time.monotonic() >= expires_at:
            return False
        try:
            return bool(self.app.AsyncResult(task_id, task_name=entry.task).state == "PENDING")
        except Exception as exc:  # noqa: BLE001 - any failure: send, as without coalescing
            log.debug("beat: the state of %s could not be read (%s)", task_id, exc)
            return False

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """Run due entries; while Redis is away, wait and try again."""
        try:
            if self.lock_key and self.lock is not None and not self.lock.owned():
                # The lock expired while Redis was down: take it back unless another beat did.
                if not self.lock.acquire(blocking=False):
                    return float(self.max_interval)
            self._reseed()
            return float(super().tick(*args, **kwargs))
        except redis.exceptions.NoPermissionError:
            raise  # no retry mends it: beat ends, and WatchedBeat stops the orchestrator
        except (redis.RedisError, OperationalError) as exc:
            log.warning("beat: Redis error (%s); retrying in %.0fs", exc, RETRY_SECONDS)
            return RETRY_SECONDS

    def _reseed(self) -> None:
        """Write the schedule again when Redis lost it (restarted without persistence, or
        flushed): RedBeat writes it only at start, and without it no tick ever runs again
        while the lock and the heartbeat look healthy."""
        client = get_redis(self.app)
        if not client.exists(self.app.redbeat_conf.schedule_key):
            self._waiting.clear()  # the queued sends went with the schedule
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


class _WatchedProcess(_Process):  # type: ignore[misc]
    """Celery's embedded beat process, leaving why it died in a page shared with its parent
    (a fork shares an anonymous mapping; Celery closes every inherited file descriptor in the
    beat process, so a pipe would not survive)."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.last_words = mmap.mmap(-1, _LAST_WORDS_BYTES)

    def run(self) -> None:
        """Run beat; on a fatal error write its cause for the parent, then die as before."""
        try:
            super().run()
        except Exception as exc:
            if isinstance(exc, redis.exceptions.NoPermissionError):
                kind, reason = "refused", refused(exc)
            else:
                kind = "unreachable" if isinstance(exc, _UNREACHABLE) else "other"
                reason = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            # JSON-escaped, a character takes 12 bytes at most: the page always holds it whole.
            said = json.dumps({"kind": kind, "reason": reason[: _LAST_WORDS_BYTES // 16]})
            self.last_words.seek(0)
            self.last_words.write(said.encode() + b"\0")
            raise

    def cause(self) -> Exception:
        """Why the process ended, as the error the orchestrator exits with."""
        raw = self.last_words[:].split(b"\0", 1)[0]
        said: dict[str, Any] = json.loads(raw) if raw else {}
        # As the CLI words these two from any command (exit 4 and 3, with the URL).
        if said.get("kind") == "refused":
            refusal: Exception = redis.exceptions.NoPermissionError(
                f"the orchestrator's beat stopped: {said['reason']}"
            )
            return refusal
        if said.get("kind") == "unreachable":
            lost: Exception = redis.exceptions.ConnectionError(
                f"the orchestrator's beat stopped: {said['reason']}"
            )
            return lost
        code = self.exitcode
        reason = str(said.get("reason") or "") or (
            f"killed by {signal.Signals(-code).name}"
            if code and code < 0
            else f"exit status {code}"
        )
        return RenderError(
            f"the orchestrator's beat stopped ({reason}); stopping the orchestrator so that its "
            "supervisor restarts it (the log above has the details)"
        )


class WatchedBeat(bootsteps.StartStopStep):  # type: ignore[misc]
    """The worker's embedded beat (what ``worker --beat`` runs), watched: when its process dies
    the worker stops and ``failure`` says why."""

    label = "WatchedBeat"
    #: Why the watched beat died (None while it has not): read once the worker has stopped.
    failure: ClassVar[Exception | None] = None

    def __init__(self, w: Any, **kwargs: Any) -> None:
        super().__init__(w, **kwargs)
        self._stopping = threading.Event()

    def create(self, w: Any) -> _WatchedProcess:
        """The beat process, as Celery's Beat step makes it."""
        beat = _WatchedProcess(
            w.app,
            max_interval=None,
            schedule_filename=w.schedule_filename,
            scheduler_cls=w.scheduler,
            remote_control=False,
        )
        w.beat = beat
        return beat

    def start(self, w: Any) -> None:
        """Start beat and the thread that watches it."""
        super().start(w)
        threading.Thread(target=self._watch, name="beat-watch", daemon=True).start()

    def stop(self, w: Any) -> None:
        """Stop beat (its exit is then no failure)."""
        self._stopping.set()
        super().stop(w)

    def terminate(self, w: Any) -> None:
        """Stop beat at once (its exit is then no failure)."""
        self._stopping.set()
        super().terminate(w)

    def _watch(self) -> None:
        """Wait for beat's process to end; if nobody stopped it, stop the worker too (as a
        SIGTERM does: the tasks it runs finish) and keep the cause for the exit."""
        proc = self.obj
        while not self._stopping.wait(WATCH_SECONDS):
            if proc.exitcode is None:
                continue
            if self._stopping.is_set():
                return
            WatchedBeat.failure = proc.cause()
            log.critical("%s", WatchedBeat.failure)
            os.kill(os.getpid(), signal.SIGTERM)
            return
