"""Every Redis key and channel the service uses, with its lifetime, in one place.

Besides ours, two layouts of other libraries live in the same Redis: redbeat's schedule (under
REDBEAT_PREFIX) and kombu's queue lists (queue_keys).
"""

from __future__ import annotations

from collections.abc import Mapping

from common.names import PRIORITIES

PREFIX = "cr:"

#: Hash: a job's record (state, priority, costs, timings, spec JSON). Expires after the job ends.
JOB = PREFIX + "job:{id}"
#: Hash: chunk index -> chunk record JSON. Expires with its job.
CHUNKS = PREFIX + "job:{id}:chunks"
#: List: chunk indices not yet handed to the broker, in render order.
PENDING = PREFIX + "job:{id}:pending"
#: String: present while a job is being cancelled; workers poll it between frames.
CANCEL = PREFIX + "job:{id}:cancel"
#: Set: notes from workers about a job (e.g. "no hardware encoder here"). Expires with its job.
NOTES = PREFIX + "job:{id}:notes"
#: Set: parts of a job that are done (chunk indices and "audio"); counts each once.
DONE = PREFIX + "job:{id}:done"
#: Hash: node -> chunks of the job that failed unexpectedly on it (blocklist). Expires with job.
FAILURES = PREFIX + "job:{id}:failures"
#: String with TTL: a node being pre-empted; its running chunks hand themselves back.
EVICT = PREFIX + "evict:{name}"
#: Sorted set: ids of jobs not yet finished, scored by submission time.
ACTIVE = PREFIX + "jobs:active"
#: Sorted set: every job id still stored, scored by submission time.
ALL = PREFIX + "jobs:all"
#: Sorted set: ids of one user's stored jobs, scored by submission time (their listing and
#: billing read it instead of every tenant's jobs).
USER_JOBS = PREFIX + "jobs:user:{name}"
#: Sorted set: chunk tasks handed to the broker but not started ("job:index"), scored by time.
QUEUED = PREFIX + "queued"
#: Hash: job id -> time its last chunk was dispatched (round-robin between equal jobs).
LAST_DISPATCH = PREFIX + "dispatch:last"
#: String: lock held while dispatching, so two dispatchers never hand out the same chunk.
DISPATCH_LOCK = PREFIX + "dispatch:lock"
#: Hash per node class: throughput history (seconds per frame per complexity unit).
THROUGHPUT = PREFIX + "throughput"
#: Hash per node class: its node benchmark's result (JSON, orchestrator.node_class).
BENCHMARKS = PREFIX + "benchmarks"
#: String with TTL: a live worker process's heartbeat (JSON: node, pid, concurrency, since).
NODE = PREFIX + "node:{name}"
#: Pub/sub channel: progress events (JSON), a few per second per running chunk.
PROGRESS = PREFIX + "progress"
#: Stream: a job's progress events (field "data": the JSON published on PROGRESS), bounded
#: (orchestrator.job_events.EVENTS_MAXLEN); expires with its job.
EVENTS = PREFIX + "job:{id}:events"
#: String: present while dispatching is paused (the dashboard's "pause all").
PAUSED = PREFIX + "paused"
#: Hash: billing ledger, "YYYY-MM-DD" -> dollars spent that day (UTC).
BILLING = PREFIX + "billing"
#: Hash: budget scope ("project:NAME" or "user:NAME") -> JSON {"daily": USD|null, "monthly":
#: USD|null} (orchestrator.budgets). Written by operators (the orchestrator's user), read by all.
BUDGETS = PREFIX + "budgets"
#: Hash per UTC day ("2026-01-31") or month ("2026-01"): budget scope -> dollars spent in it.
#: Written as chunks are charged (workers); expires SPEND_TTL after its last update.
SPEND = PREFIX + "spend:{name}"
#: Hash per UTC day or month: "level|scope|limit" -> when that threshold event was published
#: (each is published once per window and limit). Expires with its window's spend.
SPEND_ALERTS = PREFIX + "spend:{name}:alerts"
#: String with TTL (a redis-py Lock): held while a submission checks the budgets and stores its
#: job, so that two submissions cannot both fit in what is left of one budget.
BUDGET_LOCK = PREFIX + "budgets:lock"
#: String: this cluster's id (no TTL), written once by the first orchestrator that needs it
#: (orchestrator.storage_sweep.cluster_id): the owner named in its jobs' storage markers.
CLUSTER_ID = PREFIX + "cluster:id"
#: Hash: the failover's memory (orchestrator.failover): "checked", when it last looked at the
#: jobs; "away" and "back", its last gap over OUTAGE_GAP (seconds, and when it ended).
FAILOVER = PREFIX + "failover"
#: String with TTL: held while one orchestrator tick runs (one at a time across orchestrators).
TICK_LOCK = PREFIX + "tick:lock"
#: String with TTL: held while one autoscaler round runs (one at a time across orchestrators).
AUTOSCALE_LOCK = PREFIX + "autoscale:lock"
#: Counter: orchestrator ticks that ran (observable: how often the beat really fires).
TICKS = PREFIX + "ticks"
#: Sorted set per storage: segment cache key -> logical time of its last use (the LRU order).
CACHE_LRU = PREFIX + "cache:{name}:lru"
#: Hash per storage: segment cache key -> bytes of its object.
CACHE_SIZES = PREFIX + "cache:{name}:sizes"
#: Hash per storage: "bytes" (total indexed), "clock" (the LRU's logical time), "hits", "misses".
CACHE_STATS = PREFIX + "cache:{name}:stats"
#: Sorted set of a segment cache's entries a job planned to reuse, each until a time (unix
#: seconds): eviction passes them over.
CACHE_PINS = PREFIX + "cache:{name}:pins"
#: String with TTL per segment cache entry being put (value: the writer's token): held while
#: one writer puts its object and sha256, so no other writer's bytes land beside its sha256.
CACHE_PUT = PREFIX + "cache:{name}:put:{id}"
#: String with TTL: a media file's content id, by its real path, size, mtime, inode and change
#: time (MEDIA_ID_TTL).
MEDIA_ID = PREFIX + "media:{name}"
#: String with TTL: present while a node drains (value: epoch seconds after which its running
#: chunks hand themselves back); the node takes no new chunk meanwhile.
DRAIN = PREFIX + "drain:{name}"
#: String with TTL (SLOTS_TTL): the pool size scale_cluster last asked a render node for; the
#: node resizes its pool to it (orchestrator.pool_size) and removes it once its heartbeat shows
#: that size, so the next scale_cluster counts from the size asked for, not a stale heartbeat.
SLOTS = PREFIX + "slots:{name}"
#: Hash per provider node: its life in the node ledger (pool, provider, market, price, name,
#: requested/booted/draining/terminated times, outcome).
LEDGER_NODE = PREFIX + "ledger:node:{id}"
#: Sorted set: ledger node ids by request time (every node ever recorded, pruned by age).
LEDGER_NODES = PREFIX + "ledger:nodes"
#: Set: ledger node ids not yet terminated.
LEDGER_LIVE = PREFIX + "ledger:live"
#: Hash per pool: the autoscaler's memory of it (orchestrator.autoscaler.model.PoolState).
POOL_STATE = PREFIX + "pool:{name}"
#: Hash: pool -> JSON of its last decision (desired, reason, time), for status and gauges.
AUTOSCALER = PREFIX + "autoscaler"
#: Prefix of redbeat's schedule and lock keys.
REDBEAT_PREFIX = PREFIX + "redbeat:"
#: kombu's separator between a queue name and its priority step (kombu.transport.redis).
PRIORITY_SEP = "\x06\x16"

