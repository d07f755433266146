"""A render farm in simulated time, for ``bench/autoscale.py``: a day's job trace
(``bench/autoscale_trace.py``), nodes that boot, render chunks, get spot notices and are billed,
driven by a fixed fleet or by the real autoscaler (``orchestrator.autoscaler.decide``:
``decide``, ``choose_victims``, ``failed_boots``) and the real scheduler
(``orchestrator.scheduling``: each free slot takes the next chunk that ``choose_dispatch`` picks
among the jobs at their ``effective_priority``).

Nothing sleeps: each tick advances the clock, and within a tick chunks finish and slots take
the next chunk at their exact times (a heap of events). The autoscaler's shell is played here
the way ``orchestrator.autoscaler.loop`` plays it: raise a pool's size, drain the victims
(a draining node takes no new chunk and leaves when idle), replace failed boots and back off.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Mapping
from dataclasses import replace

from bench.autoscale_parts import Node, Result, Sample
from bench.autoscale_trace import Job, rate_of
from bench.node_speed import CPU_RATE
from orchestrator.autoscaler.decide import decide
from orchestrator.autoscaler.interruptions import interruption_rate
from orchestrator.autoscaler.model import (
    JobDemand,
    NodeState,
    NodeView,
    Policy,
    PoolState,
    Snapshot,
)
from orchestrator.autoscaler.removal import choose_victims, failed_boots
from orchestrator.scheduling import (
    Candidate,
    DueJob,
    choose_dispatch,
    edf_levels,
    effective_priority,
)
from providers.compute.pools import Pool

#: A spot node's chance of an interruption notice per hour, and the notice's length.
SPOT_NOTICES_PER_HOUR = 0.05
NOTICE_SECONDS = 120.0
#: A launch that never boots (no heartbeat: a bad image, a full zone).
FAILED_BOOT_CHANCE = 0.02
#: Simulated time after the day for the queue to drain, at most.
OVERTIME = 12 * 3600.0
#: Ticks between re-learning the spot pools' interruption rates from the nodes' history.
RATE_EVERY = 20


class Farm:
    """The simulated cluster: the autoscaler decides each tick, or the fleet is fixed.

    Spot nodes get notices at `notice_rate` per node-hour and are reclaimed `notice_seconds`
    later (one figure, or one per provider: a fleet over several clouds). With `bands` (spot
    pool -> the catalogue's interruption band, or None) the autoscaler learns each spot pool's
    interruption rate from the nodes' history the way the orchestrator does
    (``interruptions.interruption_rate``); without, it assumes the default rate.
    """

    def __init__(
        self, name: str, jobs: list[Job], pools: Mapping[str, Pool], seed: int, tick: float,
        policy: Policy | None = None, fixed: Mapping[str, int] | None = None,
        notice_rate: float = SPOT_NOTICES_PER_HOUR,
        notice_seconds: float | Mapping[str, float] = NOTICE_SECONDS,
        bands: Mapping[str, tuple[float, float] | None] | None = None,
        edf_escalation: bool = True,
    ) -> None:  # fmt: skip
        self.pools, self.policy, self.tick = dict(pools), policy, tick
        self.notice_rate, self.notice_seconds = notice_rate, notice_seconds
        self.bands = dict(bands) if bands is not None else None
        #: False: each job at its own escalation, as before 2026-12-07 (to compare)
        self.edf_escalation = edf_escalation
        self.ticks = 0
        #: job id -> the pool the last decision counted it on
        self.placement: dict[str, str] = {}
        self.rng = random.Random(seed * 7919 + 1)
        self.jobs = [replace(j, pending=j.chunks) for j in jobs]
        self.result = Result(name, self.jobs, [], [], 0.0)
        self.live: dict[str, Node] = {}
        self.states = {
            name: PoolState(seconds_per_unit=rate_of(pool)) for name, pool in self.pools.items()
        }
        #: (time, order, kind, node id, slot) of what happens in the current tick
        self.events: list[tuple[float, int, str, str, int]] = []
        self.order = 0
        self.window_end = 0.0
        #: (node id, slot) -> when its chunk ends
        self.busy_until: dict[tuple[str, int], float] = {}
        self.serial = 0
        for pool_name, count in (fixed or {}).items():
            for _ in range(count):
                node = self._launch(self.pools[pool_name], 0.0, boots=True)
                node.booted = node.idle_since = 0.0

    def run(self, hours: float) -> Result:
        """Simulate until the day's jobs are done and the fleet has drained (or overtime)."""
        now, arrived = 0.0, 0
        while now < hours * 3600 + OVERTIME:
            while arrived < len(self.jobs) and self.jobs[arrived].submitted <= now:
                arrived += 1
            waiting = [j for j in self.jobs[:arrived] if j.finished is None]
            if self.policy is not None:
                self._autoscale(waiting, now)
            self._advance(now, now + self.tick, waiting)
            self._sample(now, waiting)
            now += self.tick
            day_over = arrived == len(self.jobs) and now >= hours * 3600
            if day_over and all(j.finished is not None for j in self.jobs):
                if self.policy is None or not self.live:
                    break
        self.result.end = now
        for node in self.live.values():
            node.ended = now
        self.result.rates = {
            name: state.interruption_rate
            for name, state in self.states.items()
            if state.interruption_rate is not None
        }
        return self.result

    # -- nodes ---------------------------------------------------------------------------------

    def _launch(self, pool: Pool, now: float, boots: bool | None = None) -> Node:
        self.serial += 1
        if boots is None:
            boots = self.rng.random() >= FAILED_BOOT_CHANCE
        ready = now + pool.boot_seconds if boots else None
        node = Node(f"{pool.name}-{self.serial}", pool, now, ready)
        node.slots = [None] * pool.concurrency
        self.live[node.id] = node
        self.result.nodes.append(node)
        self.result.launches += 1
        return node

    def _end(self, node: Node, when: float) -> None:
        node.ended = when
        self.live.pop(node.id, None)
        for slot in range(len(node.slots)):
            self.busy_until.pop((node.id, slot), None)

    def _views(self) -> list[NodeView]:
        views = []
        for node in self.live.values():
            busy = sum(1 for s in node.slots if s is not None)
            if node.booted is None:
                state = NodeState.BOOTING
            else:
                state = NodeState.DRAINING if node.draining else NodeState.RUNNING
            views.append(
                NodeView(node.id, node.pool.name, state, node.requested, node.booted,
                         node.pool.concurrency, busy, None if busy else node.idle_since,
                         node.notice_at is not None)
            )  # fmt: skip
        return views

    def _autoscale(self, waiting: list[Job], now: float) -> None:
        """One round of the shell around the real decision."""
        assert self.policy is not None
        for node_id in failed_boots(self._views(), self.pools, self.policy, now):
            node = self.live[node_id]
            self._end(node, now)
            self.result.failed += 1
            state = self.states[node.pool.name]
            failures = state.launch_failures + 1
            backoff = state.backoff_until
            if failures >= self.policy.max_launch_failures:
                backoff = now + self.policy.backoff_seconds
            self.states[node.pool.name] = replace(
                state, launch_failures=failures, backoff_until=backoff
            )
            self._launch(node.pool, now)  # the engine replaces it
        if self.bands is not None and self.ticks % RATE_EVERY == 0:
            self._learn_rates(now)
        self.ticks += 1
        views = self._views()
        demands = tuple(
            JobDemand(j.id, j.left_units, j.deadline, j.priority, running_chunks=j.running,
                      needs_gpu=j.needs_gpu, submitted_at=j.submitted)
            for j in waiting
        )  # fmt: skip
        snapshot = Snapshot(jobs=demands, nodes=tuple(views), pools=dict(self.states))
        decision = decide(snapshot, self.pools, self.policy, now)
        due = {j.id for j in waiting if j.deadline is not None}
        for job_id, pool_name in decision.placement.items():
            before = self.placement.get(job_id)
            if job_id in due and not self.pools[pool_name].spot:
                self.result.on_demand.add(job_id)
                if before is not None and self.pools[before].spot:
                    self.result.moved.add(job_id)
            self.placement[job_id] = pool_name
        for name, pool in self.pools.items():
            desired = decision.desired[name]
            taking = [
                v for v in views
                if v.pool == name and v.state is not NodeState.DRAINING and not v.notice
            ]  # fmt: skip
            state = self.states[name]
            if desired > len(taking):
                for _ in range(desired - len(taking)):
                    self._launch(pool, now)
                state = replace(state, last_scale_up=now)
            elif desired < len(taking):
                victims = choose_victims(views, name, len(taking) - desired, now, self.policy)
                for node_id in victims:
                    node = self.live[node_id]
                    node.draining = True
                    if node.booted is None or all(s is None for s in node.slots):
                        self._end(node, now)
                if victims:
                    state = replace(state, last_scale_down=now)
            self.states[name] = state

    def _learn_rates(self, now: float) -> None:
        """Each spot pool's interruption rate from its nodes' lives so far and its band."""
        assert self.bands is not None
        history = [n.ledger(now) for n in self.result.nodes if n.pool.spot]
        for name, pool in self.pools.items():
            if pool.spot:
                rate = interruption_rate(history, name, self.bands.get(name), now)
                self.states[name] = replace(self.states[name], interruption_rate=rate)

    # -- work ----------------------------------------------------------------------------------

    def _advance(self, start: float, end: float, waiting: list[Job]) -> None:
        """Boots, notices, chunk ends and dispatches in [start, end), in time order."""
        self.window_end = end
        for node in list(self.live.values()):
            if node.booted is None and node.ready_at is not None and node.ready_at < end:
                self._push(max(node.ready_at, start), "boot", node.id)
            if node.pool.spot and node.notice_at is None and node.booted is not None:
                if self.rng.random() < self.notice_rate * self.tick / 3600:
                    node.notice_at = start
                    self.result.notices += 1
            notice = self._notice(node.pool)
            if node.notice_at is not None and node.notice_at + notice < end:
                self._push(max(node.notice_at + notice, start), "gone", node.id)
            if node.takes_work():
                for slot, job in enumerate(node.slots):
                    if job is None:
                        self._push(start, "free", node.id, slot)
        for (node_id, slot), finish in self.busy_until.items():
            if finish < end:
                self._push(finish, "done", node_id, slot)
        while self.events:
            when, _, kind, node_id, slot = heapq.heappop(self.events)
            live = self.live.get(node_id)
            if live is not None:
                self._event(when, kind, live, slot, waiting)

    def _notice(self, pool: Pool) -> float:
        if isinstance(self.notice_seconds, Mapping):
            return self.notice_seconds[pool.provider]
        return self.notice_seconds

    def _push(self, when: float, kind: str, node_id: str, slot: int = -1) -> None:
        self.order += 1
        heapq.heappush(self.events, (when, self.order, kind, node_id, slot))

    def _event(self, when: float, kind: str, node: Node, slot: int, waiting: list[Job]) -> None:
        if kind == "boot":
            node.booted = node.idle_since = when
            name = node.pool.name
            self.states[name] = replace(self.states[name], launch_failures=0)
            for s in range(len(node.slots)):
                self._dispatch(when, node, s, waiting)
        elif kind == "gone":  # the spot node is reclaimed: its running chunks are re-queued
            for job in node.slots:
                if job is not None:
                    job.running -= 1
                    job.pending += 1
                    self.result.lost_chunks += 1
                    self.result.lost_units += job.chunk_units
            self._end(node, when)
        elif kind == "done":
            job = node.slots[slot]
            if job is None or self.busy_until.get((node.id, slot)) != when:
                return
            del self.busy_until[(node.id, slot)]
            node.slots[slot] = None
            job.running -= 1
            job.done += 1
            if job.done == job.chunks:
                job.finished = when
            if node.draining and all(s is None for s in node.slots):
                self._end(node, when)
            else:
                self._dispatch(when, node, slot, waiting)
        else:
            self._dispatch(when, node, slot, waiting)

    def _dispatch(self, when: float, node: Node, slot: int, waiting: list[Job]) -> None:
        """The slot takes the next chunk the real scheduler picks, or idles."""
        if not node.takes_work() or node.slots[slot] is not None:
            return
        gpu = node.pool.has_gpu
        open_jobs = [j for j in waiting if j.pending > 0 and (gpu or not j.needs_gpu)]
        if gpu and any(j.needs_gpu for j in open_jobs):
            open_jobs = [j for j in open_jobs if j.needs_gpu]
        if not open_jobs:
            if node.idle_since is None and all(s is None for s in node.slots):
                node.idle_since = when
            return
        # The orchestrator's tick escalates a job whose deadline nears (its ETA here: the
        # remaining work on one CPU node) and passes that on to the jobs due sooner
        # (edf_levels); the dispatcher serves the highest level, in turns.
        due = [
            DueJob(j.id, j.priority, effective_priority(j.priority, j.deadline, when, j.eta()),
                   j.deadline)
            for j in waiting
            if j.deadline is not None and j.finished is None
        ]  # fmt: skip
        levels = edf_levels(due) if self.edf_escalation else {d.job_id: d.level for d in due}
        candidates = [
            Candidate(j.id, levels.get(j.id, j.priority), j.pending, j.last_dispatch, j.submitted)
            for j in open_jobs
        ]
        chosen = choose_dispatch(candidates, [0, 0, 0, 0], 1)[0][0]
        job = next(j for j in open_jobs if j.id == chosen)
        job.pending -= 1
        job.running += 1
        job.last_dispatch = when
        job.started = when if job.started is None else job.started
        node.slots[slot] = job
        node.idle_since = None
        finish = when + job.chunk_units * rate_of(node.pool)
        self.busy_until[(node.id, slot)] = finish
        if finish < self.window_end:
            self._push(finish, "done", node.id, slot)

    def _sample(self, now: float, waiting: list[Job]) -> None:
        queued = sum(j.left_units for j in waiting) * CPU_RATE / 4 / 3600
        spend = sum(n.pool.price_per_hour for n in self.live.values())
        self.result.samples.append(Sample(now, queued, len(self.live), spend))
