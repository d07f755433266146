"""Drain-safe scale-in, the node's side: a node whose drain key is set stops taking chunks,
finishes (or, past the hand-back time, hands back) what it runs, says "drained" in its heartbeat,
and takes work again when the drain is called off.

Real worker processes (``bench.support.ChaosCluster``: an orchestrator and two one-slot render
workers on a private Redis) and a job whose chunks take a couple of seconds each. The node under
test has its render processes frozen (SIGSTOP) while the drain starts, so that the chunk is
still running then however fast this machine is; its main process, which drains, runs on.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import av
import pytest
import redis

from bench.support import ChaosCluster, heavy_project
from orchestrator import keys
from orchestrator.api import CloudRenderingAPI
from orchestrator.job_record import ChunkState, JobRecord, JobState
from orchestrator.local_workers import LocalWorkers

pytestmark = pytest.mark.timeout(180)

#: 20 frames of the 720p blur: about a second and a half of one core per chunk.
CHUNK_FRAMES = 20
SIZE = (1280, 720)

T = TypeVar("T")


@pytest.fixture(scope="module")
def farm() -> Iterator[ChaosCluster]:
    with ChaosCluster(workers=2) as cluster:
        yield cluster


@pytest.fixture
def client(farm: ChaosCluster) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(farm.redis.url) as connection:
        yield connection
        # A failed test must not leave a node draining for the next one.
        for worker in farm.workers:
            connection.delete(keys.drain(worker.hostname), keys.evict(worker.hostname))


@pytest.fixture
def api(farm: ChaosCluster, tmp_path: Path) -> CloudRenderingAPI:
    return CloudRenderingAPI(farm.redis.url, storage_url=f"file://{tmp_path / 'storage'}")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60) -> T:
    """`probe()`'s first truthy answer; fail naming `what` if none comes in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def beat(client: redis.Redis, name: str) -> dict[str, Any]:
    raw = client.get(keys.node(name))
    return json.loads(raw) if raw else {}


def fresh_chunk_on(api: CloudRenderingAPI, job: str, node: str) -> int | None:
    """A chunk that `node` has begun (at most a quarter done, as last reported), or None."""
    record = api.get_job_status(job)
    assert not record.state.finished, "the job ended before the node under test got a chunk"
    for chunk in record.chunks:
        if chunk.state is ChunkState.RUNNING and chunk.node == node:
            if chunk.frames_done <= (chunk.end - chunk.start) // 4:
                return chunk.index
    return None


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (a worker's pool processes and their render processes)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_bytes()
                parents[int(entry)] = int(stat[stat.rfind(b")") + 2 :].split()[1])
    found, todo = [], [pid]
    while todo:
        below = todo.pop()
        children = [child for child, parent in parents.items() if parent == below]
        found += children
        todo += children
    return found


@contextlib.contextmanager
def renders_frozen(worker: LocalWorkers) -> Iterator[None]:
    """Stop the worker's pool and render processes meanwhile; its main process runs on."""
    assert worker.pid is not None
    frozen = descendants(worker.pid)
    for pid in frozen:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def queued(client: redis.Redis, job: str) -> list[bytes]:
    """The job's chunks sent to the broker and not yet started."""
    return [m for m in client.zrange(keys.QUEUED, 0, -1) if m.startswith(f"{job}:".encode())]


def on_node(record: JobRecord, node: str) -> set[int]:
    return {c.index for c in record.chunks if c.node == node}


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for packet in container.demux(video=0) if packet.size)


def submit(api: CloudRenderingAPI, tmp_path: Path, seconds: float) -> tuple[str, Path, int]:
    """A job of `seconds` at 30 fps; every chunk is rendered (no segment cache)."""
    doc = heavy_project(tmp_path, seconds=seconds, size=SIZE)
    out = tmp_path / "out.mkv"
    job = api.submit_job(
        doc,
        output=str(out),
        chunk_frames=CHUNK_FRAMES,
        base_dir=str(tmp_path),
        use_cache=False,
    )
    return job, out, round(seconds * 30)


