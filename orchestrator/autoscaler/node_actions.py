"""What an autoscaler round does to single nodes: drain one chosen for removal (it takes no new
chunk and finishes, or after ``drain_timeout`` hands back, what it runs), call a drain off,
terminate a drained node, and shield busy nodes from the engine's own scale-in."""

from __future__ import annotations

import functools
from collections.abc import Callable

from orchestrator import keys
from orchestrator.autoscaler.ledger import CANCELLED, DRAINED, Ledger
from orchestrator.autoscaler.model import NodeState, NodeView, Policy
from orchestrator.autoscaler.observe import PoolView
from orchestrator.job_store import JobStore
from providers.compute import ComputeProvider
from providers.compute.base import TERMINATING
from providers.compute.pools import Pool

#: Seconds a drain key outlives its hand-back time (a node that never reads it is lost anyway).
DRAIN_KEY_SLACK = 600


class NodeActions:
    """One round's acts on single nodes; with ``dry_run`` only the calls are listed."""

    def __init__(self, store: JobStore, ledger: Ledger, policy: Policy, *, dry_run: bool) -> None:
        self.store = store
        self.redis = store.redis
        self.ledger = ledger
        self.policy = policy
        self.dry_run = dry_run

    def drain(
        self,
        pool: Pool,
        engine: ComputeProvider,
        node: NodeView,
        view: PoolView,
        now: float,
        do: Callable[[str, Callable[[], None]], None],
    ) -> None:
        """Drain a node chosen for removal (a booting one is terminated: nothing to finish)."""
        record = view.ledger.get(node.id)
        name = record.name if record is not None else None
        if node.state is NodeState.BOOTING or name is None:
            # Never took work: nothing to finish.
            do(
                f"terminate {pool.name} {node.id} (not needed while booting)",
                lambda: engine.terminate(pool, node.id),
            )
            if not self.dry_run:
                self.ledger.terminated(node.id, now, CANCELLED)
            return
        hand_back = now + self.policy.drain_timeout
        do(f"drain {pool.name} {node.id} ({name})", lambda: None)
        if not self.dry_run:
            ttl = int(self.policy.drain_timeout) + DRAIN_KEY_SLACK
            self.redis.set(keys.drain(name), repr(hand_back), ex=ttl)
            self.ledger.draining(node.id, now)

    def undrain(
        self,
        pool: Pool,
        node: NodeView,
        view: PoolView,
        do: Callable[[str, Callable[[], None]], None],
    ) -> None:
        """Call a node's drain off: it takes chunks again."""
        record = view.ledger.get(node.id)
        do(f"undrain {pool.name} {node.id} (needed again)", lambda: None)
        if not self.dry_run and record is not None:
            if record.name:
                self.redis.delete(keys.drain(record.name))
            self.ledger.undrain(node.id)

    def finish_drain(
        self,
        pool: Pool,
        engine: ComputeProvider,
        node: NodeView,
        view: PoolView,
        now: float,
        do: Callable[[str, Callable[[], None]], None],
    ) -> None:
        """Terminate a drained node (or one gone silent while draining)."""
        beat = view.beats.get(node.id)
        record = view.ledger.get(node.id)
        if beat is not None and not beat.get("drained"):
            return  # still finishing (or handing back) its chunks
        do(f"terminate {pool.name} {node.id} (drained)", lambda: engine.terminate(pool, node.id))
        if not self.dry_run:
            self.ledger.terminated(node.id, self.store.now(), DRAINED)
            if record is not None and record.name:
                self.redis.delete(keys.drain(record.name))

    def protect(
        self,
        pool: Pool,
        engine: ComputeProvider,
        nodes: list[NodeView],
        view: PoolView,
        do: Callable[[str, Callable[[], None]], None],
    ) -> None:
        """Shield busy nodes from the engine's own scale-in, and expose idle ones."""
        for wanted in (True, False):
            ids = [
                n.id
                for n in nodes
                if (n.busy_slots > 0) == wanted
                and n.state is not NodeState.BOOTING
                and view.ledger.get(n.id) is not None
                and view.ledger[n.id].protected != wanted
                and any(e.id == n.id and e.state != TERMINATING for e in view.engine_nodes or [])
            ]
            if not ids:
                continue
            verb = "protect" if wanted else "unprotect"
            do(
                f"{verb} {pool.name} {' '.join(ids)}",
                functools.partial(engine.protect, pool, ids, wanted),
            )
            if not self.dry_run:
                for node_id in ids:
                    self.ledger.set_fields(node_id, protected=wanted)
