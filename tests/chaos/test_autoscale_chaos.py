"""Chaos against the autoscaler on this machine's `local` engine: a node that never boots,
scale-in (an operator's override) while chunks run, and a spot notice while a node drains.
The lossless output must equal the --direct render frame for frame (no chunk lost, none twice)
and the ledger must tell each node's end as it happened."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from bench.support import ChaosCluster, heavy_project, status
from chunking.timeline.export_overrides import with_overrides
from chunking.timeline.studio import load_project
from orchestrator.api import CloudRenderingAPI
from orchestrator.autoscaler.ledger import FAILED_BOOT, Ledger
from orchestrator.job_record import ChunkState, JobRecord, JobState
from tests.helpers import assert_same_frames, reference_render
from workers.spot_fake import FakeMetadataService

pytestmark = pytest.mark.timeout(600)

POOLS = """
[autoscaler]
policy = "queue"
target_seconds = 10
scale_up_cooldown = 0
scale_down_cooldown = 1
idle_timeout = 2
drain_timeout = 3
boot_timeout_factor = 2
max_launch_failures = 5
# Boots take 2.5 s here, far longer on a loaded machine: a run of slow boots backs off for
# seconds, not the default 10 minutes that would outlast the test.
backoff_seconds = 5

[pools.local]
provider = "local"
max_nodes = 3
boot_seconds = 5
concurrency = 1
queues = ["render"]
[pools.local.options]
state_dir = "{state}"
stop_seconds = "3"
# The pool's nodes (not the orchestrator) watch for interruptions.
"env.CLOUDRENDER_SPOT_PROVIDER" = "gcp"
"env.CLOUDRENDER_SPOT_ENDPOINT" = "{spot}"
"env.CLOUDRENDER_SPOT_INTERVAL" = "0.3"
"""


def wait(what: str, probe: object, timeout: float = 120) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe() if callable(probe) else probe
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class NeverBoots:
    """Freezes the first node the engine starts, before its first heartbeat."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.frozen: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set() and self.frozen is None:
            for path in self.state.glob("local/*.json"):
                if path.name == "desired.json" or path.name.startswith("."):
                    continue
                try:
                    node = json.loads(path.read_text())
                    os.killpg(int(node["pid"]), signal.SIGSTOP)
                except (OSError, ValueError, KeyError):
                    continue
                self.frozen = str(node["id"])
                break
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def rendering_nodes(api: CloudRenderingAPI, job: str) -> set[str]:
    """The workers that have rendered frames of a running chunk of the job."""
    record = status(api, job)
    if record is None:
        return set()
    return {
        c.node for c in record.chunks if c.state is ChunkState.RUNNING and c.frames_done and c.node
    }


def situation(api: CloudRenderingAPI, job: str, ledger: Ledger) -> str:
    """The job's chunks, every node's life (boot time, outcome) and the pools' state, for a
    failure message."""
    record = status(api, job)
    chunks = [(c.index, c.state.value, c.node, c.attempts) for c in record.chunks] if record else []
    lives = [
        f"{n.id} {n.outcome or 'live'} boot "
        + (f"{n.booted_at - n.requested_at:.1f}s" if n.booted_at is not None else "none")
        for n in ledger.history()
    ]
    return f"chunks {chunks}; nodes {lives}; pools {api.get_pools()}"


def pool_nodes_busy(api: CloudRenderingAPI, job: str, count: int) -> bool:
    return len(rendering_nodes(api, job)) >= count


