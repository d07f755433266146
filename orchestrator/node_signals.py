"""What every worker node does beside its tasks: advertise itself with a heartbeat, drain when the
autoscaler asks, and leave cleanly when its cloud announces an interruption (spot pre-emption).

`connect(app)` hooks both onto Celery's worker_ready / worker_shutdown signals; they fire in the
worker's main process only.

Node names are unique per process: Celery names every worker ``celery@<host>`` unless told
otherwise, so a render worker and the orchestrator on one host would write one heartbeat key.
`claim_name(client, role)` gives ``render@host`` / ``orchestrator@host``, and ``render-<pid>@host``
when that name is held by another live process. A heartbeat says the node's role (from the
queues it consumes): only render nodes are worker slots (dispatch, cost, scaling); a render node
also consumes its render fingerprint's queue (``render.<fingerprint>``), and lists it. It also
carries the node's pool and compute-engine id (``CLOUDRENDER_NODE_POOL``/``_INSTANCE_ID``), how
many tasks it runs now ("busy") and whether a drain is done ("drained"). The heartbeat thread
also keeps the pool at the size scale_cluster asked for (orchestrator.pool_size).

Drain and spot evacuation are ``orchestrator.node_drain``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

import redis
from celery import Celery
from celery.signals import worker_init, worker_ready, worker_shutdown
from kombu.exceptions import OperationalError

from common.errors import RenderError
from common.names import QUEUE_RENDER, render_queue
from common.settings import Settings
from orchestrator import keys
from orchestrator.beat_link import BeatLink, beat_client, stop_refused_node, watch_login
from orchestrator.cluster_clock import ClusterClock
from orchestrator.node_drain import NodeDrain, busy_tasks
from orchestrator.node_roles import node_role
from orchestrator.pool_size import PoolFollower
from orchestrator.scratch_pause import ScratchPause
from workers import arrays
from workers.encoder import hardware_encoders
from workers.fingerprint import render_fingerprint
from workers.host import HostSampler
from workers.spot import DEFAULT_ENDPOINTS, SpotWatcher

log = logging.getLogger(__name__)

#: Seconds a claimed node name is held for a worker that is still starting (its first
#: heartbeat replaces the claim); a claim whose process died is taken over at once.
CLAIM_SECONDS = 120

#: Seconds between looks at this node's drain key (heartbeats stay every HEARTBEAT_SECONDS).
DRAIN_POLL_SECONDS = 0.5

#: Set once this process's heartbeat is written for the first time: a private cluster's worker
#: says "ready" then (``orchestrator.local_workers``), so the render that waits for it finds the
#: beat at its first look instead of polling for it.
FIRST_BEAT = threading.Event()
#: Set when ``connect`` hooked the heartbeat onto a Celery app in this process.
BEATS_HERE = threading.Event()


def process_scope() -> str:
    """Where this process's pid means this process: host, boot and pid namespace (containers
    on one host share the boot but not the pid namespace)."""
    parts = [socket.gethostname()]
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            parts.append(handle.read().strip())
    except OSError:
        parts.append("")
    try:
        parts.append(os.readlink("/proc/self/ns/pid"))
    except OSError:
        parts.append("")
    return "|".join(parts)


def claim_name(
    client: Any,
    role: str,
    *,
    host: str | None = None,
    pid: int | None = None,
    scope: str | None = None,
) -> str:
    """A node name for a process of this role, unique in the cluster: ``role@host`` unless a
    live process holds it, then ``role-<pid>@host`` (and a random suffix if even that is held).

    Held means a heartbeat or claim under that name that is not a dead process of this very
    scope (a worker restarted after a crash takes its old name back at once).
    """
    host = host or socket.gethostname()
    pid = os.getpid() if pid is None else pid
    scope = process_scope() if scope is None else scope
    candidates = (
        f"{role}@{host}",
        f"{role}-{pid}@{host}",
        f"{role}-{pid}-{secrets.token_hex(3)}@{host}",
    )
    for name in candidates:
        if _claim(client, name, pid, scope):
            return name
    return candidates[-1]


def _claim(client: Any, name: str, pid: int, scope: str) -> bool:
    """Hold `name` for this process unless another live process holds it."""
    key = keys.node(name)
    # No "concurrency" field: JobStore.heartbeats() skips a claim until the first real beat.
    claim = json.dumps({"name": name, "pid": pid, "scope": scope, "claimed": time.time()})
    if client.set(key, claim, nx=True, ex=CLAIM_SECONDS):
        return True
    with client.pipeline() as pipe:
        try:
            pipe.watch(key)
            raw = pipe.get(key)
            holder = _parse(raw)
            if raw is not None and not _stale(holder, pid, scope):
                pipe.unwatch()
                return False
            pipe.multi()
            pipe.set(key, claim, ex=CLAIM_SECONDS)
            pipe.execute()
            return True
        except redis.WatchError:
            return False  # someone else took it meanwhile


def _parse(raw: Any) -> dict[str, Any]:
    try:
        data = json.loads(raw) if raw is not None else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _stale(holder: Mapping[str, Any], pid: int, scope: str) -> bool:
    """Whether a name's holder is a process of this scope that no longer runs (or is us)."""
    if holder.get("scope") != scope or not isinstance(holder.get("pid"), int):
        return False  # elsewhere: only its key's expiry tells that it is gone
    other = int(holder["pid"])
    if other == pid:
        return True
    try:
        os.kill(other, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def connect(app: Celery) -> None:
    """Start the heartbeat (and the spot watcher, if configured) with each worker of `app`."""
    stop = threading.Event()
    beats: list[threading.Thread] = []

    #: Set once the heartbeat watches the login (or the worker stops): see ``booting``.
    beating = threading.Event()
    #: This node's CPU and memory sampler, primed at the worker's start: its first beat then
    #: reports the rates since then instead of sleeping 0.1 s for a second sample (a private
    #: cluster's render waits for that beat).
    samplers: list[HostSampler] = []

    def started(sender: Any = None, **_: Any) -> None:
        stop.clear()  # a worker started again in this process beats again
        beating.set()
        # Before the heartbeat reads the queues: it lists this one, and a drain stops it too.
        consume_fingerprint_queue(sender)
        sampler = samplers.pop() if samplers else HostSampler()
        beats.append(_start_node(app, sender, stop, sampler))

    def stopping(sender: Any = None, **_: Any) -> None:
        stop.set()
        beating.set()
        while beats:
            beats.pop().join(timeout=2)  # a beat in flight must not rewrite the key below
        # Withdraw the heartbeat so dispatch stops counting this node's slots at once.
        try:
            redis.Redis.from_url(app.conf.broker_url).delete(keys.node(_name(sender)))
        except redis.RedisError:
            pass

    def booting(**_: Any) -> None:
        # Before the pool forks: its processes inherit this one fingerprint. Computed lazily in
        # each, they hashed the code as it was then: after an in-place upgrade of a running node
        # they disagreed with the queue it consumes, and every merge sent their chunks back.
        render_fingerprint()
        samplers[:] = [HostSampler()]
        samplers[0].prime()
        # Until the heartbeat starts, a refused login is watched here: a password rotated as
        # the node started left its consumer refused and never ready, reconnecting for ever.
        beating.clear()
        threading.Thread(
            target=watch_login, args=(app.conf.broker_url, beating), name="login", daemon=True
        ).start()

    # weak=False: the closures have no other reference and would be collected at once.
    BEATS_HERE.set()
    worker_init.connect(booting, weak=False)
    worker_ready.connect(started, weak=False)
    worker_shutdown.connect(stopping, weak=False)


def consume_fingerprint_queue(consumer: Any) -> None:
    """Make a render worker's consumer also take its render fingerprint's queue, where
    dispatch sends the chunks of jobs pinned to that fingerprint (common.names.render_queue)."""
    queues = getattr(getattr(consumer, "task_consumer", None), "queues", None) or []
    if QUEUE_RENDER not in {q.name for q in queues}:
        return
    try:
        consumer.add_task_queue(render_queue(render_fingerprint()))
    except (OperationalError, redis.RedisError, OSError) as exc:
        # Without it the node takes only unpinned chunks: its heartbeat leaves its group out.
        log.warning("not consuming this node's render fingerprint queue: %s", exc)


def _name(sender: Any) -> str:
    return getattr(sender, "hostname", None) or socket.gethostname()


def _start_node(
    app: Celery, sender: Any, stop: threading.Event, sampler: HostSampler | None = None
) -> threading.Thread:
    """Advertise this worker node and its pool size every few seconds while it runs
    (``sampler``: its CPU and memory sampler, primed, or a new one)."""
    # Timing out: a frozen Redis must not hold the drain's and the clock's looks (and so the
    # beats after them) until it thaws. Failed looks are tried again at the next poll.
    client = beat_client(app.conf.broker_url)
    name = _name(sender)
    clock = ClusterClock(client)  # the orchestrator compares these beats with its own time
    since = clock.now()
    sampler = sampler or HostSampler()
    consumer = getattr(sender, "task_consumer", None)
    queues = sorted(q.name for q in getattr(consumer, "queues", []) or [])
    scope = process_scope()
    settings = Settings.from_env()
    drain = NodeDrain(app, client, name, queues)
    pause = ScratchPause(app, client, name, queues)
    sizer = PoolFollower(app, client, name)
    # Beats go over a link of their own, which sees every outage (and a refused password).
    link = BeatLink(app.conf.broker_url)

    def beat() -> None:
        # What this node's renders depend on (versions, fonts): dispatch sends a job's chunks
        # to nodes of one fingerprint only, and keys its cached segments by it.
        fingerprint = render_fingerprint()
        # "cupy" on a GPU node: dispatch sends jobs exported with hardware acceleration there.
        try:
            compositor = arrays.planned().name
        except RenderError:
            compositor = ""  # told to use a GPU it lacks: its renders fail with the reason
        encoders = list(hardware_encoders())  # what the job's planner keys chunks by
        last: tuple[bool, bool, int, bool, bool] | None = None
        next_beat = 0.0
        while not stop.is_set():
            drain.check()
            pause.check(held_back=drain.draining.is_set())
            slots = _slots(app, sender)
            shown = (
                drain.draining.is_set(),
                drain.drained(),
                slots,
                bool(pause.paused),
                pause.room,
            )
            # A change of drain state is told at once: dispatch stops counting this node's
            # slots, the autoscaler may terminate it. So is a new pool size (scale_cluster).
            if shown != last or time.monotonic() >= next_beat:
                payload = {
                    "name": name,
                    "concurrency": slots,
                    "pid": os.getpid(),
                    "since": since,
                    "time": clock.now(),
                    "draining": shown[0],
                    "drained": shown[1],
                    "scratch_full": shown[3],  # takes no work while others do
                    "scratch_room": shown[4],
                    "busy": busy_tasks(),
                    "queues": queues,
                    "role": node_role(queues),
                    "scope": scope,
                    "fingerprint": fingerprint,
                    "compositor": compositor,
                    "hardware_encoders": encoders,
                    "pool": settings.node_pool,
                    "instance": settings.instance_id,
                    # This node's CPU and memory, so NodeMetrics show each node's own resources.
                    **sampler.fields(),
                }
                # The beat also says when this node last got Redis back after losing it
                # ("reconnected"): its chunks that went silent before then (their tasks died
                # with the connection) count as no fault of the node's.
                if link.write(name, payload, clock.now()):
                    FIRST_BEAT.set()
                elif line := link.refused():
                    stop_refused_node(line)
                last, next_beat = shown, time.monotonic() + keys.HEARTBEAT_SECONDS
            sizer.follow(slots)  # after the beat: a size reached is told before its wish goes
            stop.wait(DRAIN_POLL_SECONDS)

    thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
    thread.start()
    spot = app.conf.get("cloudrender_spot") or {}
    if spot.get("provider"):
        endpoint = spot.get("endpoint") or DEFAULT_ENDPOINTS[spot["provider"]]
        SpotWatcher(
            spot["provider"], endpoint, drain.evacuate, float(spot.get("interval", 2))
        ).start()
    return thread


def _slots(app: Celery, sender: Any) -> int:
    pool = getattr(sender, "pool", None)
    return int(getattr(pool, "num_processes", None) or app.conf.worker_concurrency or 1)
