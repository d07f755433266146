"""``cloudrender worker|orchestrator|flower|dashboard``: the long-running processes of a cluster.

Each Celery node gets a name of its own (``render@host``, ``orchestrator@host``; a pid is added
when another live process of that role on the host has the name, see
``orchestrator.node_signals.claim_name``): Celery's default ``celery@host`` would make a worker
and the orchestrator on one host one node in the heartbeats, control commands and metrics.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from common.errors import RenderError
from common.settings import Settings


def add_node_parsers(sub: Any, positive: Callable[[str], int]) -> None:
    """Add the node commands to the command line's subcommands."""
    orch = sub.add_parser(
        "orchestrator", help="run beat, the orchestrator queue and the autoscaler"
    )
    orch.add_argument("--broker")
    orch.add_argument(
        "--dry-run",
        action="store_true",
        help="the autoscaler (CLOUDRENDER_POOLS_FILE) logs the engine calls it would make "
        "instead of making them",
    )
    orch.set_defaults(handler=run_orchestrator)

    dash = sub.add_parser("dashboard", help="live terminal dashboard of the cluster")
    dash.add_argument("--broker")
    dash.add_argument("--max-nodes", type=positive, help="the cluster's node ceiling to show")
    dash.set_defaults(handler=run_dashboard)

    flower = sub.add_parser("flower", help="run Flower (basic auth from CLOUDRENDER_FLOWER_AUTH)")
    flower.add_argument("--broker")
    flower.add_argument("--port", type=int, default=5555)
    flower.add_argument(
        "--address", default="127.0.0.1", help="interface to listen on (0.0.0.0 in a container)"
    )
    flower.set_defaults(handler=run_flower)

    worker = sub.add_parser("worker", help="run a render worker for a cluster")
    worker.add_argument("--broker", help="Redis URL (default: $CLOUDRENDER_BROKER_URL)")
    worker.add_argument(
        "--queues", default="render,audio,merge", help="comma-separated queues to consume"
    )
    worker.add_argument("--concurrency", type=positive, default=os.cpu_count() or 1)
    worker.set_defaults(handler=run_worker)


def run_worker(args: argparse.Namespace) -> int:
    """Run a render worker node until it is stopped."""
    from cli.worker_app import app
    from orchestrator.celery_app import configure
    from orchestrator.node_signals import ROLE_RENDER

    url = _node_broker(args)
    configure(url)
    argv = ["worker", "--queues", args.queues, "--concurrency", str(args.concurrency)]
    app.worker_main([*argv, "--hostname", _claim(url, ROLE_RENDER), "--loglevel", "INFO"])
    return 0


def run_orchestrator(args: argparse.Namespace) -> int:
    """Run beat and the orchestrator queue until stopped."""
    from cli.worker_app import app
    from common.names import QUEUE_ORCHESTRATOR
    from orchestrator.celery_app import configure
    from orchestrator.node_signals import ROLE_ORCHESTRATOR

    url = _node_broker(args)
    _check_pools(Settings.from_env())
    if getattr(args, "dry_run", False):
        # Read by each autoscaler round (common.settings) in the pool processes forked below.
        os.environ["CLOUDRENDER_AUTOSCALE_DRY_RUN"] = "1"
    configure(url)
    app.worker_main(
        [
            "worker",
            "--beat",
            "--queues",
            QUEUE_ORCHESTRATOR,
            "--concurrency",
            "2",
            "--hostname",
            _claim(url, ROLE_ORCHESTRATOR),
            "--loglevel",
            "INFO",
        ]
    )
    return 0


def _check_pools(settings: Settings) -> None:
    """Refuse to start with a broken pools file (one line naming the file, pool and field)."""
    if not settings.pools_file:
        return
    from orchestrator.autoscaler.policy import load_policy
    from providers.compute.pools import load_pools

    config = load_pools(settings.pools_file, settings.pool_overrides)
    load_policy(config.autoscaler, settings.autoscaler_overrides)


def _claim(url: str, role: str) -> str:
    """This process's node name, held in Redis until its first heartbeat replaces the claim."""
    from orchestrator.job_store import JobStore
    from orchestrator.node_signals import claim_name

    return claim_name(JobStore.from_url(url).redis, role)


def _node_broker(args: argparse.Namespace) -> str:
    """The broker of a worker or orchestrator node, which must also have storage of its own."""
    settings = Settings.from_env()
    url = args.broker or settings.broker_url
    if url is None:
        raise RenderError("no broker: pass --broker URL or set CLOUDRENDER_BROKER_URL")
    if settings.storage_url is None:
        # A node's storage comes from its own configuration, never from the jobs it is sent
        # (workers.job_policy): without one it would have to trust whatever a job names.
        raise RenderError(
            "no storage: set CLOUDRENDER_STORAGE_URL to the storage this cluster's nodes share "
            "(e.g. file:///shared/cloudrender or s3://bucket/prefix)"
        )
    return url


def run_dashboard(args: argparse.Namespace) -> int:
    """Run the live terminal dashboard."""
    from cli.job_commands import cluster_api
    from monitoring.dashboard import run_dashboard as dashboard

    return int(dashboard(cluster_api(args), max_nodes=args.max_nodes))


def run_flower(args: argparse.Namespace) -> int:
    """Run Flower in the foreground."""
    from monitoring.flower import run_flower as flower

    settings = Settings.from_env()
    url = args.broker or settings.broker_url
    if url is None:
        raise RenderError("no broker: pass --broker URL or set CLOUDRENDER_BROKER_URL")
    return flower(url, args.port, settings.flower_auth, address=args.address)
