"""The Python API's view of autoscaled pools: their status and an operator's override."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.errors import RenderError
from orchestrator.autoscaler.ledger import Ledger, spend_by_pool
from orchestrator.autoscaler.observe import load_pool_state, set_override
from orchestrator.autoscaler.status import pool_records
from orchestrator.cluster_clock import ClusterClock
from providers.compute.pools import PoolsConfig


@dataclass(frozen=True)
class PoolStatus:
    """One pool as the autoscaler last left it."""

    name: str
    provider: str
    market: str
    instance_type: str = ""
    gpu: str | None = None
    min_nodes: int = 0
    max_nodes: int = 0
    price_per_hour: float = 0.0
    #: nodes the autoscaler wants taking work, and the nodes it has
    desired: int = 0
    booting: int = 0
    running: int = 0
    draining: int = 0
    spend_per_hour: float = 0.0
    #: what drove `desired`, in one line
    reason: str = ""
    #: an operator's override and until when (epoch seconds)
    override: int | None = None
    override_until: float | None = None
    #: no launches before this (repeated failed boots), and the engine's last error
    backoff_until: float | None = None
    error: str | None = None
    #: when the autoscaler last looked at it (epoch seconds; None: never yet)
    updated: float | None = None
    #: dollars its nodes cost over the ledger's history, and the part no chunk used
    cost: float = 0.0
    idle_node_seconds: float = 0.0


def pool_statuses(client: Any, config: PoolsConfig | None = None) -> list[PoolStatus]:
    """Every pool the orchestrator's autoscaler reports, plus those of a local pools file it has
    not looked at yet."""
    now = ClusterClock(client).now()  # the clock the ledger and the autoscaler go by
    spend = spend_by_pool(Ledger(client).history(), now)
    found: dict[str, PoolStatus] = {}
    for record in pool_records(client):
        name = str(record.get("pool"))
        totals = spend.get(name)
        found[name] = PoolStatus(
            name=name,
            provider=str(record.get("provider", "")),
            market=str(record.get("market", "")),
            instance_type=str(record.get("instance_type") or ""),
            gpu=record.get("gpu"),
            min_nodes=int(record.get("min_nodes") or 0),
            max_nodes=int(record.get("max_nodes") or 0),
            price_per_hour=float(record.get("price_per_hour") or 0.0),
            desired=int(record.get("desired") or 0),
            booting=int(record.get("booting") or 0),
            running=int(record.get("running") or 0),
            draining=int(record.get("draining") or 0),
            spend_per_hour=float(record.get("spend_per_hour") or 0.0),
            reason=str(record.get("reason") or ""),
            override=record.get("override"),
            override_until=record.get("override_until"),
            backoff_until=record.get("backoff_until"),
            error=record.get("error"),
            updated=record.get("time"),
            cost=totals.cost if totals else 0.0,
            idle_node_seconds=totals.idle_node_seconds if totals else 0.0,
        )
    for name, pool in config.pools.items() if config else ():
        if name in found:
            continue
        state = load_pool_state(client, name)
        found[name] = PoolStatus(
            name=name,
            provider=pool.provider,
            market=pool.market,
            instance_type=pool.instance_type,
            gpu=pool.gpu,
            min_nodes=pool.min_nodes,
            max_nodes=pool.max_nodes,
            price_per_hour=pool.price_per_hour,
            reason="not yet seen by an autoscaler (is `cloudrender orchestrator` running with "
            "this pools file?)",
            override=state.override,
            override_until=state.override_until,
        )
    return [found[name] for name in sorted(found)]


#: The longest override: a lasting size belongs in the pools file (min_nodes, max_nodes).
MAX_OVERRIDE_SECONDS = 366 * 86400


def override_pool(
    client: Any, pool: str, nodes: int | None, seconds: float, known: list[PoolStatus]
) -> PoolStatus:
    """Hold `pool` at `nodes` for `seconds` (None: back to the autoscaler's own decision)."""
    match = next((p for p in known if p.name == pool), None)
    if match is None:
        names = ", ".join(p.name for p in known) or "none"
        raise RenderError(f"no pool named {pool!r} (pools: {names})")
    if nodes is not None:
        if nodes < 0:
            raise RenderError(f"pool {pool}: a pool cannot hold {nodes} nodes")
        if nodes > match.max_nodes:  # 0 is a maximum too: the decision holds such a pool at 0
            raise RenderError(
                f"pool {pool}: {nodes} nodes is above its max_nodes ({match.max_nodes}); "
                "raise max_nodes in the pools file first"
            )
        if nodes < match.min_nodes:
            # The engine refuses a size below its minimum (or replaces what is terminated).
            raise RenderError(
                f"pool {pool}: {nodes} nodes is below its min_nodes ({match.min_nodes}); "
                "lower min_nodes in the pools file first"
            )
        if not seconds > 0:
            raise RenderError(f"an override needs a positive duration, not {seconds:g} s")
        if seconds > MAX_OVERRIDE_SECONDS:
            raise RenderError(
                f"an override lasts at most {MAX_OVERRIDE_SECONDS // 86400} days, not "
                f"{seconds:.3g} s; for a lasting size set min_nodes/max_nodes in the pools file"
            )
    # The autoscaler compares it with the cluster's clock: a caller whose clock ran an hour
    # behind had a 30-minute override expire before it began.
    until = ClusterClock(client).now() + seconds if nodes is not None else None
    set_override(client, pool, nodes, until)
    return PoolStatus(**{**match.__dict__, "override": nodes, "override_until": until})
