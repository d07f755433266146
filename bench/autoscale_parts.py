"""The simulated farm's records (``bench/autoscale_sim.py``): a node's life, the farm at one
tick, and what a run cost and how its jobs went."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.autoscale_trace import Job
from orchestrator.autoscaler.billing import node_cost
from orchestrator.autoscaler.ledger import DRAINED, INTERRUPTED, LedgerNode
from providers.compute.pools import Pool


@dataclass
class Node:
    """One simulated node."""

    id: str
    pool: Pool
    requested: float
    ready_at: float | None  # None: it never boots
    booted: float | None = None
    slots: list[Job | None] = field(default_factory=list)
    draining: bool = False
    notice_at: float | None = None
    ended: float | None = None
    idle_since: float | None = None

    def ledger(self, now: float) -> LedgerNode:
        """The node's life as the autoscaler's ledger would record it."""
        if self.ended is None:
            outcome = None
        else:
            outcome = INTERRUPTED if self.notice_at is not None else DRAINED
        return LedgerNode(
            id=self.id, pool=self.pool.name, provider=self.pool.provider,
            market=self.pool.market, price_per_hour=self.pool.price_per_hour,
            slots=self.pool.concurrency, requested_at=self.requested, booted_at=self.booted,
            terminated_at=self.ended, outcome=outcome, noticed_at=self.notice_at,
        )  # fmt: skip

    def takes_work(self) -> bool:
        """Whether a free slot may take a chunk."""
        return self.booted is not None and not self.draining and self.notice_at is None


@dataclass
class Sample:
    """The farm at one tick."""

    time: float
    queued_hours: float
    nodes: int
    spend: float


@dataclass
class Result:
    """What a run cost and how its jobs went."""

    name: str
    jobs: list[Job]
    nodes: list[Node]
    samples: list[Sample]
    end: float
    launches: int = 0
    failed: int = 0
    notices: int = 0
    lost_chunks: int = 0
    #: units of work re-rendered (chunks a reclaimed node was still running)
    lost_units: float = 0.0
    #: jobs with a deadline whose remaining work the autoscaler moved from a spot pool to an
    #: on-demand one, and those it ever counted on an on-demand pool
    moved: set[str] = field(default_factory=set)
    on_demand: set[str] = field(default_factory=set)
    #: pool -> the interruption rate the autoscaler had learned at the end
    rates: dict[str, float] = field(default_factory=dict)

    def cost(self) -> float:
        """Dollars billed for every node's life (per second, 60 s minimum)."""
        return sum(
            node_cost(
                n.requested, n.ended if n.ended is not None else self.end, n.pool.price_per_hour
            )
            for n in self.nodes
        )
