"""Prometheus exporter for the render and node metrics (orchestrator.stats) and the render
counters (orchestrator.render_counters).

Values are read at scrape time from the job store (Redis) by a custom collector, so no metric
lives in a pool process's memory: with a prefork pool the child processes never register or
serve anything. Two kinds of figures:

* Gauges computed from the job store (``cloudrender_frames_per_second``, ``_stored_jobs``,
  ``_queue_length``...): every exporter on the cluster (each worker's, the orchestrator's)
  serves the same cluster-wide values, plus its own host's CPU, memory, network and GPUs.
  Dashboards take ``max()`` over instances for them, never ``sum()``.
* Counters and histograms, labelled ``node``: ``cloudrender_frames_rendered_total``,
  ``cloudrender_chunks_total{outcome}``, ``cloudrender_jobs_total{state}``,
  ``cloudrender_chunk_seconds`` and ``cloudrender_job_seconds{state}``. The pool process where
  an event happens adds it to its node's hash in Redis (``orchestrator.worker_hooks``), and
  each exporter serves only its own node's hash (the orchestrator's also the ``cluster``
  pseudo node's: cancels made by clients and the API). So each event counts once however many
  pool processes a node has, ``sum()`` over every target is the cluster's total, ``rate()``
  and ``histogram_quantile()`` work as usual, and the counts survive restarts (docs/monitoring.md
  has the outcomes, the queries and why).

Wiring:

* Workers: ``install(app, settings)`` in ``cli/worker_app.py``, the app worker processes load.
  It connects to Celery's ``worker_ready`` signal, which fires in the worker's main process
  only, and starts the exporter there on ``settings.metrics_port`` (``$CLOUDRENDER_METRICS_PORT``;
  0 = off), bound to ``settings.metrics_addr`` (``$CLOUDRENDER_METRICS_ADDR``, default 127.0.0.1;
  containers set 0.0.0.0 so that Prometheus in another container can reach it). Its counters
  are the Celery node's (``sender.hostname``); a node consuming the orchestrator queue also
  serves the ``cluster`` pseudo node's.
* Any other process: ``start_exporter(store, port, addr, node=..., hourly_rate=...)``.
* The API: ``orchestrator.stats.collect_render_metrics(store, hourly_rate=...)``.

Access: with ``settings.metrics_auth`` ("user:password", ``$CLOUDRENDER_METRICS_AUTH``) every
request needs HTTP basic auth with those credentials (compared in constant time; Prometheus's
``basic_auth`` scrape option sends them). Without it the figures are open to whoever reaches the
port, which the loopback default limits to this host. Binding another address without auth is
allowed, as setting the address is already an explicit choice and the figures are read-only
counts (no job ids, paths or URLs), but it is logged as a warning at start.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import redis
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from redis.backoff import NoBackoff
from redis.retry import Retry

from common.errors import RenderError
from common.names import QUEUE_ORCHESTRATOR
from common.settings import DEFAULT_HOURLY_RATE, Settings
from monitoring import families
from monitoring.gpu import GpuCollector
from monitoring.metrics import PREFIX
from orchestrator import render_counters
from orchestrator.autoscaler.loop import pool_records
from orchestrator.job_store import JobStore
from orchestrator.render_counters import CLUSTER
from orchestrator.stats import NodeMetrics, RenderMetrics, collect
from workers.host import HostSampler

log = logging.getLogger(__name__)


class RenderCollector:
    """Custom collector: reads the job store at each scrape and yields every cloudrender_ family."""

    def __init__(
        self,
        store: JobStore,
        *,
        hourly_rate: float = DEFAULT_HOURLY_RATE,
        sampler: HostSampler | None = None,
        nodes: tuple[str, ...] = (),
    ) -> None:
        self.store = store
        self.hourly_rate = hourly_rate
        self.sampler = sampler or HostSampler()
        #: the nodes whose render counters this exporter serves (each node by one exporter)
        self.nodes = nodes
        # Scrapes from two Prometheus servers may overlap; the sampler's interval must not.
        self._lock = threading.Lock()

    def describe(self) -> Iterable[Metric]:
        """No families up front, so registering does not touch Redis."""
        return []

    def collect(self) -> Iterable[Metric]:
        """Measure now and yield the families."""
        with self._lock:
            render: RenderMetrics | None
            nodes: list[NodeMetrics]
            try:
                render, nodes = collect(
                    self.store, hourly_rate=self.hourly_rate, sampler=self.sampler
                )
                pools = pool_records(self.store.redis)
                counters = [(n, render_counters.read(self.store.redis, n)) for n in self.nodes]
            except redis.RedisError as exc:
                log.warning("metrics: job store unreachable: %s", exc)
                render, nodes, pools, counters = None, [], [], []
            name, up = PREFIX + "store_up", float(render is not None)
            found = [
                *families.pool_families(pools),
                *families.counter_families(counters),
                *families.render_families(render),
                *families.host_families(render, self.sampler),
                *families.node_families(nodes),
                GaugeMetricFamily(name, families.HELP[name], value=up),
            ]
        return found


def scrape_store(url: str) -> JobStore:
    """A job store for an exporter: fails within seconds when Redis is away, unlike the default."""
    # JobStore.from_url rides out a Redis restart for tens of seconds; a scrape must answer
    # inside Prometheus's timeout (10 s here), with store_up 0, instead.
    client = redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=2,
        socket_timeout=5,
        retry=Retry(NoBackoff(), 1),
    )
    return JobStore(client)


def counter_nodes(node: str | None, orchestrator: bool) -> tuple[str, ...]:
    """The nodes whose counters an exporter serves: its own, and on the orchestrator the
    ``cluster`` pseudo node's (events outside any worker), so each is served exactly once."""
    return (*([node] if node else []), *([CLUSTER] if orchestrator else []))


