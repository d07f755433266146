"""Prometheus exporter for the render and node metrics (orchestrator.stats).

Values are computed at scrape time from the job store (Redis) by a custom collector, so no
metric lives in a pool process's memory: with a prefork pool the child processes never register
or update anything, and every exporter on the cluster (each worker's, the orchestrator's) serves
the same cluster-wide figures plus its own host's CPU, memory, network and GPUs.

Wiring:

* Workers: ``install(app, settings)`` in ``cli/worker_app.py``, the app worker processes load.
  It connects to Celery's ``worker_ready`` signal, which fires in the worker's main process
  only, and starts the exporter there on ``settings.metrics_port`` (``$CLOUDRENDER_METRICS_PORT``;
  0 = off), bound to ``settings.metrics_addr`` (``$CLOUDRENDER_METRICS_ADDR``, default 127.0.0.1;
  containers set 0.0.0.0 so that Prometheus in another container can reach it).
* Orchestrator / any other process: ``start_exporter(store, port, addr, hourly_rate=...)``.
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
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import redis
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from redis.backoff import NoBackoff
from redis.retry import Retry

from common.errors import RenderError
from common.settings import DEFAULT_HOURLY_RATE, Settings
from monitoring.gpu import GpuCollector
from monitoring.metrics import NODE_METRICS, POOL_METRICS, PREFIX, RENDER_METRICS
from orchestrator.autoscaler.loop import pool_records
from orchestrator.job_store import JobStore
from orchestrator.stats import NodeMetrics, RenderMetrics, collect
from workers.host import HostSampler, HostStats

log = logging.getLogger(__name__)

_HELP = dict(RENDER_METRICS + NODE_METRICS + POOL_METRICS)


def _gauge(name: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, _HELP[name], labels=labels)


#: (metric name without prefix, RenderMetrics attribute) of the unlabelled gauges.
_GAUGES: tuple[tuple[str, str], ...] = (
    ("frames_per_second", "frames_per_second"),
    ("frame_seconds_average", "average_frame_seconds"),
    ("queued_chunks", "queued_chunks"),
    ("running_chunks", "running_chunks"),
    ("active_nodes", "active_nodes"),
    ("worker_slots", "slots"),
    ("gpu_utilization_average_percent", "gpu_utilization_percent"),
    ("hourly_rate_dollars", "hourly_rate"),
    ("cost_per_frame_dollars", "cost_per_frame"),
    ("job_success_ratio", "success_rate"),
    ("job_error_ratio", "error_rate"),
    ("chunk_retry_ratio", "retry_rate"),
    ("job_seconds_average", "average_job_seconds"),
    ("deadline_miss_ratio", "deadline_miss_rate"),
    ("deadline_misses", "deadline_misses"),
)
#: HostStats and RenderMetrics share these attribute names, which are also the metric names.
_HOST = (
    "cpu_utilization_percent",
    "memory_used_bytes",
    "memory_total_bytes",
    "network_receive_bytes_per_second",
    "network_transmit_bytes_per_second",
)


def _render_families(m: RenderMetrics | None) -> Iterator[Metric]:
    """Families for the cluster-wide metrics; None (store down) gives families without samples."""
    for short, attribute in _GAUGES:
        family = _gauge(PREFIX + short)
        value = None if m is None else getattr(m, attribute)
        if value is not None:
            family.add_metric([], float(value))
        yield family

    queues = _gauge(PREFIX + "queue_length", ["queue", "priority"])
    jobs = _gauge(PREFIX + "jobs", ["state"])
    # The ledger only grows, so it is a counter; the family name drops the _total suffix.
    cost = CounterMetricFamily(PREFIX + "cost_dollars", _HELP[PREFIX + "cost_dollars_total"])
    if m is not None:
        for queue, by_priority in m.queue_lengths.items():
            for priority, length in by_priority.items():
                queues.add_metric([queue, priority], float(length))
        for state, count in m.jobs.items():
            jobs.add_metric([state], float(count))
        cost.add_metric([], m.total_cost)
    yield queues
    yield jobs
    yield cost


def _host_families(m: RenderMetrics | None, sampler: HostSampler) -> Iterator[Metric]:
    """This host's resources (served even when the store is down)."""
    source: RenderMetrics | HostStats = sampler.read() if m is None else m
    for name in _HOST:
        family = _gauge(PREFIX + name)
        value = getattr(source, name)
        if value is not None:
            family.add_metric([], float(value))
        yield family