#: Seconds a node's heartbeat lives without renewal.
NODE_TTL = 6
#: Seconds a node's asked-for pool size (SLOTS) waits to be reached: a shrink waits for busy
#: processes to finish their chunks.
SLOTS_TTL = 3600
#: Seconds between a node's heartbeats.
HEARTBEAT_SECONDS = 2
#: Seconds a media file's remembered content id lives without being looked up again.
MEDIA_ID_TTL = 30 * 24 * 3600
#: Seconds a window's spend totals live after their last update (billing export looks back).
SPEND_TTL = 400 * 24 * 3600


def user_jobs(user: str) -> str:
    """The index of ``user``'s stored jobs."""
    return USER_JOBS.format(name=user)


def job(job_id: str) -> str:
    """Key of a job's record."""
    return JOB.format(id=job_id)


def chunks(job_id: str) -> str:
    """Key of a job's chunk records."""
    return CHUNKS.format(id=job_id)


def pending(job_id: str) -> str:
    """Key of a job's undispatched chunks."""
    return PENDING.format(id=job_id)


def cancel(job_id: str) -> str:
    """Key of a job's cancel flag."""
    return CANCEL.format(id=job_id)


def events(job_id: str) -> str:
    """Key of a job's event stream."""
    return EVENTS.format(id=job_id)


