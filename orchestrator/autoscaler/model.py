"""The plain data the autoscaler decides from and answers with; no I/O here.

Work is counted in *units*: a frame times its complexity (``chunking.complexity``). A pool's
``seconds_per_unit`` is what one worker slot of its node class takes per unit (learned from
finished chunks, orchestrator.costing), so a job's remaining work on a pool is
``units x seconds_per_unit / concurrency`` node-seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class NodeState(StrEnum):
    """Where a node is in its life, as the ledger knows it."""

    #: asked of the engine, no heartbeat yet
    BOOTING = "booting"
    #: heartbeating and taking chunks
    RUNNING = "running"
    #: chosen for removal: takes no new chunk, finishes (or hands back) what it runs
    DRAINING = "draining"
    #: gone (terminated by us, by the engine or by its cloud)
    TERMINATED = "terminated"


@dataclass(frozen=True)
class JobDemand:
    """What one unfinished job still needs."""

    id: str
    #: frames not yet done x the job's complexity per frame
    units: float
    #: epoch seconds the job must be done by, or None
    deadline: float | None = None
    #: "low", "normal", "high", "urgent"
    priority: str = "normal"
    #: the submitter's ceiling in dollars, and what the job has cost so far
    max_cost: float | None = None
    cost_so_far: float = 0.0
    #: chunks running now (their nodes are busy)
    running_chunks: int = 0
    #: needs a node with a GPU (a GPU-only effect, or a hardware codec asked for)
    needs_gpu: bool = False
    #: exported with hardware acceleration: a GPU pool when the fleet has one that takes it,
    #: else any (the dispatcher sends it to GPU render groups the same way)
    prefers_gpu: bool = False
    #: epoch seconds it was submitted (older jobs first when capacity is short)
    submitted_at: float = 0.0


@dataclass(frozen=True)
class NodeView:
    """One node of a pool, from the ledger and its heartbeat."""

    id: str
    pool: str
    state: NodeState
    #: epoch seconds it was requested from the engine
    requested_at: float
    #: epoch seconds of its first heartbeat (None while booting)
    booted_at: float | None = None
    #: worker slots, and how many run a chunk now
    slots: int = 1
    busy_slots: int = 0
    #: epoch seconds since which no slot has run a chunk (None: busy now)
    idle_since: float | None = None
    #: its cloud announced an interruption (spot pre-emption): it will be gone soon
    notice: bool = False
    #: epoch seconds (the autoscaler's clock) its heartbeat was last seen; None: never
    seen_at: float | None = None


@dataclass(frozen=True)
class PoolState:
    """What the autoscaler remembers of one pool between ticks."""

    #: the size the engine holds now
    desired: int = 0
    #: epoch seconds of the last increase and the last decrease of `desired`
    last_scale_up: float | None = None
    last_scale_down: float | None = None
    #: boots that failed in a row (no heartbeat within the boot limit); reset by a good boot
    launch_failures: int = 0
    #: launches the engine accepted and never made since the last good boot (capacity refused,
    #: a quota): no boot failed, so they are counted apart from `launch_failures`
    refused_launches: int = 0
    #: no launches before this epoch second (back-off after repeated failures)
    backoff_until: float | None = None
    #: epoch seconds since which the engine has held fewer nodes than its size (launches it
    #: accepted but did not make: spot capacity refused, a quota); None: it holds them all
    short_since: float | None = None
    #: an operator's `cluster scale POOL N`, in force until `override_until`
    override: int | None = None
    override_until: float | None = None
    #: measured seconds of one slot per unit of work on this pool's node class
    seconds_per_unit: float = 0.05
    #: a spot pool's interruptions per node-hour (interruptions.interruption_rate: the ledger's
    #: history with the catalogue's band as prior); None: not measured, the decision assumes
    #: interruptions.DEFAULT_RATE for a spot pool
    interruption_rate: float | None = None


@dataclass(frozen=True)
class Snapshot:
    """Everything one decision looks at, read once per tick."""

    jobs: tuple[JobDemand, ...] = ()
    nodes: tuple[NodeView, ...] = ()
    pools: Mapping[str, PoolState] = field(default_factory=dict)
    #: dollars per hour spent right now (every live node x its price)
    spend_per_hour: float = 0.0


#: Policy names: finish the queue within a target time, hold every deadline, or spend least.
POLICIES = ("queue", "deadline", "cost")


@dataclass(frozen=True)
class Policy:
    """How the autoscaler trades time for money ([autoscaler] in the pools file)."""

    #: "queue": finish queued work within `target_seconds`; "deadline": also enough nodes that
    #: every deadline holds, counting boot time; "cost": the fewest nodes that hold deadlines,
    #: never above the budget
    name: str = "deadline"
    #: seconds the queue-driven policy aims to finish all queued work in
    target_seconds: float = 600.0
    #: dollars per hour the whole fleet may cost (None: no cap)
    hourly_budget: float | None = None
    #: seconds after a scale-up before the next scale-up, and after any change before a
    #: scale-down (hysteresis: capacity is added fast and removed slowly)
    scale_up_cooldown: float = 30.0
    scale_down_cooldown: float = 120.0
    #: seconds a node must have been idle before it may be drained
    idle_timeout: float = 60.0
    #: seconds a draining node may finish its chunks before they are handed back
    drain_timeout: float = 600.0
    #: a node without a first heartbeat after boot_seconds x this factor failed to boot
    boot_timeout_factor: float = 3.0
    #: seconds a booted node may send no heartbeat (worker hung or dead, machine still up)
    #: before it is terminated as lost and replaced: its engine still bills it
    lost_timeout: float = 120.0
    #: failed boots in a row after which a pool backs off, and for how long (seconds)
    max_launch_failures: int = 3
    backoff_seconds: float = 600.0
    #: node-seconds an interruption costs a spot job besides re-rendering its running chunk
    #: (a replacement's boot: at least the pool's boot_seconds)
    interruption_seconds: float = 180.0
    #: the probability with which a job placed on spot must still make its deadline, counting
    #: interruptions (a Poisson process at the pool's interruption rate); below it, on demand
    confidence: float = 0.95
    #: seconds a manual override (cluster scale POOL N) lasts unless given
    override_seconds: float = 3600.0


@dataclass(frozen=True)
class Decision:
    """The autoscaler's answer: the size each pool should have, and why."""

    #: pool name -> nodes it should hold (booting and running, not draining)
    desired: Mapping[str, int]
    #: pool name -> one line saying what drove the number (shown by `cluster pools`, --dry-run)
    reasons: Mapping[str, str] = field(default_factory=dict)
    #: job id -> the pool chosen for its remaining work
    placement: Mapping[str, str] = field(default_factory=dict)
    #: job id (with a deadline) -> the probability its deadline holds on that pool (1.0 on
    #: demand when it fits, 0.0 when it cannot fit anywhere)
    odds: Mapping[str, float] = field(default_factory=dict)
