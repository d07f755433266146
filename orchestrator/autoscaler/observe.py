"""What the autoscaler sees each tick: pools' memory in Redis, the engines' nodes reconciled with
the ledger and the heartbeats (spot notices included), each spot pool's interruption rate, and
the work the job store holds."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from common.errors import RenderError
from orchestrator import keys
from orchestrator.autoscaler.interruptions import interruption_rate
from orchestrator.autoscaler.ledger import GONE, INTERRUPTED, Ledger, LedgerNode
from orchestrator.autoscaler.model import JobDemand, NodeState, NodeView, PoolState
from orchestrator.job_record import ChunkState, JobNotFound, JobState
from orchestrator.job_store import JobStore
from orchestrator.node_class import class_throughput, node_class_name, slot_speed
from providers.compute.base import TERMINATING, ProviderNode
from providers.compute.pools import Pool

log = logging.getLogger(__name__)


def load_pool_state(client: Any, pool: str) -> PoolState:
    """The autoscaler's memory of a pool (defaults when new or unreadable)."""
    raw = client.hgetall(keys.pool_state(pool))
    known = {f.name: f.type for f in dataclasses.fields(PoolState)}
    values: dict[str, Any] = {}
    for name, text in raw.items():
        if name not in known:
            continue
        try:
            values[name] = json.loads(text)
        except ValueError:
            continue
    try:
        return PoolState(**values)
    except TypeError:
        log.warning("pool %s: unreadable autoscaler state, starting afresh", pool)
        return PoolState()


#: PoolState fields only an operator writes (set_override); a round never overwrites them.
OVERRIDE_FIELDS = ("override", "override_until")
#: PoolState fields measured afresh each round (throughput, interruption rate): never stored.
MEASURED_FIELDS = ("seconds_per_unit", "interruption_rate")
#: How far back the ledger's history counts for interruption rates (the ledger keeps 90 days).
RATE_WINDOW_SECONDS = 30 * 24 * 3600.0
#: The value a draining node writes to its evict key at hand-back time: not a cloud's notice.
DRAIN_EVICTION = "drain"


def save_pool_state(client: Any, pool: str, state: PoolState) -> None:
    """Remember a pool's state for the next tick (an operator's override is left as it is)."""
    client.hset(
        keys.pool_state(pool),
        mapping={
            k: json.dumps(v)
            for k, v in dataclasses.asdict(state).items()
            if k not in OVERRIDE_FIELDS and k not in MEASURED_FIELDS
        },
    )


def set_override(client: Any, pool: str, nodes: int | None, until: float | None) -> None:
    """Hold `pool` at `nodes` until `until` (epoch seconds) whatever the decision; None clears."""
    key = keys.pool_state(pool)
    if nodes is None:
        client.hdel(key, *OVERRIDE_FIELDS)
        return
    client.hset(key, mapping={"override": json.dumps(nodes), "override_until": json.dumps(until)})


def seconds_per_unit(client: Any, pool: Pool, prices_file: str | None = None) -> float:
    """Seconds of one slot per unit on the pool's node class: its history, else its benchmark,
    else the catalogue's relative speed against the best measured class, else the prior
    (orchestrator.node_class)."""
    catalogue = _catalogue(prices_file)
    offer = catalogue.lookup_pool(pool) if catalogue is not None else None
    speed = slot_speed(offer.relative_speed, pool.concurrency) if offer is not None else None
    node_class = node_class_name(pool.name)
    return class_throughput(client, node_class, relative_speed=speed).seconds_per_unit


def catalogue_band(pool: Pool, prices_file: str | None = None) -> tuple[float, float] | None:
    """The price catalogue's interruption band (per node-hour) for the pool's instance type, or
    None (no catalogue, no entry, no band)."""
    catalogue = _catalogue(prices_file)
    if catalogue is None:
        return None
    offer = catalogue.lookup(pool.provider, pool.region, pool.instance_type)
    low = getattr(offer, "interruption_low", None)
    high = getattr(offer, "interruption_high", None)
    if isinstance(low, int | float) and isinstance(high, int | float):
        return float(low), float(high)
    return None


@functools.lru_cache(maxsize=8)
def _catalogue(prices_file: str | None) -> Any:
    """The price catalogue (providers.compute.prices), loaded once; None when it cannot be."""
    try:
        # Imported late: the catalogue is optional here (rates fall back to the default prior).
        load_catalogue = importlib.import_module("providers.compute.prices").load_catalogue
    except (ImportError, AttributeError):
        return None
    try:
        return load_catalogue(prices_file)
    except (RenderError, OSError, ValueError) as exc:
        # Rates fall back to the ledger's history and the default prior; estimates say more.
        log.warning("price catalogue unusable for interruption bands: %s", exc)
        return None


def pool_interruption_rate(
    client: Any,
    pool: Pool,
    now: float,
    *,
    history: Iterable[LedgerNode] | None = None,
    prices_file: str | None = None,
) -> float | None:
    """Interruptions per node-hour of a spot pool (interruptions.interruption_rate over the
    ledger's last RATE_WINDOW_SECONDS, seeded with the catalogue's band); None on demand."""
    if not pool.spot:
        return None
    if history is None:
        history = Ledger(client).history(since=now - RATE_WINDOW_SECONDS)
    return interruption_rate(history, pool.name, catalogue_band(pool, prices_file), now)


