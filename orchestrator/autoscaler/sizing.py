"""The arithmetic of pool sizes, pure: what each pool has now and how many nodes a piece of work
needs by a given time, counting the time nodes not yet running take to boot.

Time is measured in seconds from ``now``. A node "ready at r" supplies ``max(0, T - r)``
node-seconds of work by time ``T``: a running node is ready at 0, a booting node when its boot
ends, a node not yet requested after its pool's ``boot_seconds``. Work is in node-seconds
(``units x seconds_per_unit / concurrency``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from orchestrator.autoscaler.model import JobDemand, NodeState, NodeView, PoolState, Snapshot
from providers.compute.pools import Pool

#: Slack for float sums (a node-second in a million is not worth a node).
EPSILON = 1e-6
#: One chunk of work in units: chunking.plan cuts ~8 s pieces of output, 30 fps, and a typical
#: frame is about 3.2 units (one 1080p layer plus a veryfast encode, chunking.weights); the
#: re-render a spot interruption costs is one such chunk (or the whole job, when smaller).
CHUNK_UNITS = 8 * 30 * 3.2
#: A booting node this many boot times after its request is not counted on to take work.
SUSPECT_BOOT = 1.5


@dataclass(frozen=True)
class Fleet:
    """One pool as a decision sees it: its config, its memory and what its nodes are doing."""

    pool: Pool
    state: PoolState
    #: nodes that take work: booting + running, without an interruption notice (launches the
    #: engine holds but has not listed yet count as booting)
    active: int
    #: active nodes running chunks now (never removable)
    busy: int
    #: active nodes removable by the normal rules: idle (a booting node: since requested) for
    #: at least the policy's idle_timeout
    idle: int
    #: draining nodes and nodes with an interruption notice: still billed, taking no new work
    draining: int
    noticed: int
    #: seconds from now until each active node counted on takes work, ascending
    ready: tuple[float, ...]
    #: active nodes not counted on: booting long past their boot time (they may never boot;
    #: failed_boots replaces them in the end). A size that needs nodes holds these on top.
    suspect: int = 0
    #: of the suspect ones, launches the engine accepted and has not made (not listed past a
    #: boot's time, or refused and backing off): capacity that may never come
    unmade: int = 0

    @property
    def name(self) -> str:
        """The pool's name."""
        return self.pool.name

    @property
    def boot(self) -> float:
        """Seconds a node requested now takes to take work."""
        return max(self.pool.boot_seconds, 0.0)

    @property
    def held(self) -> int:
        """Nodes that took work before the interruption notices (replacing them is no growth)."""
        return self.active + self.noticed

    @property
    def unit_price(self) -> float:
        """Dollars per hour for one unit of work a second: the pool's price per unit of work."""
        return self.pool.price_per_hour * self.state.seconds_per_unit / self.pool.concurrency

    def work(self, units: float) -> float:
        """Node-seconds `units` of work take on this pool."""
        return max(units, 0.0) * self.state.seconds_per_unit / self.pool.concurrency

    def chunk_seconds(self, job: JobDemand) -> float:
        """Seconds one slot takes to re-render one of the job's chunks here."""
        return min(max(job.units, 0.0), CHUNK_UNITS) * self.state.seconds_per_unit

    def spend(self, nodes: int) -> float:
        """Dollars per hour with `nodes` taking work (draining and noticed nodes bill too)."""
        return self.pool.price_per_hour * (nodes + self.draining + self.noticed)

    def reach(self, limit: int) -> tuple[float, ...]:
        """Ready times of the earliest nodes the pool could hold at `limit` nodes: its active
        nodes first, then new ones after a boot (suspect nodes take room, supply nothing)."""
        room = max(limit - self.suspect, 0)
        extra = max(room - len(self.ready), 0)
        return (self.ready + (self.boot,) * extra)[:room]

    def holding(self, need: int) -> int:
        """A size of `need` nodes counted on, plus the suspect ones the pool holds meanwhile."""
        return need + self.suspect if need > 0 else 0


def build_fleets(
    snapshot: Snapshot,
    pools: Mapping[str, Pool],
    idle_timeout: float,
    now: float,
    boot_timeout_factor: float = 3.0,
) -> dict[str, Fleet]:
    """Every configured pool's fleet from the snapshot's nodes and pool states."""
    by_pool: dict[str, list[NodeView]] = {name: [] for name in pools}
    for node in snapshot.nodes:
        if node.pool in by_pool and node.state is not NodeState.TERMINATED:
            by_pool[node.pool].append(node)
    return {
        name: _fleet(
            pool,
            snapshot.pools.get(name) or PoolState(),
            by_pool[name],
            idle_timeout,
            now,
            boot_timeout_factor,
        )
        for name, pool in pools.items()
    }