def registry_for(
    store: JobStore,
    *,
    hourly_rate: float = DEFAULT_HOURLY_RATE,
    gpus: bool = True,
    nodes: tuple[str, ...] = (),
) -> CollectorRegistry:
    """A private registry with the render collector (serving the counters of `nodes`) and
    (with `gpus`) the GPU collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RenderCollector(store, hourly_rate=hourly_rate, nodes=nodes))
    if gpus:
        registry.register(GpuCollector())  # CPU-only hosts: an empty family and a count of 0
    return registry


#: A WSGI application.
_App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: Prometheus scrapes every few seconds."""

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing."""


def start_exporter(
    store: JobStore,
    port: int,
    addr: str = "127.0.0.1",
    *,
    hourly_rate: float = DEFAULT_HOURLY_RATE,
    gpus: bool = True,
    auth: str | None = None,
    node: str | None = None,
    orchestrator: bool = False,
) -> tuple[Any, threading.Thread]:
    """Serve /metrics on addr:port (0 = a free port: see server.server_port) in a daemon thread.

    With ``auth`` ("user:password") every request needs those credentials (HTTP basic auth).
    ``node``: the Celery node whose render counters to serve; ``orchestrator``: also serve the
    ``cluster`` pseudo node's (one exporter per cluster must, the orchestrator's).
    """
    nodes = counter_nodes(node, orchestrator)
    registry = registry_for(store, hourly_rate=hourly_rate, gpus=gpus, nodes=nodes)
    app: _App = make_wsgi_app(registry)
    if auth is not None:
        app = basic_auth(app, auth)
    family = socket.getaddrinfo(addr, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]

    class Server(ThreadingWSGIServer):
        address_family = family  # an IPv6 address needs an IPv6 socket

    server = make_server(addr, port, app, Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    return server, thread


def check_auth(auth: str) -> bytes:
    """``auth`` as the bytes basic auth carries; RenderError unless it is "user:password"."""
    user, colon, password = auth.partition(":")
    if not (user and colon and password):
        raise RenderError(
            "metrics basic auth must look like user:password; check CLOUDRENDER_METRICS_AUTH"
        )
    return auth.encode()


def basic_auth(app: _App, auth: str) -> _App:
    """``app`` behind HTTP basic auth with the credentials ``auth`` ("user:password")."""
    expected = check_auth(auth)

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        given = _credentials(environ.get("HTTP_AUTHORIZATION", ""))
        # Constant time: how far a guess matches must not show in the response time.
        if given is not None and hmac.compare_digest(given, expected):
            return app(environ, start_response)
        body = b"authentication required\n"
        start_response(
            "401 Unauthorized",
            [
                ("WWW-Authenticate", 'Basic realm="cloudrender metrics", charset="UTF-8"'),
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]

    return guarded


def _credentials(header: str) -> bytes | None:
    """The "user:password" bytes of a basic Authorization header; None for any other header."""
    scheme, _, payload = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        return base64.b64decode(payload.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def is_loopback(addr: str) -> bool:
    """Whether an address to bind reaches only this host (an unknown host name does not count)."""
    if addr == "localhost":
        return True
    try:
        return ipaddress.ip_address(addr.strip("[]")).is_loopback
    except ValueError:
        return False


def install(app: Any, settings: Settings) -> None:
    """Start an exporter in each Celery worker's main process when it is ready (port 0: off)."""
    from celery.signals import worker_ready

    chosen, bind, auth = settings.metrics_port, settings.metrics_addr, settings.metrics_auth
    if auth is not None:
        check_auth(auth)  # at start-up, as one line, not later in a signal handler

    def start(sender: Any = None, **_: Any) -> None:
        if not chosen:
            return
        store = scrape_store(app.conf.broker_url)
        node, queues = _node_of(sender)
        try:
            start_exporter(
                store,
                chosen,
                bind,
                hourly_rate=settings.hourly_rate,
                auth=auth,
                node=node,
                orchestrator=QUEUE_ORCHESTRATOR in queues,
            )
        except OSError as exc:
            # Two workers on one host with one port: the second one serves nothing, not crash.
            log.warning("metrics: cannot listen on %s:%s: %s", bind, chosen, exc)
            return
        guard = "basic auth" if auth is not None else "no authentication"
        log.info("metrics: serving on %s:%s/metrics (%s)", bind, chosen, guard)
        if auth is None and not is_loopback(bind):
            log.warning(
                "metrics: %s:%s is reachable from other hosts without authentication; "
                "set CLOUDRENDER_METRICS_AUTH=user:password (and basic_auth in Prometheus)",
                bind,
                chosen,
            )

    # weak=False: the closure has no other reference and would be collected at once.
    worker_ready.connect(start, weak=False)


def _node_of(consumer: Any) -> tuple[str | None, set[str]]:
    """The Celery node name (as its tasks' requests carry it) and the queues it consumes."""
    hostname = getattr(consumer, "hostname", None)
    queues = getattr(getattr(consumer, "task_consumer", None), "queues", None) or []
    return (hostname if isinstance(hostname, str) else None), {q.name for q in queues}
