"""The autoscaler's shell, run on the orchestrator's tick: observe, decide, act.

Each round: ask every pool's engine for its nodes, reconcile them with the ledger and the
heartbeats (observe.py), read the job store's remaining work, ``decide`` (pure), then act:
replace nodes that never booted, raise a pool's size at its engine, drain the nodes chosen for
removal (they take no new chunk and finish, or after ``drain_timeout`` hand back, what they
run), terminate drained nodes one by one (the engine lowers its size with each), and protect
busy nodes from the engine's own scale-in. With ``dry_run`` the calls are listed, not made.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.autoscaler.decide import decide
from orchestrator.autoscaler.ledger import FAILED_BOOT, LOST, Ledger
from orchestrator.autoscaler.model import Decision, NodeState, NodeView, Policy, Snapshot
from orchestrator.autoscaler.node_actions import NodeActions
from orchestrator.autoscaler.observe import (
    RATE_WINDOW_SECONDS,
    PoolView,
    job_demands,
    load_pool_state,
    pool_beats,
    pool_interruption_rate,
    reconcile,
    save_pool_state,
    seconds_per_unit,
)
from orchestrator.autoscaler.policy import load_policy
from orchestrator.autoscaler.removal import choose_victims, failed_boots, lost_nodes, unlaunched
from orchestrator.autoscaler.sizing import clock_safe
from orchestrator.autoscaler.status import pool_records, priced_pools, publish, stray_pools
from orchestrator.job_store import JobStore
from providers.compute import ComputeError, ComputeProvider, open_compute
from providers.compute.base import TERMINATING
from providers.compute.pools import Pool, PoolsConfig, load_pools

log = logging.getLogger(__name__)


@dataclass
class Round:
    """What one autoscaler round decided and did."""

    decision: Decision
    #: engine calls made (or, in a dry run, that would be made), in order
    calls: list[str] = field(default_factory=list)
    #: pool -> why it was left alone this round (its engine failed)
    errors: dict[str, str] = field(default_factory=dict)


class Autoscaler:
    """Holds each pool at the size ``decide`` asks for, on the pool's engine."""

    def __init__(
        self,
        store: JobStore,
        config: PoolsConfig,
        policy: Policy,
        *,
        engines: Mapping[str, ComputeProvider] | None = None,
        context: Mapping[str, Any] | None = None,
        dry_run: bool = False,
        prices_file: str | None = None,
    ) -> None:
        self.store = store
        self.redis = store.redis
        self.pools: dict[str, Pool] = dict(config.pools)
        self.policy = policy
        self.ledger = Ledger(store.redis)
        self.dry_run = dry_run
        #: the refreshed price catalogue (speeds, interruption bands); None: the shipped one
        self.prices_file = prices_file
        self._context = dict(context or {})
        self._engines: dict[str, ComputeProvider] = dict(engines or {})

    @classmethod
    def from_settings(cls, store: JobStore, settings: Any, **kwargs: Any) -> Autoscaler | None:
        """The autoscaler the settings describe (None without a pools file)."""
        if not settings.pools_file:
            return None
        config = priced_pools(load_pools(settings.pools_file, settings.pool_overrides), settings)
        policy = load_policy(config.autoscaler, settings.autoscaler_overrides)
        context = {"broker_url": settings.broker_url, "storage_url": settings.storage_url}
        kwargs.setdefault("prices_file", settings.prices_file)
        return cls(
            store, config, policy, context={**context, **kwargs.pop("context", {})}, **kwargs
        )

    @property
    def acts(self) -> NodeActions:
        """What the round does to single nodes: drain, call a drain off, end, protect."""
        return NodeActions(self.store, self.ledger, self.policy, dry_run=self.dry_run)

    def engine(self, pool: Pool) -> ComputeProvider:
        """The engine that runs `pool` (opened once)."""
        if pool.name not in self._engines:
            engine = open_compute(pool, **self._context)
            if not self.dry_run:
                engine.ensure_pool(pool)  # creates the group on first use; idempotent
            self._engines[pool.name] = engine
        return self._engines[pool.name]

    # -- one round ------------------------------------------------------------------------------

    def observe(self, now: float) -> tuple[Snapshot, dict[str, PoolView]]:
        """Read every pool, the ledger and the job store into a snapshot."""
        heartbeats = self.store.heartbeats()
        views: dict[str, PoolView] = {}
        spot = any(p.spot for p in self.pools.values())
        history = self.ledger.history(since=now - RATE_WINDOW_SECONDS) if spot else []
        for name, pool in self.pools.items():
            stored = clock_safe(load_pool_state(self.redis, name), now, self.policy.backoff_seconds)
            state = dataclasses.replace(
                stored,
                seconds_per_unit=seconds_per_unit(self.redis, pool, self.prices_file),
                interruption_rate=pool_interruption_rate(
                    self.redis, pool, now, history=history, prices_file=self.prices_file
                ),
            )
            beats = pool_beats(heartbeats, name)
            try:
                engine_nodes = self.engine(pool).nodes(pool)
            except ComputeError as exc:
                live = {n.id: n for n in self.ledger.live() if n.pool == name}
                views[name] = PoolView(pool, state, None, live, beats, error=str(exc))
                continue
            live = reconcile(self.ledger, pool, engine_nodes, beats, now)
            views[name] = PoolView(pool, state, engine_nodes, live, beats)
        nodes = tuple(n for v in views.values() for n in v.views(self.redis, now))
        spend = sum(v.pool.price_per_hour * len(v.ledger) for v in views.values())
        snapshot = Snapshot(
            jobs=job_demands(self.store),
            nodes=nodes,
            pools={name: v.state for name, v in views.items()},
            spend_per_hour=spend,
        )
        return snapshot, views

    def run(self, now: float | None = None) -> Round:
        """One round: observe, decide, act; returns what was decided and done."""
        now = self.store.now() if now is None else now
        snapshot, views = self.observe(now)
        decision = decide(snapshot, self.pools, self.policy, now)
        result = Round(decision)
        for name, view in views.items():
            if view.error is not None:
                result.errors[name] = view.error
                continue
            nodes = [n for n in snapshot.nodes if n.pool == name]
            try:
                state = self._act(
                    view, nodes, decision.desired.get(name, 0), now, result.calls, result.errors
                )
            except ComputeError as exc:
                log.warning("pool %s: %s", name, exc)
                result.errors[name] = str(exc)
                continue
            view.state = state
            if not self.dry_run:
                save_pool_state(self.redis, name, state)
        live = self.ledger.live()
        for name, problem in stray_pools(live, self.pools, now).items():
            log.warning("pool %s: %s", name, problem)
            result.errors[name] = problem
        if not self.dry_run:
            publish(self.redis, live, decision, views, result.errors, now)
        return result

    def _act(
        self,
        view: PoolView,
        nodes: list[NodeView],
        desired: int,
        now: float,
        calls: list[str],
        errors: dict[str, str],
    ) -> Any:
        """Bring one pool to `desired` nodes taking work; returns its new PoolState (a
        refused growth is reported in `errors`, and the pool backs off)."""
        pool, state = view.pool, view.state
        engine = self.engine(pool)
        do = self._doer(calls)
        # 1. Nodes that never booted: terminate and replace them; repeated failures back off.
        state, refused = self._unlaunched(pool, engine, state, view, now, do)
        failed = set(failed_boots(nodes, {pool.name: pool}, self.policy, now))
        for node_id in sorted(failed):
            # Not replaced by the engine: the decision already held a suspect boot on top of
            # what the work needs (a replacement is under way), so it only drops out.
            do(
                f"terminate {pool.name} {node_id} (no heartbeat: failed boot)",
                functools.partial(engine.terminate, pool, node_id),
            )
            if not self.dry_run:
                self.ledger.terminated(node_id, now, FAILED_BOOT)
        if failed or refused:
            failures = state.launch_failures + len(failed)
            backoff = state.backoff_until
            # Capacity the engine refused backs off at once: it had a boot's time already,
            # and the work should move to another pool, not wait for more refusals.
            if failures >= self.policy.max_launch_failures or refused:
                backoff = now + self.policy.backoff_seconds
            state = dataclasses.replace(
                state,
                launch_failures=failures,
                refused_launches=state.refused_launches + refused,
                backoff_until=backoff,
            )
            if backoff is not None and backoff > now:
                # The decision was made before this back-off began: no growth this round either.
                desired = min(desired, len(nodes))
        elif any(n.booted_at is not None and n.booted_at >= now - 60 for n in nodes):
            state = dataclasses.replace(state, launch_failures=0, refused_launches=0)
        # 1b. Booted nodes gone silent (worker hung or dead, machine up): terminated, and
        # replaced below, as the decision counted them as capacity (their chunks were requeued
        # by the failover when their heartbeat lapsed).
        lost = set(lost_nodes(nodes, {pool.name: pool}, self.policy, now))
        for node_id in sorted(lost):
            do(
                f"terminate {pool.name} {node_id} (no heartbeat for "
                f"{self.policy.lost_timeout:g} s: lost)",
                functools.partial(engine.terminate, pool, node_id),
            )
            if not self.dry_run:
                self.ledger.terminated(node_id, now, LOST)
        nodes = [n for n in nodes if n.id not in failed and n.id not in lost]
        desired = max(desired - len(failed), 0)
        # 2. Size: nodes taking work vs the decision.
        taking = [n for n in nodes if n.state is not NodeState.DRAINING and not n.notice]
        leaving = [n for n in nodes if n.state is NodeState.DRAINING or n.notice]
        if desired > len(taking):
            # Warm nodes first: a drain not yet finished is called off before anything launches.
            # A noticed node leaves anyway: it must not take the place of a drain to call off.
            drained = [n for n in leaving if not n.notice]
            for node in drained[: desired - len(taking)]:
                self.acts.undrain(pool, node, view, do)
                taking.append(node)
                leaving.remove(node)
        if desired > len(taking):
            target = desired + len(leaving)
            present = sum(1 for n in view.engine_nodes or [] if n.state != TERMINATING)
            # The same size again only once the engine has had a boot's time to list what it
            # was asked for (an engine that starts missing nodes on being asked, as the local
            # one, replaces a dead node so): asking every round is API churn, and a throttled
            # SetDesiredCapacity fails the pool's round.
            asked = state.last_scale_up
            stale = asked is None or not 0 <= now - asked < pool.boot_seconds
            if target != engine.desired(pool) or (present < target and stale):
                try:
                    do(
                        f"set_desired {pool.name} {target} (+{desired - len(taking)})",
                        lambda: engine.set_desired(pool, target),
                    )
                except ComputeError as exc:
                    # Capacity or a quota the engine refused in the call (as Azure and GCP do):
                    # the pool backs off and its work moves on, as for launches it accepts and
                    # never makes (asked again every round, it refused every round while the
                    # work waited). What may pass soon (throttling, capacity) waits as long as
                    # an accepted launch may take to appear, not the whole back-off.
                    pause = self.policy.backoff_seconds
                    if exc.transient:
                        pause = min(pause, pool.boot_seconds * self.policy.boot_timeout_factor)
                    log.warning("pool %s: %s", pool.name, exc)
                    errors[pool.name] = f"{exc} (launches back off for {pause:g} s)"
                    state = dataclasses.replace(
                        state,
                        refused_launches=state.refused_launches + desired - len(taking),
                        backoff_until=now + pause,
                    )
                    return self._settle_rest(pool, engine, nodes, view, now, do, state)
                state = dataclasses.replace(state, desired=desired, last_scale_up=now)
                if not self.dry_run:
                    # Billing starts at the request: record the new nodes now, not next round.
                    for launched in engine.nodes(pool):
                        if launched.state != TERMINATING:
                            self.ledger.requested(launched.id, pool, launched.launched_at or now)
        elif desired < len(taking):
            # An operator's override is obeyed now: busy nodes drain too (their chunks finish
            # or are handed back), where the autoscaler's own decrease waits for idle ones.
            held = state.override is not None and (state.override_until or 0) > now
            victims = choose_victims(
                nodes, pool.name, len(taking) - desired, now, self.policy, busy_too=held
            )
            for node_id in victims:
                node = next(n for n in nodes if n.id == node_id)
                self.acts.drain(pool, engine, node, view, now, do)
            if victims:
                state = dataclasses.replace(state, desired=desired, last_scale_down=now)
        else:
            state = dataclasses.replace(state, desired=desired)
        return self._settle_rest(pool, engine, nodes, view, now, do, state)

    def _settle_rest(
        self,
        pool: Pool,
        engine: ComputeProvider,
        nodes: list[NodeView],
        view: PoolView,
        now: float,
        do: Callable[[str, Callable[[], None]], None],
        state: Any,
    ) -> Any:
        """Drained nodes go; busy ones are shielded from the engine's own scale-in."""
        for node in nodes:
            if node.state is NodeState.DRAINING:
                self.acts.finish_drain(pool, engine, node, view, now, do)
        self.acts.protect(pool, engine, nodes, view, do)
        return state

    def _unlaunched(
        self,
        pool: Pool,
        engine: ComputeProvider,
        state: Any,
        view: PoolView,
        now: float,
        do: Callable[[str, Callable[[], None]], None],
    ) -> tuple[Any, int]:
        """Launches the engine accepted and never made, counted as failed ones (so the pool
        backs off and its work moves to another pool); the engine's size comes back down to
        the nodes it holds, so it does not start nodes later that nobody asked for."""
        present = sum(1 for n in view.engine_nodes or [] if n.state != TERMINATING)
        asked = engine.desired(pool)
        state, refused = unlaunched(state, pool, asked, present, self.policy, now)
        # Never below min_nodes: an Auto Scaling group refuses that size (every round, so the
        # pool never backed off); the group goes on trying to hold its minimum itself.
        target = max(present, pool.min_nodes)
        if refused and target < asked:
            do(
                f"set_desired {pool.name} {target} (the engine made {present} of {asked} "
                f"nodes in {pool.boot_seconds * self.policy.boot_timeout_factor:g} s: "
                "capacity refused or a quota?)",
                functools.partial(engine.set_desired, pool, target),
            )
        if refused:
            log.warning(
                "pool %s: %d launch(es) never made by %s (no capacity, a quota?)",
                pool.name,
                refused,
                pool.provider,
            )
        return state, refused

    def _doer(self, calls: list[str]) -> Callable[[str, Callable[[], None]], None]:
        def do(description: str, action: Callable[[], None]) -> None:
            calls.append(description)
            if not self.dry_run:
                log.info("autoscaler: %s", description)
                action()

        return do


#: Re-exported: callers read the pools' status and prices from the autoscaler's module.
__all__ = ["Autoscaler", "Round", "pool_records", "priced_pools"]
