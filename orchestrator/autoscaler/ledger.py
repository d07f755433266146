"""The node ledger: every node's life in the job store, and what it cost.

A node is recorded when the autoscaler first sees it at its engine (``requested``), gets its
first heartbeat (``booted``), is chosen for removal (``draining``) and is gone
(``terminated``, with an outcome: drained, cancelled, failed-boot, interrupted, gone); a spot
notice its worker announces is recorded when first seen (``noticed``), and a noticed node that
then disappears ended by an interruption (the history spot pools' interruption rates are learned
from, interruptions.py). Its cost is its billable
seconds (billing.py: per second, 60 s minimum, boot and idle included) at its pool's price.
Chunks add their seconds to the node that ran them (``busy_seconds``), so a job's cost is its
chunks' share of node time and the rest of a node's time is reported as idle.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orchestrator import keys
from orchestrator.autoscaler.billing import node_cost, running_cost
from providers.compute.pools import Pool

#: Seconds terminated nodes stay in the ledger (billing reports look back this far).
KEEP_SECONDS = 90 * 24 * 3600

#: How a node's life ended.
DRAINED = "drained"
#: removed while still booting because the work no longer needed it
CANCELLED = "cancelled"
FAILED_BOOT = "failed-boot"
GONE = "gone"
#: booted, then silent for Policy.lost_timeout while its engine still held (and billed) it
LOST = "lost"
#: reclaimed by its cloud after an interruption notice (spot pre-emption)
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class LedgerNode:
    """One node's recorded life."""

    id: str
    pool: str
    provider: str
    market: str
    #: dollars per node-hour, and worker slots (a chunk's share is its seconds / slots)
    price_per_hour: float
    slots: int
    requested_at: float
    booted_at: float | None = None
    #: the heartbeat name of its worker (render@host...), once booted
    name: str | None = None
    draining_at: float | None = None
    terminated_at: float | None = None
    outcome: str | None = None
    #: slot-seconds its chunks ran
    busy_seconds: float = 0.0
    protected: bool = False
    idle_since: float | None = None
    #: epoch seconds its cloud's interruption notice was first seen
    noticed_at: float | None = None
    #: epoch seconds (the autoscaler's clock) its heartbeat was last seen
    seen_at: float | None = None

    def cost(self, now: float) -> float:
        """Dollars this node has cost (its whole billed life once terminated)."""
        if self.terminated_at is not None:
            return node_cost(self.requested_at, self.terminated_at, self.price_per_hour)
        return running_cost(self.requested_at, now, self.price_per_hour)

    def node_seconds(self, now: float) -> float:
        """Seconds of life so far (unrounded; billing applies the minimum)."""
        end = self.terminated_at if self.terminated_at is not None else now
        return max(end - self.requested_at, 0.0)

    def idle_seconds(self, now: float) -> float:
        """Node-seconds no chunk used (boot time included)."""
        return max(self.node_seconds(now) - self.busy_seconds / max(self.slots, 1), 0.0)


_FLOATS = (
    "requested_at",
    "booted_at",
    "draining_at",
    "terminated_at",
    "idle_since",
    "noticed_at",
    "seen_at",
)


def _parse(node_id: str, raw: dict[str, str]) -> LedgerNode | None:
    if not raw or "pool" not in raw:
        return None

    def opt(name: str) -> float | None:
        value = raw.get(name)
        return float(value) if value not in (None, "") else None

    return LedgerNode(
        id=node_id,
        pool=raw["pool"],
        provider=raw.get("provider", ""),
        market=raw.get("market", "on-demand"),
        price_per_hour=float(raw.get("price_per_hour") or 0.0),
        slots=int(raw.get("slots") or 1),
        requested_at=float(raw["requested_at"]),
        booted_at=opt("booted_at"),
        name=raw.get("name") or None,
        draining_at=opt("draining_at"),
        terminated_at=opt("terminated_at"),
        outcome=raw.get("outcome") or None,
        busy_seconds=float(raw.get("busy_seconds") or 0.0),
        protected=raw.get("protected") == "1",
        idle_since=opt("idle_since"),
        noticed_at=opt("noticed_at"),
        seen_at=opt("seen_at"),
    )