def _fleet(
    pool: Pool,
    state: PoolState,
    nodes: Sequence[NodeView],
    idle_timeout: float,
    now: float,
    boot_timeout_factor: float,
) -> Fleet:
    boot = max(pool.boot_seconds, 0.0)
    taking = [n for n in nodes if n.state in (NodeState.BOOTING, NodeState.RUNNING)]
    active = [n for n in taking if not n.notice]
    suspect = [n for n in active if _suspect(n, boot, now)]
    ready = [_ready_in(n, boot, now) for n in active if n not in suspect]
    # The engine was asked for more than it lists: those launches are on their way. Counting
    # them keeps a slow engine from being asked twice.
    unlisted = max(state.desired - len(nodes), 0)
    unmade = unlisted if _unmade(state, boot * boot_timeout_factor, now) else 0
    since = state.last_scale_up if state.last_scale_up is not None else now
    ready += [max(since + boot - now, 0.0)] * (unlisted - unmade)
    return Fleet(
        pool=pool,
        state=state,
        active=len(active) + unlisted,
        busy=sum(1 for n in active if n.busy_slots > 0),
        idle=sum(1 for n in active if idle_for(n, now) >= idle_timeout),
        draining=sum(1 for n in nodes if n.state is NodeState.DRAINING),
        noticed=sum(1 for n in taking if n.notice),
        ready=tuple(sorted(ready)),
        suspect=len(suspect) + unmade,
        unmade=unmade,
    )


def clock_safe(state: PoolState, now: float, backoff_seconds: float) -> PoolState:
    """The pool's memory with times from after `now` (the clock went back since they were
    stored) taken as unknown: a scale-up "in the future" held every increase in its cooldown
    until the clock caught up, and a shortfall "since the future" was never found (its
    launches counted as on their way); a back-off lasts at most `backoff_seconds` from now."""

    def past(value: float | None) -> float | None:
        return value if value is None or value <= now else None

    backoff = state.backoff_until
    if backoff is not None:
        backoff = min(backoff, now + backoff_seconds)
    return replace(
        state,
        last_scale_up=past(state.last_scale_up),
        last_scale_down=past(state.last_scale_down),
        short_since=past(state.short_since),
        backoff_until=backoff,
    )


def _unmade(state: PoolState, limit: float, now: float) -> bool:
    """Whether the launches the engine has not listed are not to be counted on: the pool backs
    off (the engine refused launches: spot capacity, a quota), or it has held fewer nodes than
    its size for longer than a boot may take (`limit`, as for a failed boot). The shell re-asks
    for them once per boot time, so ``last_scale_up`` alone would make them look fresh forever."""
    if state.backoff_until is not None and now < state.backoff_until:
        return True
    since = state.short_since
    if since is None:
        return False
    return now - since > limit


def _ready_in(node: NodeView, boot: float, now: float) -> float:
    if node.state is NodeState.RUNNING:
        return 0.0
    return max(node.requested_at + boot - now, 0.0)


def _suspect(node: NodeView, boot: float, now: float) -> bool:
    """A boot long overdue: counting on it would let a deadline slip while it may never come."""
    return node.state is NodeState.BOOTING and now - node.requested_at > boot * SUSPECT_BOOT


def idle_for(node: NodeView, now: float) -> float:
    """Seconds a node has done nothing: a busy node 0, a booting node since it was requested."""
    if node.busy_slots > 0:
        return 0.0
    if node.state is NodeState.BOOTING:
        return max(now - node.requested_at, 0.0)
    since = node.idle_since
    if since is None:
        since = node.booted_at if node.booted_at is not None else node.requested_at
    return max(now - since, 0.0)


def capacity(ready: Sequence[float], horizon: float) -> float:
    """Node-seconds nodes ready at `ready` supply by `horizon` seconds from now."""
    return sum(max(horizon - r, 0.0) for r in ready)


def nodes_for(work: float, horizon: float, ready: Sequence[float], boot: float) -> int | None:
    """The fewest nodes that supply `work` node-seconds by `horizon`: the active nodes that are
    ready first, then new ones (ready after `boot`). None when no number of nodes can."""
    if work <= EPSILON:
        return 0
    supplied = 0.0
    for count, r in enumerate(sorted(ready), start=1):
        supplied += max(horizon - r, 0.0)
        if supplied >= work - EPSILON:
            return count
    per_new = horizon - boot
    if per_new <= EPSILON:
        return None
    return len(ready) + max(math.ceil((work - supplied) / per_new - EPSILON), 1)


def earliest_finish(work: float, ready: Sequence[float]) -> float:
    """Seconds from now at which nodes ready at `ready` finish `work` together (inf if none)."""
    if work <= EPSILON:
        return 0.0
    times = sorted(ready)
    total = 0.0
    for count, r in enumerate(times, start=1):
        total += r
        finish = (work + total) / count
        if count == len(times) or finish <= times[count]:
            return finish
    return math.inf
