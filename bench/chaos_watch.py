"""Watching a chaos run: its job records, its progress events, and when to give up on it.

``Watch`` polls the job records (keeping the last ones read while Redis is down); ``Events``
counts the progress events per job and keeps the recoveries (requeues, speculative copies),
reconnecting when Redis restarts. ``wait_for_jobs`` waits for the jobs to finish and gives up
when their records stop changing for ``STALL_S`` (reporting the dispatch bookkeeping) or a
run's time limit passes.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import redis

from bench.script import log
from bench.support import status
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_record import ChunkState, JobRecord

#: Seconds between job status polls.
POLL_S = 0.25
#: Seconds without any change in the job records after which a run counts as stalled (longer
#: than orchestrator.health's 60 s for a running chunk that stopped reporting, plus ticks).
STALL_S = 90.0


class Events(threading.Thread):
    """Counts progress events per job, reconnecting when Redis restarts (events meanwhile are
    lost)."""

    def __init__(self, url: str) -> None:
        super().__init__(name="events", daemon=True)
        self.url = url
        self.stopped = threading.Event()
        self.counts: dict[str, Counter[str]] = {}
        self.recoveries: list[dict[str, Any]] = []
        self.reconnects = 0

    def run(self) -> None:
        """Listen until stopped."""
        while not self.stopped.is_set():
            client = redis.Redis.from_url(self.url)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(keys.PROGRESS)
                while not self.stopped.is_set():
                    message = pubsub.get_message(timeout=0.2)
                    if message is not None and message.get("type") == "message":
                        self.handle(json.loads(message["data"]))
            except redis.RedisError:
                self.reconnects += 1
                time.sleep(0.2)
            finally:
                pubsub.close()
                client.close()

    def handle(self, event: dict[str, Any]) -> None:
        """Count one event."""
        kind = str(event.get("event"))
        if kind == "chunk_requeued":
            kind = f"requeued_{event.get('reason')}"
        if kind.startswith("requeued_") or kind == "chunk_speculative":
            self.recoveries.append({**event, "kind": kind})
        self.counts.setdefault(str(event.get("job")), Counter())[kind] += 1

    def stop(self) -> None:
        """Stop listening."""
        self.stopped.set()
        self.join(timeout=5)


def records_now(api: CloudRenderingAPI, jobs: list[str]) -> list[JobRecord] | None:
    """Every job's record, or None while Redis is unreachable."""
    found = [status(api, job) for job in jobs]
    return None if any(r is None for r in found) else [r for r in found if r is not None]


def busy_on(records: list[JobRecord] | None, name: str) -> bool | None:
    """Whether `name` runs a chunk now (None: unknown)."""
    if records is None:
        return None
    return any(c.state is ChunkState.RUNNING and c.node == name for r in records for c in r.chunks)


class Watch:
    """The jobs of one run and their last records read (None until Redis first answers)."""

    def __init__(
        self, api: CloudRenderingAPI, jobs: list[str], on_poll: Callable[[], None]
    ) -> None:
        self.api = api
        self.jobs = jobs
        self.on_poll = on_poll
        self.records: list[JobRecord] | None = None

    def now(self) -> list[JobRecord] | None:
        """Every job's record now, or None while Redis is unreachable."""
        return records_now(self.api, self.jobs)

    def finished(self) -> bool:
        """Poll (calling on_poll first): whether every job has finished."""
        self.on_poll()
        self.records = self.now() or self.records
        return self.records is not None and all(r.state.finished for r in self.records)


def wait_for_jobs(
    label: str, watch: Watch, began: float, limit: float
) -> tuple[bool, dict[str, Any] | None]:
    """Wait for the jobs to finish: (timed out, the stalled run's diagnosis or None)."""
    last, changed = fingerprint(watch.records), time.monotonic()
    while not watch.finished():
        if fingerprint(watch.records) != last:
            last, changed = fingerprint(watch.records), time.monotonic()
        stalled = time.monotonic() - changed > STALL_S
        if stalled or time.monotonic() - began > limit:
            why = f"no change for {STALL_S:.0f}s" if stalled else f"{limit:.0f}s passed"
            log(f"[{label}] gave up: {why}")
            return True, diagnose(watch.api, watch.jobs)
        time.sleep(POLL_S)
    return False, None


def fingerprint(records: list[JobRecord] | None) -> Any:
    """What changes while jobs make progress: states, frames, chunk states and attempts."""
    if records is None:
        return None
    return [
        (r.state, r.frames_done, [(c.state, c.attempts, c.frames_done) for c in r.chunks])
        for r in records
    ]


def diagnose(api: CloudRenderingAPI, jobs: list[str]) -> dict[str, Any]:
    """Dispatch bookkeeping of a stalled run: broker entries, pending lists, live nodes."""
    client = api.store.redis
    now = time.time()
    queued = []
    for member, score in client.zrange(keys.QUEUED, 0, -1, withscores=True):
        job, index = str(member).rsplit(":", 1)
        try:
            state = str(api.store.chunk(job, int(index)).state)
        except Exception as exc:  # noqa: BLE001 - report, do not fail the report
            state = repr(exc)
        queued.append({"chunk": str(member), "age_s": round(now - float(score), 1), "state": state})
    return {
        "queued": queued,
        "pending_lists": {job: int(client.llen(keys.pending(job))) for job in jobs},
        "live_nodes": [n.split("@")[0] for n in api.dispatcher.nodes()],
        "slots": api.dispatcher.slots(),
        "broker_lists": {
            str(k): int(client.llen(k)) for k in client.scan_iter(match="render*", count=100)
        },
    }