class Ledger:
    """Node lives in Redis (keys.LEDGER_*)."""

    def __init__(self, client: Any) -> None:
        self.redis = client

    def requested(self, node_id: str, pool: Pool, at: float) -> bool:
        """Record a node the engine started for `pool`; False if it was already recorded."""
        key = keys.ledger_node(node_id)
        fields = {
            "pool": pool.name,
            "provider": pool.provider,
            "market": pool.market,
            "price_per_hour": repr(pool.price_per_hour),
            "slots": str(pool.concurrency),
            "requested_at": repr(at),
        }
        if not self.redis.hsetnx(key, "requested_at", repr(at)):
            ended = self.redis.hget(key, "terminated_at")
            if ended is None:
                return False
            # An engine that brings a node back under its old id (GCP's recreateInstances):
            # the ended life is kept under its own id, and a new one begins.
            old = f"{node_id}~{float(ended):.3f}"
            self.redis.rename(key, keys.ledger_node(old))
            self.redis.zadd(
                keys.LEDGER_NODES,
                {old: float(self.redis.hget(keys.ledger_node(old), "requested_at"))},
            )
            self.redis.zrem(keys.LEDGER_NODES, node_id)
            return self.requested(node_id, pool, at)
        pipe = self.redis.pipeline()
        pipe.hset(key, mapping=fields)
        pipe.zadd(keys.LEDGER_NODES, {node_id: at})
        pipe.sadd(keys.LEDGER_LIVE, node_id)
        pipe.execute()
        return True

    def booted(self, node_id: str, name: str, at: float) -> None:
        """Record a node's first heartbeat (once)."""
        key = keys.ledger_node(node_id)
        if self.redis.hsetnx(key, "booted_at", repr(at)):
            self.redis.hset(key, "name", name)

    def draining(self, node_id: str, at: float) -> None:
        """Record that a node was chosen for removal (once)."""
        self.redis.hsetnx(keys.ledger_node(node_id), "draining_at", repr(at))

    def undrain(self, node_id: str) -> None:
        """Forget a drain that was called off."""
        self.redis.hdel(keys.ledger_node(node_id), "draining_at")

    def noticed(self, node_id: str, at: float) -> bool:
        """Record that a node's cloud announced its interruption (once); whether this was new."""
        key = keys.ledger_node(node_id)
        if not self.redis.hexists(key, "pool"):
            return False
        return bool(self.redis.hsetnx(key, "noticed_at", repr(at)))

    def terminated(self, node_id: str, at: float, outcome: str) -> None:
        """Record a node's end (once); it leaves the live set."""
        key = keys.ledger_node(node_id)
        if self.redis.hsetnx(key, "terminated_at", repr(at)):
            self.redis.hset(key, "outcome", outcome)
        self.redis.srem(keys.LEDGER_LIVE, node_id)

    def set_fields(self, node_id: str, **fields: Any) -> None:
        """Update bookkeeping fields (protected, idle_since); None deletes one."""
        key = keys.ledger_node(node_id)
        gone = [name for name, value in fields.items() if value is None]
        kept = {
            name: ("1" if value else "0") if isinstance(value, bool) else repr(value)
            for name, value in fields.items()
            if value is not None
        }
        if kept:
            self.redis.hset(key, mapping=kept)
        if gone:
            self.redis.hdel(key, *gone)

    def add_busy(self, node_id: str, seconds: float) -> None:
        """Charge `seconds` of one slot to a node (a chunk, audio or merge ran there)."""
        key = keys.ledger_node(node_id)
        if seconds > 0 and self.redis.hexists(key, "pool"):
            self.redis.hincrbyfloat(key, "busy_seconds", seconds)

    def get(self, node_id: str) -> LedgerNode | None:
        """One node's record, or None."""
        return _parse(node_id, self.redis.hgetall(keys.ledger_node(node_id)))

    def live(self) -> list[LedgerNode]:
        """Nodes not yet terminated."""
        return self._many(sorted(self.redis.smembers(keys.LEDGER_LIVE)))

    def history(self, since: float = 0.0) -> list[LedgerNode]:
        """Every recorded node requested since `since` (epoch seconds), oldest first."""
        return self._many(self.redis.zrangebyscore(keys.LEDGER_NODES, since, "+inf"))

    def prune(self, now: float | None = None) -> int:
        """Drop terminated nodes older than KEEP_SECONDS; return how many."""
        now = time.time() if now is None else now
        old = self.redis.zrangebyscore(keys.LEDGER_NODES, 0, now - KEEP_SECONDS)
        dropped = 0
        for node_id in old:
            if not self.redis.sismember(keys.LEDGER_LIVE, node_id):
                self.redis.delete(keys.ledger_node(node_id))
                self.redis.zrem(keys.LEDGER_NODES, node_id)
                dropped += 1
        return dropped

    def _many(self, ids: Iterable[str]) -> list[LedgerNode]:
        pipe = self.redis.pipeline()
        ids = list(ids)
        for node_id in ids:
            pipe.hgetall(keys.ledger_node(node_id))
        found = []
        for node_id, raw in zip(ids, pipe.execute(), strict=True):
            node = _parse(node_id, raw)
            if node is not None:
                found.append(node)
        return found


@dataclass(frozen=True)
class PoolSpend:
    """One pool's money over a period, from the ledger."""

    pool: str
    nodes: int
    node_seconds: float
    busy_node_seconds: float
    idle_node_seconds: float
    cost: float


def spend_by_pool(nodes: Iterable[LedgerNode], now: float) -> dict[str, PoolSpend]:
    """Node-seconds, idle node-seconds and dollars per pool."""
    totals: dict[str, list[float]] = {}
    for node in nodes:
        t = totals.setdefault(node.pool, [0, 0.0, 0.0, 0.0, 0.0])
        seconds = node.node_seconds(now)
        idle = node.idle_seconds(now)
        t[0] += 1
        t[1] += seconds
        t[2] += seconds - idle
        t[3] += idle
        t[4] += node.cost(now)
    return {pool: PoolSpend(pool, int(t[0]), t[1], t[2], t[3], t[4]) for pool, t in totals.items()}
