"""Node names are unique per process, and only render nodes are worker slots.

A render worker and the orchestrator on one host used to both be ``celery@<host>``: one
heartbeat key, the orchestrator's slots in place of the worker's, the worker gone from status
and metrics. Now each process claims ``<role>@host`` (a pid added when that is held by another
live process), and slots, cost, scaling and node counts take render nodes only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import redis

from common.names import QUEUE_AUDIO, QUEUE_MERGE, QUEUE_ORCHESTRATOR, QUEUE_RENDER, QUEUES
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_store import JobStore
from orchestrator.node_roles import ROLE_ORCHESTRATOR, ROLE_RENDER, ROLE_SERVICE, node_role
from orchestrator.node_signals import claim_name, process_scope
from orchestrator.stats import collect

HOST = "farm-7"


@pytest.fixture
def client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, decode_responses=True)


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_roles_come_from_the_queues_a_node_consumes() -> None:
    assert node_role([QUEUE_RENDER, QUEUE_AUDIO, QUEUE_MERGE]) == ROLE_RENDER
    assert node_role(list(QUEUES)) == ROLE_RENDER  # the private cluster's all-queue worker
    assert node_role([QUEUE_ORCHESTRATOR]) == ROLE_ORCHESTRATOR
    assert node_role([QUEUE_MERGE]) == ROLE_SERVICE
    assert node_role([]) == ROLE_RENDER  # heartbeats from before queues were reported


def test_a_worker_and_an_orchestrator_on_one_host_get_their_own_names(
    client: redis.Redis,
) -> None:
    worker = claim_name(client, ROLE_RENDER, host=HOST)
    orchestrator = claim_name(client, ROLE_ORCHESTRATOR, host=HOST)
    assert (worker, orchestrator) == (f"render@{HOST}", f"orchestrator@{HOST}")
    assert client.exists(keys.node(worker), keys.node(orchestrator)) == 2


def test_a_second_live_process_of_a_role_gets_its_pid_in_the_name(client: redis.Redis) -> None:
    scope = process_scope()
    first = claim_name(client, ROLE_RENDER, host=HOST, pid=os.getpid(), scope=scope)
    # Another live process (our parent) of the same host asks for the same role.
    second = claim_name(client, ROLE_RENDER, host=HOST, pid=os.getppid(), scope=scope)
    assert first == f"render@{HOST}" and second == f"render-{os.getppid()}@{HOST}"
    # A node elsewhere with the same host name (cloud images often share one) is live too.
    third = claim_name(client, ROLE_RENDER, host=HOST, pid=os.getpid(), scope="another-host")
    assert third == f"render-{os.getpid()}@{HOST}"
    assert len({first, second, third}) == 3


def test_a_restarted_worker_takes_back_the_name_of_its_dead_predecessor(
    client: redis.Redis,
) -> None:
    scope = process_scope()
    name = f"render@{HOST}"
    # The heartbeat a crashed worker left behind (it lives on for up to NODE_TTL seconds).
    left = {"name": name, "concurrency": 4, "since": 1.0, "time": time.time()}
    client.set(keys.node(name), json.dumps({**left, "pid": dead_pid(), "scope": scope}), ex=6)
    assert claim_name(client, ROLE_RENDER, host=HOST, scope=scope) == name
    claim = json.loads(client.get(keys.node(name)) or "{}")
    assert claim["pid"] == os.getpid()
    # A claim is no heartbeat: it counts no slots before the worker is ready.
    assert name not in JobStore(client).heartbeats()


def beat(client: redis.Redis, name: str, concurrency: int, queues: list[str]) -> None:
    now = time.time()
    payload = {
        "name": name,
        "concurrency": concurrency,
        "pid": 1,
        "since": now - 60,
        "time": now,
        "queues": queues,
    }
    client.set(keys.node(name), json.dumps(payload), ex=60)


def test_the_orchestrator_is_listed_but_never_counted_as_render_slots(
    client: redis.Redis, redis_url: str
) -> None:
    beat(client, f"render@{HOST}", 4, [QUEUE_AUDIO, QUEUE_MERGE, QUEUE_RENDER])
    beat(client, f"orchestrator@{HOST}", 2, [QUEUE_ORCHESTRATOR])
    api = CloudRenderingAPI(redis_url, storage_url="file:///nonexistent")

    status = api.get_cluster_status()
    assert [(n.name, n.role, n.concurrency) for n in status.nodes] == [
        (f"orchestrator@{HOST}", ROLE_ORCHESTRATOR, 2),
        (f"render@{HOST}", ROLE_RENDER, 4),
    ]
    assert status.slots == 4
    assert api.orchestrator_running() and api.render_nodes() == [f"render@{HOST}"]

    render, nodes = collect(api.store, hourly_rate=0.5)
    assert (render.active_nodes, render.slots) == (1, 4)
    assert render.hourly_rate == pytest.approx(4 * 0.5)  # not (4 + 2) x 0.5
    assert {n.name: n.role for n in nodes} == {
        f"orchestrator@{HOST}": ROLE_ORCHESTRATOR,
        f"render@{HOST}": ROLE_RENDER,
    }
    # Scaling spreads render slots over render nodes only: the orchestrator's pool stays 2.
    assert api.scale_cluster(6) == {f"render@{HOST}": 2}


def test_without_an_orchestrator_heartbeat_nobody_plans(
    client: redis.Redis, redis_url: str
) -> None:
    beat(client, f"render@{HOST}", 4, [QUEUE_RENDER])
    api = CloudRenderingAPI(redis_url, storage_url="file:///nonexistent")
    assert not api.orchestrator_running()
    beat(client, f"local-1@{HOST}", 2, list(QUEUES))  # the private cluster's worker plans too
    assert api.orchestrator_running()