def job_demands(store: JobStore) -> tuple[JobDemand, ...]:
    """The remaining work of every unfinished job."""
    demands = []
    for job_id in store.active():
        try:
            job = store.get(job_id)
        except JobNotFound:
            continue
        if job.state in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED):
            continue
        left = max(job.frames - job.frames_done, 0)
        if job.state in (JobState.QUEUED, JobState.PLANNING) and job.frames == 0:
            left = 1  # not planned yet: some work is coming
        running = sum(1 for c in job.chunks if c.state is ChunkState.RUNNING)
        demands.append(
            JobDemand(
                id=job.id,
                units=left * max(job.complexity, 0.01),
                deadline=job.deadline,
                priority=job.priority,
                max_cost=job.max_cost,
                cost_so_far=job.node_seconds / 3600 * job.hourly_rate,
                running_chunks=running,
                prefers_gpu=job.gpu,
                submitted_at=job.submitted_at,
            )
        )
    return tuple(demands)


@dataclass
class PoolView:
    """One pool as seen this tick."""

    pool: Pool
    state: PoolState
    #: the engine's nodes (None: the engine could not be asked; the pool is left alone)
    engine_nodes: list[ProviderNode] | None
    #: ledger records of the pool's live nodes, by id
    ledger: dict[str, LedgerNode]
    #: heartbeats of the pool's nodes, by instance id
    beats: dict[str, dict[str, Any]]
    error: str | None = None

    def views(self, client: Any, now: float) -> list[NodeView]:
        """The pool's live nodes as the decision sees them."""
        found = []
        for node_id, record in sorted(self.ledger.items()):
            beat = self.beats.get(node_id)
            name = record.name or (beat or {}).get("name")
            if record.draining_at is not None:
                state = NodeState.DRAINING
            elif record.booted_at is None:
                state = NodeState.BOOTING
            else:
                state = NodeState.RUNNING
            busy = int((beat or {}).get("busy") or 0)
            notice = bool(name and client.exists(keys.evict(name)))
            found.append(
                NodeView(
                    id=node_id,
                    pool=self.pool.name,
                    state=state,
                    requested_at=record.requested_at,
                    booted_at=record.booted_at,
                    slots=int((beat or {}).get("concurrency") or self.pool.concurrency),
                    busy_slots=busy,
                    idle_since=None if busy else (record.idle_since or now),
                    notice=notice,
                    seen_at=record.seen_at,
                )
            )
        return found


def reconcile(
    ledger: Ledger,
    pool: Pool,
    engine_nodes: list[ProviderNode],
    beats: Mapping[str, dict[str, Any]],
    now: float,
) -> dict[str, LedgerNode]:
    """Bring the ledger in line with the engine and the heartbeats: record new nodes, first
    heartbeats, idle times and interruption notices, and end nodes the engine no longer has (a
    noticed one as interrupted). Returns the live ones."""
    present = {n.id: n for n in engine_nodes if n.state != TERMINATING}
    for node in engine_nodes:
        if node.id not in present:
            continue
        if ledger.requested(node.id, pool, node.launched_at or now):
            log.info("pool %s: node %s requested", pool.name, node.id)
    live = {n.id: n for n in ledger.live() if n.pool == pool.name}
    for node_id, record in list(live.items()):
        if node_id not in present:
            # Terminated by its engine or its cloud (spot reclaim, crash): billing ends now.
            ledger.terminated(node_id, now, INTERRUPTED if record.noticed_at is not None else GONE)
            del live[node_id]
            continue
        beat = beats.get(node_id)
        if beat is not None and record.booted_at is None:
            ledger.booted(node_id, str(beat["name"]), float(beat.get("since") or now))
        if beat is not None or (record.booted_at is not None and record.seen_at is None):
            # The autoscaler's own clock, not the beat's: a worker's skewed clock cannot make
            # a live node look lost. A record without it (an older ledger) starts counting now.
            ledger.set_fields(node_id, seen_at=now)
        busy = int((beat or {}).get("busy") or 0)
        if beat is not None and busy and record.idle_since is not None:
            ledger.set_fields(node_id, idle_since=None)
        elif beat is not None and not busy and record.idle_since is None:
            ledger.set_fields(node_id, idle_since=now)
        name = record.name or (beat or {}).get("name")
        if name and record.noticed_at is None:
            notice = ledger.redis.get(keys.evict(str(name)))
            if notice is not None and notice != DRAIN_EVICTION:
                ledger.noticed(node_id, now)
                log.info(
                    "pool %s: node %s has an interruption notice (%s)", pool.name, node_id, notice
                )
        refreshed = ledger.get(node_id)
        if refreshed is not None:
            live[node_id] = refreshed
    return live


def pool_beats(heartbeats: Mapping[str, dict[str, Any]], pool: str) -> dict[str, dict[str, Any]]:
    """Heartbeats of a pool's nodes, by the instance id they report."""
    return {
        str(beat["instance"]): beat
        for beat in heartbeats.values()
        if beat.get("pool") == pool and beat.get("instance")
    }
