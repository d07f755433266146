"""``cloudrender cluster status|scale N``: what the cluster has now, and resizing its pools."""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from typing import Any

from cli.cluster_access import cluster_api, cluster_view
from cli.pool_commands import add_pool_parser, describe_pools, parse_duration, scale_pool
from cli.status_view import plural
from common.errors import RenderError
from common.units import format_duration

#: How long ``scale`` waits, by default, for the heartbeats to report the new size.
DEFAULT_WAIT = 15.0
_POLL = 0.5


def add_cluster_parser(sub: Any) -> None:
    """Add ``cluster status`` and ``cluster scale N`` to the command line's subcommands."""
    cluster = sub.add_parser("cluster", help="the cluster's nodes and slots; scale its pools")
    actions = cluster.add_subparsers(dest="action", required=True)
    status = actions.add_parser("status", help="live nodes, slots, queued chunks, active jobs")
    status.add_argument("--json", action="store_true")
    status.add_argument("--broker", help="Redis URL (default: $CLOUDRENDER_BROKER_URL)")
    status.set_defaults(handler=cluster_status)
    add_pool_parser(actions)
    scale = actions.add_parser(
        "scale",
        help="scale POOL N: hold an autoscaled pool at N nodes (auto: hand it back); scale N: "
        "grow or shrink the running workers' process pools to N slots in all",
    )
    scale.add_argument("target", nargs="+", metavar="[POOL] N")
    scale.add_argument(
        "--for",
        dest="duration",
        type=parse_duration,
        help="how long a pool override lasts (e.g. 30m, 2h; default 1h)",
    )
    scale.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT,
        help=f"seconds to wait for the heartbeats to show N slots (default {DEFAULT_WAIT:g}; 0: "
        "do not wait)",
    )
    scale.add_argument("--broker", help="Redis URL (default: $CLOUDRENDER_BROKER_URL)")
    scale.set_defaults(handler=cluster_scale)


def cluster_status(args: argparse.Namespace) -> int:
    """Print the live nodes with their slots and heartbeats, and the cluster's totals."""
    from cli.job_commands import STATUS_PATIENCE
    from orchestrator.store_retry import redis_deadline

    api = cluster_view(args)
    with redis_deadline(STATUS_PATIENCE):  # read-only: a dead broker is said at once (exit 3)
        status = api.get_cluster_status()
    if args.json:
        print(json.dumps(dataclasses.asdict(status), indent=2))
        return 0
    # Heartbeats carry the cluster's time (Redis's clock), not this machine's.
    now = api.store.now()
    print(describe(status, now))
    if status.pools:
        print(describe_pools(status.pools, now))
    return 0


def cluster_scale(args: argparse.Namespace) -> int:
    """Hold a pool at N nodes, or ask the nodes to grow or shrink their process pools and wait
    until the heartbeats agree."""
    api = cluster_api(args)
    if len(args.target) == 2:
        return scale_pool(api, args.target[0], args.target[1], args.duration)
    if len(args.target) != 1:
        raise RenderError("cluster scale takes N (slots) or POOL N (nodes)")
    try:
        args.slots = int(args.target[0])
    except ValueError:
        raise RenderError(
            f"{args.target[0]!r} is not a number of slots; to scale a pool: cluster scale POOL N"
        ) from None
    changes = api.scale_cluster(args.slots)
    if not changes:
        print(f"the cluster already has {plural(args.slots, 'slot')}")
        return 0
    for node, change in changes.items():
        print(f"{node}: {change:+d} slot{'s' * (abs(change) != 1)}")
    deadline = time.monotonic() + max(args.wait, 0.0)
    status = api.get_cluster_status()
    while status.slots != args.slots and time.monotonic() < deadline:
        time.sleep(_POLL)
        status = api.get_cluster_status()
    if args.wait > 0 and status.slots != args.slots:
        raise RenderError(
            f"asked for {plural(args.slots, 'slot')}, but after {args.wait:g}s the heartbeats "
            f"report {status.slots}; check the workers' logs"
        )
    print(describe(status, api.store.now()))
    return 0


def describe(status: Any, now: float) -> str:
    """The cluster as a few lines of text: totals, then one line per node.

    The totals count render nodes; an orchestrator's pool plans jobs and is listed with its
    role but is no render slot.
    """
    nodes = status.nodes
    workers = sum(1 for n in nodes if _role(n) == "render")
    others = len(nodes) - workers
    lines = [
        f"{plural(status.slots, 'slot')} on {plural(workers, 'node')}"
        + (f" (+{others} not rendering)" if others else "")
        + f", {plural(status.queued_chunks, 'chunk')} waiting, {status.active_jobs} active "
        f"job{'s' * (status.active_jobs != 1)}"
    ]
    if nodes:
        width = max(len("NODE"), *(len(n.name) for n in nodes))
        lines.append(f"{'NODE':<{width}}  ROLE          SLOTS  PID      UP        HEARTBEAT")
        for n in nodes:
            lines.append(
                f"{n.name:<{width}}  {_role(n):<12}  {n.concurrency:>5}  {n.pid:<7}  "
                f"{format_duration(now - n.since):<8}  {max(now - n.last_heartbeat, 0.0):.1f}s ago"
            )
    return "\n".join(lines)


def _role(node: Any) -> str:
    return str(getattr(node, "role", "render"))