def node(name: str) -> str:
    """Key of a node's heartbeat."""
    return NODE.format(name=name)


def notes(job_id: str) -> str:
    """Key of a job's worker notes."""
    return NOTES.format(id=job_id)


def failures(job_id: str) -> str:
    """Key of a job's per-node failure counts."""
    return FAILURES.format(id=job_id)


def evict(name: str) -> str:
    """Key of a node's eviction notice."""
    return EVICT.format(name=name)


def done(job_id: str) -> str:
    """Key of a job's finished parts."""
    return DONE.format(id=job_id)


def drain(name: str) -> str:
    """Key marking a node as draining."""
    return DRAIN.format(name=name)


def slots(name: str) -> str:
    """Key of the pool size a node was last asked for."""
    return SLOTS.format(name=name)


def ledger_node(node_id: str) -> str:
    """Key of one node's ledger record."""
    return LEDGER_NODE.format(id=node_id)


def pool_state(name: str) -> str:
    """Key of the autoscaler's memory of one pool."""
    return POOL_STATE.format(name=name)


def cache_lru(scope: str) -> str:
    """Key of a storage's segment cache LRU order."""
    return CACHE_LRU.format(name=scope)


def cache_sizes(scope: str) -> str:
    """Key of a storage's segment cache entry sizes."""
    return CACHE_SIZES.format(name=scope)


def cache_pins(scope: str) -> str:
    """The entries of a segment cache's scope that jobs planned to reuse (kept from eviction)."""
    return CACHE_PINS.format(name=scope)


def cache_put(scope: str, key: str) -> str:
    """Key held while one writer puts segment cache entry ``key`` of a scope."""
    return CACHE_PUT.format(name=scope, id=key)


def cache_stats(scope: str) -> str:
    """Key of a storage's segment cache totals and counters."""
    return CACHE_STATS.format(name=scope)


def media_id(digest: str) -> str:
    """Key of a remembered media content id (``digest`` names one version of one file)."""
    return MEDIA_ID.format(name=digest)


def spend(window: str) -> str:
    """Key of the spend totals of one UTC day or month."""
    return SPEND.format(name=window)


def spend_alerts(window: str) -> str:
    """Key of the threshold events already published in one UTC day or month."""
    return SPEND_ALERTS.format(name=window)


def queue_keys(queue: str, priorities: Mapping[str, int] = PRIORITIES) -> dict[str, str]:
    """Redis list per priority name (kombu: step 0 in the base key, step n in queue + SEP + n)."""
    return {
        name: queue if step == 0 else f"{queue}{PRIORITY_SEP}{step}"
        for name, step in sorted(priorities.items(), key=lambda item: item[1])
    }