def test_a_draining_node_finishes_its_chunk_takes_no_more_and_resumes_when_called_off(
    farm: ChaosCluster, client: redis.Redis, api: CloudRenderingAPI, tmp_path: Path
) -> None:
    events: list[dict[str, Any]] = []
    subscription = api.on_progress_update(events.append)
    try:
        worker, other = farm.workers[0], farm.workers[1].hostname
        node = worker.hostname
        job, out, frames = submit(api, tmp_path, seconds=120 / 30)  # 6 chunks
        # Given the node in the middle of a chunk
        running = wait_for("a chunk on the node", lambda: fresh_chunk_on(api, job, node))
        with renders_frozen(worker):
            # When it is drained, with a hand-back time far off
            client.set(keys.drain(node), str(time.time() + 600), ex=600)

            # Then its heartbeat says draining at once, and it still runs its chunk
            draining = wait_for(
                "draining", lambda: beat(client, node).get("draining") and beat(client, node), 5
            )
            assert draining["busy"] == 1 and draining["drained"] is False
        mine = on_node(api.get_job_status(job), node)
        # (the other node drains too, so that a chunk waits in the broker that only the node
        # under test could take)
        client.set(keys.drain(other), str(time.time() + 600), ex=600)

        # It finishes that chunk itself and then says drained, idle
        drained = wait_for(
            "drained", lambda: beat(client, node).get("drained") and beat(client, node), 30
        )
        assert drained["draining"] is True and drained["busy"] == 0
        record = api.get_job_status(job)
        chunk = record.chunks[running]
        assert (chunk.state, chunk.node, chunk.attempts) == (ChunkState.DONE, node, 1)
        # and leaves alone the chunk that waits in the broker meanwhile
        wait_for("a chunk waiting", lambda: queued(client, job), 10)
        time.sleep(0.5)  # an idle consumer takes a message in milliseconds
        assert queued(client, job), "a draining node took a new chunk"
        assert on_node(api.get_job_status(job), node) == mine, "a draining node took a new chunk"

        # When its drain is called off, it takes that chunk
        client.delete(keys.drain(node))
        wait_for("draining cleared", lambda: beat(client, node).get("draining") is False, 5)
        wait_for("a new chunk on the node", lambda: on_node(api.get_job_status(job), node) - mine)

        client.delete(keys.drain(other))
        record = api.wait(job, timeout=120)
    finally:
        subscription.stop()
    assert record.state is JobState.COMPLETED, record.error
    # Nothing was rendered twice: each chunk ran once and was counted once
    assert all(c.state is ChunkState.DONE and c.attempts == 1 for c in record.chunks)
    done = Counter(e["chunk"] for e in events if e["job"] == job and e["event"] == "chunk_done")
    assert done == Counter(range(len(record.chunks)))
    assert frame_count(out) == frames


def test_chunks_still_running_at_the_hand_back_time_are_rendered_elsewhere_once(
    farm: ChaosCluster, client: redis.Redis, api: CloudRenderingAPI, tmp_path: Path
) -> None:
    events: list[dict[str, Any]] = []
    subscription = api.on_progress_update(events.append)
    try:
        worker = farm.workers[1]
        node, other = worker.hostname, farm.workers[0].hostname
        job, out, frames = submit(api, tmp_path, seconds=80 / 30)  # 4 chunks
        running = wait_for("a chunk on the node", lambda: fresh_chunk_on(api, job, node))
        with renders_frozen(worker):
            # When the node is drained with a hand-back time already past
            client.set(keys.drain(node), str(time.time() - 1), ex=600)
            # Then it tells its running chunk to hand itself back
            wait_for("the hand-back", lambda: client.exists(keys.evict(node)), 5)
            # (the heartbeat that sets the eviction records its draining in the beat after it)
            wait_for("draining", lambda: beat(client, node)["draining"] is True, 5)

        # and the chunk does so (not a failure); then the node is drained, idle
        drained = wait_for(
            "drained", lambda: beat(client, node).get("drained") and beat(client, node), 30
        )
        assert drained["busy"] == 0
        record = api.wait(job, timeout=120)
        assert record.state is JobState.COMPLETED, record.error
        # and its drain, called off, leaves no eviction behind
        client.delete(keys.drain(node))
        wait_for("draining cleared", lambda: beat(client, node).get("draining") is False, 5)
        assert client.exists(keys.evict(node)) == 0
    finally:
        subscription.stop()
    mine = [e for e in events if e["job"] == job]
    handed_back = [e for e in mine if e["event"] == "chunk_requeued"]
    assert [(e["chunk"], e["reason"], e["node"]) for e in handed_back] == [
        (running, "evicted", node)
    ]
    # The chunk was rendered on the other node, once; no chunk is missing or doubled
    chunk = record.chunks[running]
    assert (chunk.state, chunk.node, chunk.attempts) == (ChunkState.DONE, other, 1)
    done = Counter(e["chunk"] for e in mine if e["event"] == "chunk_done")
    assert done == Counter(range(len(record.chunks)))
    assert frame_count(out) == frames
