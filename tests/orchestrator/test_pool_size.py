"""scale_cluster asks each render node for a pool size, which the node follows: calls in quick
succession end at the last size asked for, whatever the heartbeats showed meanwhile."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from common.errors import RenderError
from common.names import QUEUE_RENDER
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.embedded import EmbeddedCluster
from orchestrator.job_record import ChunkState, JobState
from tests.helpers import slow_project


def _wait_for(found: Callable[[], Any], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _beat(client: redis.Redis, name: str, concurrency: int) -> None:
    now = time.time()
    payload = {
        "name": name,
        "concurrency": concurrency,
        "pid": 1,
        "since": now,
        "time": now,
        "queues": [QUEUE_RENDER],
        "role": "render",
    }
    client.set(keys.node(name), json.dumps(payload), ex=60)


@pytest.mark.parametrize("slots", [4, 10**20])
def test_scaling_a_cluster_without_nodes_says_there_is_none(redis_url: str, slots: int) -> None:
    """A mistyped huge size on an empty cluster read "more than the 0 render node(s) can hold:
    at most 256 a node (256 in all)"."""
    api = CloudRenderingAPI(redis_url, storage_url="file:///nonexistent")
    with pytest.raises(RenderError) as refused:
        api.scale_cluster(slots)
    assert str(refused.value) == "no live worker nodes to scale (start `cloudrender worker`)"


def test_a_second_call_counts_from_the_size_asked_for_not_the_heartbeat(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    _beat(client, "render@a", 1)
    _beat(client, "render@b", 1)
    api = CloudRenderingAPI(redis_url, storage_url="file:///nonexistent")
    assert api.scale_cluster(6) == {"render@a": 2, "render@b": 2}
    # The heartbeats still say 1 each (nodes beat every few seconds): the sizes asked for count.
    assert api.scale_cluster(2) == {"render@a": -2, "render@b": -2}
    assert api.scale_cluster(3) == {"render@a": 1}
    assert {n: int(client.get(keys.slots(n)) or 0) for n in ("render@a", "render@b")} == {
        "render@a": 2,
        "render@b": 1,
    }
    assert client.ttl(keys.slots("render@a")) > keys.SLOTS_TTL - 60
    # A node that left is no longer counted, nor asked.
    client.delete(keys.node("render@b"))
    assert api.scale_cluster(2) == {}
    assert int(client.get(keys.slots("render@a")) or 0) == 2


@pytest.fixture(scope="module")
def one_node() -> Iterator[EmbeddedCluster]:
    with EmbeddedCluster(workers=1) as running:
        yield running


def _pool_processes(pid: int) -> int:
    """The worker's pool processes: its children (the pool forks them)."""
    children = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while read
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            children += 1
    return children


def _settled(api: CloudRenderingAPI, slots: int) -> bool:
    """The heartbeat shows ``slots`` and the node has reached (and dropped) its wish."""
    status = api.get_cluster_status()
    name = status.nodes[0].name
    return status.slots == slots and not api.store.redis.exists(keys.slots(name))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("sizes", [(3, 1), (3, 2), (4, 2, 1, 3)])
def test_scaling_in_quick_succession_ends_at_the_last_size(
    one_node: EmbeddedCluster, sizes: tuple[int, ...]
) -> None:
    api = CloudRenderingAPI(one_node.broker_url, storage_url="file:///nonexistent")
    _wait_for(lambda: api.get_cluster_status().nodes, "the node's heartbeat", 60)
    api.scale_cluster(1)  # where the last case left it
    _wait_for(lambda: _settled(api, 1), "one slot", 60)
    (node,) = api.get_cluster_status().nodes
    for size in sizes:
        api.scale_cluster(size)  # no wait: the heartbeats still show the size before
    last = sizes[-1]
    _wait_for(lambda: _settled(api, last), f"{last} slots", 60)
    time.sleep(2 * keys.HEARTBEAT_SECONDS + 1)  # nothing left to undo it
    assert api.get_cluster_status().slots == last
    _wait_for(lambda: _pool_processes(node.pid) == last, f"{last} pool processes", 30)
    assert os.path.exists(f"/proc/{node.pid}")


@pytest.mark.timeout(240)
def test_a_shrink_while_every_process_is_busy_happens_once_chunks_finish(
    one_node: EmbeddedCluster, tmp_path: Path
) -> None:
    """Celery's pool_shrink with every process busy fails on the node and is never tried
    again; the node keeps asking until processes are idle."""
    api = CloudRenderingAPI(one_node.broker_url, storage_url=tmp_path.as_uri())
    _wait_for(lambda: api.get_cluster_status().nodes, "the node's heartbeat", 60)
    api.scale_cluster(3)
    _wait_for(lambda: _settled(api, 3), "3 slots", 60)
    (node,) = api.get_cluster_status().nodes
    job = api.submit_job(
        slow_project(tmp_path, 3.0),
        output=str(tmp_path / "slow.mp4"),
        chunk_frames=15,
        base_dir=str(tmp_path),
    )

    def running() -> int:
        record = api.get_job_status(job)
        assert not record.state.finished, record.error
        return sum(c.state is ChunkState.RUNNING for c in record.chunks)

    _wait_for(lambda: running() == 3, "three chunks at once", 90)
    assert api.scale_cluster(1) == {node.name: -2}
    assert api.wait(job, timeout=180).state is JobState.COMPLETED
    _wait_for(lambda: _settled(api, 1), "1 slot", 60)
    _wait_for(lambda: _pool_processes(node.pid) == 1, "1 pool process", 30)