def _node_families(nodes: list[NodeMetrics]) -> Iterator[Metric]:
    """Per-node families, label node (node_info also carries status and role)."""
    info = _gauge(PREFIX + "node_info", ["node", "status", "role"])
    for n in nodes:
        info.add_metric([n.name, n.status, n.role], 1.0)
    yield info
    columns: list[tuple[str, str]] = [
        ("node_draining", "draining"),
        ("node_concurrency", "concurrency"),
        ("node_active_chunks", "active_chunks"),
        ("node_completed_chunks", "completed_chunks"),
        ("node_failed_chunks", "failed_chunks"),
        ("node_uptime_seconds", "uptime_seconds"),
        ("node_last_heartbeat_timestamp_seconds", "last_heartbeat"),
        ("node_heartbeat_age_seconds", "heartbeat_age_seconds"),
        ("node_cpu_utilization_percent", "cpu_utilization_percent"),
        ("node_memory_used_bytes", "memory_used_bytes"),
        ("node_memory_total_bytes", "memory_total_bytes"),
    ]
    for short, attribute in columns:
        family = _gauge(PREFIX + short, ["node"])
        for n in nodes:
            value: Any = (
                n.status == "draining" if attribute == "draining" else getattr(n, attribute)
            )
            if value is not None:
                family.add_metric([n.name], float(value))
        yield family


def _pool_families(records: list[dict[str, Any]]) -> Iterator[Metric]:
    """The autoscaler's last decision and node counts per pool."""
    desired = _gauge(PREFIX + "desired_nodes", ["pool"])
    nodes = _gauge(PREFIX + "pool_nodes", ["pool", "state"])
    spend = _gauge(PREFIX + "pool_spend_dollars_per_hour", ["pool"])
    for record in records:
        pool = str(record.get("pool", ""))
        # Nodes still draining stay until they are done: a KEDA-scaled Deployment must keep
        # them, and drops one as each is terminated.
        target = int(record.get("desired") or 0) + int(record.get("draining") or 0)
        desired.add_metric([pool], float(target))
        for state in ("booting", "running", "draining"):
            nodes.add_metric([pool, state], float(record.get(state) or 0))
        spend.add_metric([pool], float(record.get("spend_per_hour") or 0.0))
    yield from (desired, nodes, spend)


class RenderCollector:
    """Custom collector: reads the job store at each scrape and yields every cloudrender_ family."""

    def __init__(
        self,
        store: JobStore,
        *,
        hourly_rate: float = DEFAULT_HOURLY_RATE,
        sampler: HostSampler | None = None,
    ) -> None:
        self.store = store
        self.hourly_rate = hourly_rate
        self.sampler = sampler or HostSampler()
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
            except redis.RedisError as exc:
                log.warning("metrics: job store unreachable: %s", exc)
                render, nodes, pools = None, [], []
            families = [
                *_pool_families(pools),
                *_render_families(render),
                *_host_families(render, self.sampler),
                *_node_families(nodes),
                GaugeMetricFamily(
                    PREFIX + "store_up", _HELP[PREFIX + "store_up"], value=float(render is not None)
                ),
            ]
        return families


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


def registry_for(
    store: JobStore, *, hourly_rate: float = DEFAULT_HOURLY_RATE, gpus: bool = True
) -> CollectorRegistry:
    """A private registry with the render collector and (with `gpus`) the GPU collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RenderCollector(store, hourly_rate=hourly_rate))
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
) -> tuple[Any, threading.Thread]:
    """Serve /metrics on addr:port (0 = a free port: see server.server_port) in a daemon thread.

    With ``auth`` ("user:password") every request needs those credentials (HTTP basic auth).
    """
    app: _App = make_wsgi_app(registry_for(store, hourly_rate=hourly_rate, gpus=gpus))
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
        try:
            start_exporter(store, chosen, bind, hourly_rate=settings.hourly_rate, auth=auth)
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
