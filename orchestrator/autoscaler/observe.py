"""What the autoscaler sees each tick: pools' memory in Redis, the engines' nodes reconciled with
the ledger and the heartbeats, and the work the job store holds."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator import keys
from orchestrator.autoscaler.ledger import GONE, Ledger, LedgerNode
from orchestrator.autoscaler.model import JobDemand, NodeState, NodeView, PoolState
from orchestrator.costing import DEFAULT_THROUGHPUT, NODE_CLASS, load_throughput
from orchestrator.job_record import ChunkState, JobNotFound, JobState
from orchestrator.job_store import JobStore
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


def save_pool_state(client: Any, pool: str, state: PoolState) -> None:
    """Remember a pool's state for the next tick (an operator's override is left as it is)."""
    client.hset(
        keys.pool_state(pool),
        mapping={
            k: json.dumps(v)
            for k, v in dataclasses.asdict(state).items()
            if k not in OVERRIDE_FIELDS and k != "seconds_per_unit"
        },
    )


def set_override(client: Any, pool: str, nodes: int | None, until: float | None) -> None:
    """Hold `pool` at `nodes` until `until` (epoch seconds) whatever the decision; None clears."""
    key = keys.pool_state(pool)
    if nodes is None:
        client.hdel(key, *OVERRIDE_FIELDS)
        return
    client.hset(key, mapping={"override": json.dumps(nodes), "override_until": json.dumps(until)})


def seconds_per_unit(client: Any, pool: Pool) -> float:
    """Measured seconds of one slot per unit on the pool's node class (its own history first,
    then the cluster's, then the prior)."""
    learned = load_throughput(client, pool.name) or load_throughput(client, NODE_CLASS)
    return (learned or DEFAULT_THROUGHPUT).seconds_per_unit


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
    heartbeats and idle times, and end nodes the engine no longer has. Returns the live ones."""
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
            ledger.terminated(node_id, now, GONE)
            del live[node_id]
            continue
        beat = beats.get(node_id)
        if beat is not None and record.booted_at is None:
            ledger.booted(node_id, str(beat["name"]), float(beat.get("since") or now))
        busy = int((beat or {}).get("busy") or 0)
        if beat is not None and busy and record.idle_since is not None:
            ledger.set_fields(node_id, idle_since=None)
        elif beat is not None and not busy and record.idle_since is None:
            ledger.set_fields(node_id, idle_since=now)
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