def test_failed_boot_scale_in_mid_chunk_and_a_notice_while_draining_lose_nothing(
    tmp_path: Path,
) -> None:
    # Long enough that the job still renders through all three faults: chunks in their
    # sandbox run at the node's own BLAS speed (OPENBLAS_CORETYPE is passed down), faster.
    doc = heavy_project(tmp_path, seconds=32.0, size=(1280, 720))
    timeline = load_project(doc, str(tmp_path))
    timeline = replace(timeline, export=with_overrides(timeline.export, lossless=True))
    direct = tmp_path / "direct.mkv"
    reference_renderer = reference_render(doc, tmp_path, direct)

    state = tmp_path / "nodes"
    pools = tmp_path / "pools.toml"
    metadata = FakeMetadataService()
    pools.write_text(POOLS.format(state=state, spot=metadata.url))
    storage = f"file://{tmp_path / 's'}"
    env = {
        "CLOUDRENDER_POOLS_FILE": str(pools),
        "CLOUDRENDER_AUTOSCALE_INTERVAL": "1",
        "CLOUDRENDER_STORAGE_URL": storage,
        "CLOUDRENDER_MEDIA_ROOTS": str(tmp_path),
        "CLOUDRENDER_OUTPUT_ROOTS": str(tmp_path),
    }
    saboteur = NeverBoots(state)
    out = tmp_path / "out.mkv"
    try:
        with ChaosCluster(workers=0, env=env) as cluster:
            client = redis.Redis.from_url(cluster.redis.url, decode_responses=True)
            ledger = Ledger(client)
            api = CloudRenderingAPI(cluster.redis.url, storage_url=storage)
            job = api.submit_job(doc, output=str(out), chunk_frames=30, base_dir=str(tmp_path))

            # 1. The first node never boots: it is replaced, and its end is a failed boot. The
            # pool is held at its most meanwhile: on a fast machine the learned speed would
            # otherwise shrink the demand before the boot timeout, and a booting node that is
            # no longer needed is cancelled, not failed.
            wait("a frozen node", lambda: saboteur.frozen, timeout=30)
            wait("the pool to be published", api.get_pools, timeout=30)
            api.scale_pool("local", 3, 600)
            frozen = str(saboteur.frozen)
            try:
                wait(
                    "the frozen node to be replaced",
                    lambda: (n := ledger.get(frozen)) is not None and n.outcome == FAILED_BOOT,
                    timeout=60,
                )
            except AssertionError as exc:
                raise AssertionError(f"{exc}: its ledger record is {ledger.get(frozen)}") from None

            # 2. Scale-in while chunks run: an operator holds the pool at one node.
            wait("two nodes rendering", lambda: pool_nodes_busy(api, job, 2), timeout=90)
            rendering = rendering_nodes(api, job)
            api.scale_pool("local", 1, 600)
            draining = wait(
                "a node draining",
                lambda: [n for n in ledger.live() if n.draining_at is not None],
                timeout=30,
            )

            # 3. A spot notice reaches every node while one drains: all leave, the override
            # is lifted, and the autoscaler starts fresh nodes that finish the job.
            assert draining
            present = {n.id for n in ledger.live()}
            metadata.notice = True
            wait(
                "every node that got the notice to leave",
                lambda: not present & {n.id for n in ledger.live()},
                timeout=90,
            )
            metadata.notice = False
            api.scale_pool("local", None)
            try:
                record = wait(
                    "the job to finish",
                    lambda: (r := status(api, job)) is not None and r.state.finished and r,
                    timeout=240,
                )
            except AssertionError as exc:
                raise AssertionError(f"{exc}: {situation(api, job, ledger)}") from None
            # A node launched near the end may still be booting: it boots, or its boot times
            # out and it is terminated. None may stay in between (asserted below).
            wait(
                "every node to have booted or ended",
                lambda: all(
                    n.terminated_at is not None or n.booted_at is not None for n in ledger.history()
                ),
                timeout=60,
            )
            history = ledger.history()
    finally:
        saboteur.stop()
        metadata.close()
        from providers.compute.local import LocalCompute
        from providers.compute.pools import Pool

        engine = LocalCompute("redis://unused", storage, state, stop_seconds=5)
        pool = Pool("local", "local", max_nodes=3)
        for node in engine.nodes(pool):
            engine.terminate(pool, node.id)

    assert isinstance(record, JobRecord)
    assert record.state is JobState.COMPLETED, record.error
    assert sum(c.frames for c in record.chunks) == timeline.frames
    assert_same_frames(out, direct, record, reference_renderer)
    assert {n.outcome for n in history} >= {FAILED_BOOT}
    assert all(n.terminated_at is not None or n.booted_at is not None for n in history)
    # The operator's scale-in drained a node that was rendering: its chunk finished there or
    # was handed back, and either way was merged once (the frame comparison above).
    assert any(n.name in rendering for n in draining), (rendering, [n.name for n in draining])
