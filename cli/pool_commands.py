"""``cloudrender cluster pools`` and ``cluster scale POOL N``: the autoscaled pools, an
operator's override, and a dry run of the autoscaler's next round."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
from typing import Any

from cli.cluster_access import cluster_api
from common.errors import RenderError
from common.units import format_duration

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds from "90", "90s", "30m", "2h" or "1d"."""
    match = _DURATION.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 90s, 30m, 2h)")
    return float(match.group(1)) * _UNITS[match.group(2)]


def add_pool_parser(actions: Any) -> None:
    """Add ``cluster pools`` to the cluster command's actions."""
    pools = actions.add_parser(
        "pools", help="autoscaled pools: desired, booting, running, draining, spend, why"
    )
    pools.add_argument("--json", action="store_true")
    pools.add_argument(
        "--dry-run",
        action="store_true",
        help="decide now from this machine's pools file (CLOUDRENDER_POOLS_FILE) and print the "
        "decision and the engine calls it would make, without making them",
    )
    pools.add_argument("--broker", help="Redis URL (default: $CLOUDRENDER_BROKER_URL)")
    pools.set_defaults(handler=cluster_pools)


def cluster_pools(args: argparse.Namespace) -> int:
    """Print every pool, or (``--dry-run``) what the autoscaler would do now."""
    api = cluster_api(args)
    if args.dry_run:
        return _dry_run(api, args.json)
    pools = api.get_pools()
    if args.json:
        print(json.dumps([dataclasses.asdict(p) for p in pools], indent=2))
        return 0
    print(describe_pools(pools, api.store.now()) if pools else "no autoscaled pools")
    return 0


def scale_pool(api: Any, pool: str, count: str, duration: float | None) -> int:
    """``cluster scale POOL N|auto``: hold a pool at N nodes, or hand it back."""
    nodes: int | None
    if count == "auto":
        nodes = None
    else:
        try:
            nodes = int(count)
        except ValueError:
            raise RenderError(
                f"N must be a whole number of nodes or 'auto', not {count!r}"
            ) from None
    status = api.scale_pool(pool, nodes, duration)
    if nodes is None:
        print(f"{pool}: back to the autoscaler's decision")
    else:
        now = api.store.now()  # the cluster's clock, as override_until is
        left = (status.override_until or now) - now
        print(
            f"{pool}: held at {nodes} node{'s' * (nodes != 1)} for {format_duration(left)} "
            "(the orchestrator's next autoscaler round applies it; scale-in drains first)"
        )
    return 0


def describe_pools(pools: list[Any], now: float) -> str:
    """Pools as a table with one line of reasons under it."""
    width = max(len("POOL"), *(len(p.name) for p in pools))
    lines = [
        f"{'POOL':<{width}}  ENGINE      MARKET     TYPE            MIN-MAX  WANT  BOOT  RUN  "
        "DRAIN  $/HOUR"
    ]
    for p in pools:
        lines.append(
            f"{p.name:<{width}}  {p.provider:<10}  {p.market:<9}  {p.instance_type[:14]:<14}  "
            f"{f'{p.min_nodes}-{p.max_nodes}':>7}  {p.desired:>4}  {p.booting:>4}  "
            f"{p.running:>3}  {p.draining:>5}  {p.spend_per_hour:>6.2f}"
        )
    total = sum(p.spend_per_hour for p in pools)
    lines.append(f"spend now: ${total:.2f}/hour")
    for p in pools:
        notes = [p.reason] if p.reason else []
        if p.override is not None and (p.override_until or 0) > now:
            notes.append(
                f"held at {p.override} by an operator for "
                f"{format_duration((p.override_until or now) - now)}"
            )
        if p.backoff_until and p.backoff_until > now:
            notes.append(f"backing off launches for {format_duration(p.backoff_until - now)}")
        if p.error:
            notes.append(f"engine error: {p.error}")
        if p.updated is not None:
            notes.append(f"seen {format_duration(now - p.updated)} ago")
        if notes:
            lines.append(f"  {p.name}: " + "; ".join(notes))
    return "\n".join(lines)


def _dry_run(api: Any, as_json: bool) -> int:
    from orchestrator.autoscaler.loop import Autoscaler

    scaler = Autoscaler.from_settings(api.store, api.settings, dry_run=True)
    if scaler is None:
        raise RenderError(
            "no pools file: set CLOUDRENDER_POOLS_FILE to the pools file the orchestrator uses"
        )
    result = scaler.run()
    if as_json:
        print(
            json.dumps(
                {
                    "desired": dict(result.decision.desired),
                    "reasons": dict(result.decision.reasons),
                    "placement": dict(result.decision.placement),
                    "calls": result.calls,
                    "errors": result.errors,
                },
                indent=2,
            )
        )
        return 0
    for pool, desired in sorted(result.decision.desired.items()):
        why = result.decision.reasons.get(pool, "")
        print(f"{pool}: {desired} node{'s' * (desired != 1)} ({why})")
    for pool, error in sorted(result.errors.items()):
        print(f"{pool}: left alone: {error}")
    print("would call:" if result.calls else "no engine calls needed")
    for call in result.calls:
        print(f"  {call}")
    return 0
