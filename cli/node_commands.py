"""``cloudrender worker|orchestrator|flower|dashboard``: the long-running processes of a cluster.

Each Celery node gets a name of its own (``render@host``, ``orchestrator@host``; a pid is added
when another live process of that role on the host has the name, see
``orchestrator.node_signals.claim_name``): Celery's default ``celery@host`` would make a worker
and the orchestrator on one host one node in the heartbeats, control commands and metrics.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cli.arguments import processes
from common.errors import RenderError
from common.settings import Settings

if TYPE_CHECKING:
    from workers.benchmark_result import BenchmarkResult

#: Frames of the node benchmark's slice: a few seconds on a 2-vCPU node.
BENCHMARK_FRAMES = 16
#: Celery's gossip and mingle, which nothing here uses: their event queues (celeryev.*) are
#: not the worker ACL user's (deploy/redis), and mingle holds every start for a second. The
#: private cluster's workers (orchestrator.local_workers) run without them too.
QUIET_NODE = ("--without-gossip", "--without-mingle")


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
        "--queues",
        type=queue_names,
        default="render,audio,merge",
        help="comma-separated queues to consume (render, audio, merge, orchestrator)",
    )
    # At most so many processes a core, as `render --workers`: 99999999999 ended in Celery's
    # traceback of too many open files after the node benchmark had run.
    worker.add_argument("--concurrency", type=processes, default=os.cpu_count() or 1)
    worker.add_argument(
        "--benchmark",
        action="store_true",
        help="run the node benchmark, store it for this node's class in the cluster and exit "
        "(a worker also runs it at its first start when its class has none)",
    )
    worker.add_argument(
        "--benchmark-frames",
        type=positive,
        default=BENCHMARK_FRAMES,
        help=f"frames of the benchmark's 1080p slice (default {BENCHMARK_FRAMES})",
    )
    worker.add_argument("--json", action="store_true", help="with --benchmark: print JSON")
    worker.set_defaults(handler=run_worker)


def queue_names(text: str) -> str:
    """``--queues``: comma-separated names of our queues, as Celery's ``--queues`` takes them.
    A typo ("rendr") started a worker that waited for ever on a queue nothing sends to."""
    from common.names import QUEUE_RENDER, QUEUES

    names = [name.strip() for name in text.split(",")]
    for name in names:
        if name not in QUEUES and not name.startswith(f"{QUEUE_RENDER}."):
            raise argparse.ArgumentTypeError(
                f"{name!r} is not a queue (queues: {', '.join(QUEUES)})"
            )
    return ",".join(names)


def run_worker(args: argparse.Namespace) -> int:
    """Run a render worker node until it is stopped (or, with --benchmark, benchmark it)."""
    if args.benchmark:
        return run_node_benchmark(args)
    from cli.worker_app import app
    from orchestrator.celery_app import configure
    from orchestrator.local_workers import threads_per_slot
    from orchestrator.node_roles import ROLE_RENDER

    url = _node_broker(args)
    if (refused := _result_backend_refused(url)) is not None:
        return refused
    first_start_benchmark(url, args, Settings.from_env())
    configure(url)
    settings = Settings.from_env()
    if settings.encoder_threads is None:
        app.conf.cloudrender_encoder_threads = threads_per_slot(
            os.cpu_count() or 1, args.concurrency
        )
    argv = ["worker", "--queues", args.queues, "--concurrency", str(args.concurrency)]
    return _run_node(
        app, [*argv, *QUIET_NODE, "--hostname", _claim(url, ROLE_RENDER), "--loglevel", "INFO"]
    )


def _run_node(app: Any, argv: list[str]) -> int:
    """Run ``celery worker`` with ``argv`` and return the worker's exit status. Celery's
    ``worker_main`` drops it: a worker that died of an unrecoverable error (too many open
    files, a refused broker) exited 0, which its supervisor takes for a clean stop."""
    from celery.signals import worker_shutdown

    from orchestrator.beat_link import EXIT_REFUSED, refusal

    codes: list[int] = []
    refusal.clear()  # a node run before in this process (tests) said nothing of this one

    def kept(sender: Any = None, **_: Any) -> None:
        codes.append(int(getattr(sender, "exitcode", None) or 0))

    worker_shutdown.connect(kept, weak=False)
    try:
        app.worker_main(argv)
    finally:
        worker_shutdown.disconnect(kept)
    if refusal:
        # Redis refused the node's login mid-run (a rotated password): Celery sent stderr to
        # its log while it ran, the one line goes to the terminal too.
        print(refusal[0], file=sys.__stderr__)
        return EXIT_REFUSED
    return max(codes, default=0)


def run_node_benchmark(args: argparse.Namespace) -> int:
    """``worker --benchmark``: measure this node, print the result, store it for its class."""
    import redis

    from orchestrator.node_class import node_class_name, record_benchmark

    settings = Settings.from_env()
    url = args.broker or settings.broker_url
    if url is None:
        raise RenderError("no broker: pass --broker URL or set CLOUDRENDER_BROKER_URL")
    node_class = node_class_name(settings.node_pool)
    with redis.Redis.from_url(url) as client:
        client.ping()  # an unreachable cluster fails now, not after the benchmark
        result = _benchmark(args, settings)
        record_benchmark(client, node_class, result)
    if args.json:
        print(json.dumps({"node_class": node_class, **result.to_json()}, indent=2))
    else:
        print(result.summary())
        print(f"stored for node class {node_class!r}")
    return 0


def needs_benchmark(client: Any, node_class: str, settings: Settings) -> bool:
    """Whether a starting worker runs the node benchmark first: when benchmark_on_start is on
    and the cluster has none of its class yet."""
    from orchestrator.node_class import has_benchmark

    return settings.benchmark_on_start and not has_benchmark(client, node_class)


def first_start_benchmark(url: str, args: argparse.Namespace, settings: Settings) -> None:
    """Benchmark this node before its worker starts if its class has no benchmark yet; a
    failure is reported in one line and the worker starts all the same."""
    import redis

    from orchestrator.node_class import node_class_name, record_benchmark

    if not settings.benchmark_on_start:
        return
    node_class = node_class_name(settings.node_pool)
    try:
        with redis.Redis.from_url(url) as client:
            if not needs_benchmark(client, node_class, settings):
                return
            result = _benchmark(args, settings)
            record_benchmark(client, node_class, result)
    except (RenderError, redis.RedisError, OSError) as exc:
        print(f"node benchmark skipped: {exc}", file=sys.stderr)
        return
    print(
        f"node benchmark ({node_class}): {result.fps:.2f} frames/s, "
        f"{result.seconds_per_unit:.4f} s per unit per slot, {result.encoder}, "
        f"{'GPU ' + result.gpu_model if result.gpu else 'no GPU'}; stored",
        file=sys.stderr,
    )


def _benchmark(args: argparse.Namespace, settings: Settings) -> BenchmarkResult:
    """The node benchmark as this worker's chunks render: its encoder thread cap and slots."""
    from workers.benchmark import run_benchmark

    return run_benchmark(
        frames=args.benchmark_frames, threads=settings.encoder_threads, slots=args.concurrency
    )


