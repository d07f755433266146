"""A job's event log: every progress event of a job, kept in order so a client can replay it.

Each event still goes to the progress channel (keys.PROGRESS) as before, for live subscribers
(``CloudRenderingAPI.on_progress_update``, the chaos watcher), and is also appended to the job's
Redis stream (keys.events), whose entry ids let a client resume after the last event it saw
(the HTTP API's ``/v1/jobs/{id}/events``). A stream is bounded (MAXLEN, trimmed approximately)
and expires with its job: while the job has no expiry the stream lives EVENTS_TTL past its last
event, afterwards exactly as long as the job's record.
"""

from __future__ import annotations

import json
import time
from typing import Any

from orchestrator import keys
from orchestrator.store_retry import redis_deadline

#: Entries a job's stream keeps (approximately: Redis trims whole macro-nodes).
EVENTS_MAXLEN = 10_000
#: Seconds an unfinished job's stream lives after its last event (a week, the default lifetime
#: of a finished job's records; once the job finishes its stream expires with the job).
EVENTS_TTL = 7 * 24 * 3600
#: Events after which a job sends no more (its end).
TERMINAL_EVENTS = frozenset({"completed", "failed", "cancelled"})

#: Publish, append (trimmed) and set the stream's expiry in one atomic round trip. The expiry
#: follows the job record's when the job has one (finished), so the log never outlives its job.
#: KEYS: stream, job record. ARGV: channel, message, maxlen, event name, default ttl.
_PUBLISH = """
redis.call('PUBLISH', ARGV[1], ARGV[2])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'event', ARGV[4],
    'data', ARGV[2])
local ttl = redis.call('TTL', KEYS[2])
if ttl > 0 then
    redis.call('EXPIRE', KEYS[1], ttl)
else
    redis.call('EXPIRE', KEYS[1], ARGV[5])
end
return id
"""


def event_message(job_id: str, event: str, **data: Any) -> dict[str, Any]:
    """The event as subscribers receive it: job, event name, time, then its own fields."""
    return {"job": job_id, "event": event, "time": time.time(), **data}


def publish_event(client: Any, job_id: str, event: str, **data: Any) -> str:
    """Send a job's event to the progress channel and append it to the job's stream; return
    its stream id."""
    message = json.dumps(event_message(job_id, event, **data))
    script = client.register_script(_PUBLISH)
    entry = script(
        keys=[keys.events(job_id), keys.job(job_id)],
        args=[keys.PROGRESS, message, EVENTS_MAXLEN, event, EVENTS_TTL],
    )
    return _text(entry)


def read_events(
    client: Any, job_id: str, after: str = "0", block_ms: int = 0, count: int = 100
) -> list[tuple[str, dict[str, Any]]]:
    """The job's events after stream id `after` (exclusive), oldest first, at most `count`;
    with `block_ms` > 0 wait up to that long for one when there is none yet."""
    stream = keys.events(job_id)
    if block_ms > 0:
        reply = client.xread({stream: after}, count=count, block=block_ms)
        entries = reply[0][1] if reply else []
    else:
        entries = client.xrange(stream, min=f"({after}" if after != "0" else "-", count=count)
    return [parsed for parsed in map(parse_entry, entries) if parsed is not None]


class EventCursor:
    """A follower's place in a job's event stream: ``wait`` blocks until the job's next event
    (a change of its record) instead of the follower reading the record on a fixed beat."""

    def __init__(self, client: Any, job_id: str) -> None:
        self.client = client
        self.stream = keys.events(job_id)
        self.after = "0"  # the first wait returns at once when the job has events already

    def wait(self, seconds: float) -> bool:
        """Block up to ``seconds`` for events after the last one seen and move past them;
        whether any came. Redis's errors are raised at once, not retried: the follower's
        next read of the record handles them (with its own patience)."""
        with redis_deadline(0.0):
            reply = self.client.xread(
                {self.stream: self.after}, count=EVENTS_MAXLEN, block=max(1, round(seconds * 1000))
            )
        entries = reply[0][1] if reply else []
        if entries:
            self.after = _text(entries[-1][0])  # past unparsable entries too
        return bool(entries)


def parse_entry(entry: Any) -> tuple[str, dict[str, Any]] | None:
    """An (id, message) pair from a raw stream entry; None for an entry not written here."""
    entry_id, fields = entry
    raw = fields.get("data", fields.get(b"data")) if isinstance(fields, dict) else None
    if raw is None:
        return None
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    return (_text(entry_id), message) if isinstance(message, dict) else None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
