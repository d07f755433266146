"""What the autoscaler tells the rest of the system: each round's outcome per pool (for
`cluster pools`, the dashboards and the KEDA gauge), and the prices of pools the file leaves
unpriced."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

from common.errors import RenderError
from orchestrator import keys
from orchestrator.autoscaler.ledger import LedgerNode
from orchestrator.autoscaler.model import Decision
from orchestrator.autoscaler.observe import PoolView
from providers.compute.pools import PoolConfigError, PoolsConfig, unpriced
from providers.compute.prices import load_catalogue

log = logging.getLogger(__name__)


def publish(
    client: Any,
    live: list[LedgerNode],
    decision: Decision,
    views: Mapping[str, PoolView],
    errors: Mapping[str, str],
    now: float,
) -> None:
    """Keep this round's outcome per pool for `cluster pools`, the dashboards and gauges."""
    mapping = {}
    for name, view in views.items():
        mine = [n for n in live if n.pool == name]
        record = {
            "pool": name,
            "provider": view.pool.provider,
            "market": view.pool.market,
            "instance_type": view.pool.instance_type,
            "gpu": view.pool.gpu,
            "min_nodes": view.pool.min_nodes,
            "max_nodes": view.pool.max_nodes,
            "price_per_hour": view.pool.price_per_hour,
            "desired": decision.desired.get(name, 0),
            "reason": decision.reasons.get(name, ""),
            "booting": sum(1 for n in mine if n.booted_at is None),
            "running": sum(1 for n in mine if n.booted_at is not None and n.draining_at is None),
            "draining": sum(1 for n in mine if n.draining_at is not None),
            "spend_per_hour": view.pool.price_per_hour * len(mine),
            "error": errors.get(name),
            "backoff_until": view.state.backoff_until,
            "override": view.state.override,
            "override_until": view.state.override_until,
            "time": now,
        }
        mapping[name] = json.dumps(record)
    for name, problem in errors.items():
        if name in views:
            continue
        # A pool gone from the pools file whose nodes still run (stray_pools): shown, so that
        # `cluster pools` and the spend total do not hide what it bills.
        mine = [n for n in live if n.pool == name]
        mapping[name] = json.dumps(
            {
                "pool": name,
                "provider": mine[0].provider if mine else "",
                "market": mine[0].market if mine else "",
                "desired": 0,
                "reason": problem,
                "booting": sum(1 for n in mine if n.booted_at is None),
                "running": sum(1 for n in mine if n.booted_at is not None),
                "spend_per_hour": sum(n.price_per_hour for n in mine),
                "error": problem,
                "time": now,
            }
        )
    if mapping:
        pipe = client.pipeline()
        pipe.delete(keys.AUTOSCALER)
        pipe.hset(keys.AUTOSCALER, mapping=mapping)
        pipe.execute()


def stray_pools(live: list[LedgerNode], pools: Mapping[str, Any], now: float) -> dict[str, str]:
    """Pools the ledger has live nodes of but the pools file no longer names (renamed or
    deleted while its nodes ran), with the one-line problem: no round looks at them (the file
    held the engine settings), so their engine keeps them, and bills them, until the pool is
    back in the file and scaled to 0."""
    found: dict[str, list[LedgerNode]] = {}
    for node in live:
        if node.pool not in pools:
            found.setdefault(node.pool, []).append(node)
    return {
        name: (
            f"not in the pools file, but {len(nodes)} node(s) of it still run at its "
            f"{nodes[0].provider or 'engine'} engine (${sum(n.price_per_hour for n in nodes):g}"
            f"/hour, the oldest for {(now - min(n.requested_at for n in nodes)) / 3600:.1f} h): "
            f"put [pools.{name}] back and run `cloudrender cluster scale {name} 0` to drain and "
            "remove them"
        )
        for name, nodes in sorted(found.items())
    }


def priced_pools(config: PoolsConfig, settings: Any) -> PoolsConfig:
    """Pools without a price of their own (price_per_hour 0) on a cloud engine take the price
    catalogue's figure for their type, region and market; PoolConfigError for one it does not
    list (the autoscaler's hourly budget and the job budgets would count its nodes as free)."""
    unpriced_pools = [
        p
        for p in config.pools.values()
        if p.price_per_hour == 0 and p.provider in ("aws", "gcp", "azure")
    ]
    if not unpriced_pools:
        return config
    try:
        catalogue = load_catalogue(settings.prices_file)
    except RenderError as exc:
        raise PoolConfigError(
            unpriced(unpriced_pools[0], f"has no price: the price catalogue is unreadable ({exc})")
        ) from None
    pools = dict(config.pools)
    for pool in unpriced_pools:
        pools[pool.name] = dataclasses.replace(pool, price_per_hour=catalogue.pool_price(pool))
    return dataclasses.replace(config, pools=pools)


def pool_records(client: Any) -> list[dict[str, Any]]:
    """The last round's outcome per pool (what publish kept), by pool name."""
    found = []
    for name, raw in sorted(client.hgetall(keys.AUTOSCALER).items()):
        try:
            found.append(json.loads(raw))
        except ValueError:
            log.warning("ignoring unreadable autoscaler record for pool %s", name)
    return found