def run_orchestrator(args: argparse.Namespace) -> int:
    """Run beat and the orchestrator queue until stopped; an error if beat died."""
    from cli.worker_app import app
    from common.names import QUEUE_ORCHESTRATOR
    from orchestrator.beat import WatchedBeat
    from orchestrator.celery_app import configure
    from orchestrator.node_roles import ROLE_ORCHESTRATOR

    url = _node_broker(args)
    if (refused := _result_backend_refused(url)) is not None:
        return refused
    _check_pools(Settings.from_env())
    if getattr(args, "dry_run", False):
        # Read by each autoscaler round (common.settings) in the pool processes forked below.
        os.environ["CLOUDRENDER_AUTOSCALE_DRY_RUN"] = "1"
    configure(url)
    # Beat as `worker --beat` runs it, but watched: a beat that dies takes the worker with it.
    app.steps["worker"].add(WatchedBeat)
    code = _run_node(
        app,
        [
            "worker",
            "--queues",
            QUEUE_ORCHESTRATOR,
            "--concurrency",
            "2",
            *QUIET_NODE,
            "--hostname",
            _claim(url, ROLE_ORCHESTRATOR),
            "--loglevel",
            "INFO",
        ],
    )
    if WatchedBeat.failure is not None:
        # Celery sent stderr to its log while it ran: the exit's one line goes to the terminal.
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        raise WatchedBeat.failure
    return code


def _check_pools(settings: Settings) -> None:
    """Refuse to start with a broken pools file (one line naming the file, pool and field)."""
    if not settings.pools_file:
        return
    from orchestrator.autoscaler.loop import priced_pools
    from orchestrator.autoscaler.policy import load_policy
    from providers.compute.pools import load_pools

    config = load_pools(settings.pools_file, settings.pool_overrides)
    load_policy(config.autoscaler, settings.autoscaler_overrides)
    priced_pools(config, settings)  # a cloud pool of unknown price would count as free


def _claim(url: str, role: str) -> str:
    """This process's node name, held in Redis until its first heartbeat replaces the claim."""
    from orchestrator.job_store import JobStore
    from orchestrator.node_signals import claim_name

    return claim_name(JobStore.from_url(url).redis, role)


def _result_backend_refused(broker: str) -> int | None:
    """Exit 4 with the CLI's one line when a Redis result backend other than the broker
    refuses its user or password; None when it takes them (or is unreachable: Celery retries).

    The broker's password is checked by the node's name claim; a wrong one only in
    CLOUDRENDER_RESULT_BACKEND started a worker that said "ready" and failed each result."""
    import redis

    from cli.failures import EXIT_FORBIDDEN
    from common.redis_refusal import redis_user
    from common.urls import redact_url

    backend = Settings.from_env().result_backend
    if not backend or backend == broker or not backend.startswith(("redis://", "rediss://")):
        return None
    try:
        with redis.Redis.from_url(backend, socket_connect_timeout=5, socket_timeout=5) as client:
            client.ping()
    except redis.AuthenticationError as exc:
        print(
            f"error: the cluster's Redis result backend at {redact_url(backend)} refused user "
            f"{redis_user(backend)!r}: {exc} (check the user and password in "
            "CLOUDRENDER_RESULT_BACKEND)",
            file=sys.stderr,
        )
        return EXIT_FORBIDDEN
    except redis.RedisError:
        return None
    return None


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
    from cli.cluster_access import cluster_api
    from monitoring.dashboard import require_terminal
    from monitoring.dashboard import run_dashboard as dashboard

    require_terminal()  # before connecting to the cluster: the same line, at once

    return int(dashboard(cluster_api(args), max_nodes=args.max_nodes))


def run_flower(args: argparse.Namespace) -> int:
    """Run Flower in the foreground."""
    from monitoring.flower import run_flower as flower

    settings = Settings.from_env()
    url = args.broker or settings.broker_url
    if url is None:
        raise RenderError("no broker: pass --broker URL or set CLOUDRENDER_BROKER_URL")
    return flower(url, args.port, settings.flower_auth, address=args.address)
