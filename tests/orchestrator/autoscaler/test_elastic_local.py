"""Elastic capacity end to end on this machine: `cloudrender orchestrator` with a local pool of
0..3 nodes and no worker at all. A submitted job makes the autoscaler start `cloudrender worker`
processes, the job renders bit-identical to --direct, the idle workers drain and stop, and the
ledger's node-seconds match the processes' measured lifetimes."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.autoscaler.ledger import DRAINED, Ledger
from orchestrator.job_store import JobStore
from tests.helpers import CLI, colour_project
from tests.media import decode_rgb, write_project

POOLS = """
[autoscaler]
policy = "queue"
target_seconds = 20
scale_up_cooldown = 0
scale_down_cooldown = 4
idle_timeout = 3
drain_timeout = 60

[pools.local]
provider = "local"
min_nodes = 0
max_nodes = 3
boot_seconds = 30
price_per_hour = 0.36
concurrency = 1
queues = ["render", "audio", "merge"]
[pools.local.options]
state_dir = "{state}"
"""


def wait_for(found: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := found()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def started_at(pid: int) -> float | None:
    """A process's start as epoch seconds, to the clock tick (uptime, not the whole-second
    btime)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except OSError:
        return None
    now = time.time()
    ticks = int(stat[stat.rfind(")") + 2 :].split()[19])
    return now - (uptime - ticks / os.sysconf("SC_CLK_TCK"))


class Lifetimes:
    """Watches the local engine's node files: each node's process start and the moment its
    process is gone, measured outside the engine and the ledger."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.start: dict[str, float] = {}
        self.pids: dict[str, int] = {}
        self.end: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        import json

        while not self._stop.is_set():
            for path in self.state.glob("*/*.json"):
                if path.name == "desired.json" or path.name.startswith("."):
                    continue
                try:
                    node = json.loads(path.read_text())
                except (OSError, ValueError):
                    continue
                if node["id"] not in self.pids:
                    began = started_at(int(node["pid"]))
                    if began is not None:
                        self.pids[node["id"]], self.start[node["id"]] = int(node["pid"]), began
            for node_id, pid in self.pids.items():
                if node_id not in self.end and not _alive(pid):
                    self.end[node_id] = time.time()
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2] != "Z"


@pytest.fixture
def cluster(cli: CLI, redis_url: str, tmp_path: Path) -> Iterator[tuple[CLI, Path]]:
    state = tmp_path / "nodes"
    pools = tmp_path / "pools.toml"
    pools.write_text(POOLS.format(state=state))
    media, out = tmp_path / "media", tmp_path / "out"
    media.mkdir()
    out.mkdir()
    run = cli.with_env(
        CLOUDRENDER_BROKER_URL=redis_url,
        CLOUDRENDER_STORAGE_URL=(tmp_path / "storage").as_uri(),
        CLOUDRENDER_MEDIA_ROOTS=str(media),
        CLOUDRENDER_OUTPUT_ROOTS=str(out),
        CLOUDRENDER_POOLS_FILE=str(pools),
        CLOUDRENDER_AUTOSCALE_INTERVAL="1",
    )
    log = open(tmp_path / "orchestrator.log", "w")  # noqa: SIM115
    orchestrator = run.start("orchestrator", stdout=log, stderr=subprocess.STDOUT)
    log.close()
    try:
        yield run, state
    finally:
        orchestrator.terminate()
        try:
            orchestrator.wait(timeout=30)
        except subprocess.TimeoutExpired:
            orchestrator.kill()
            orchestrator.wait()
        _stop_leftover_nodes(state)


def _stop_leftover_nodes(state: Path) -> None:
    """Whatever the test left running (it failed half-way) is stopped like the engine would."""
    from providers.compute.local import LocalCompute
    from providers.compute.pools import Pool

    pool = Pool("local", "local", max_nodes=3)
    engine = LocalCompute("redis://unused", "file:///unused", state, stop_seconds=10)
    for node in engine.nodes(pool):
        engine.terminate(pool, node.id)


def test_a_job_starts_workers_that_render_it_exactly_then_drain_and_stop(
    cluster: tuple[CLI, Path], cli: CLI, redis_url: str, tmp_path: Path
) -> None:
    run, state = cluster
    lifetimes = Lifetimes(state)
    store = JobStore.from_url(redis_url)
    ledger = Ledger(store.redis)
    assert all("orchestrator" in name for name in store.heartbeats())  # no render worker yet
    timeline = write_project(tmp_path / "media" / "p.json", colour_project(2.0, "#aa6622"))
    direct = tmp_path / "direct.mkv"
    assert cli("render", str(timeline), "-o", str(direct), "--direct", "--lossless").returncode == 0

    output = tmp_path / "out" / "film.mkv"
    submitted = time.time()
    done = run(
        "render", str(timeline), "-o", str(output), "--broker", redis_url, "--lossless",
        "--chunk-frames", "10", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + (tmp_path / "orchestrator.log").read_text()[-3000:]
    ours, reference = decode_rgb(output), decode_rgb(direct)
    assert len(ours) == len(reference) == 60
    assert all((a == b).all() for a, b in zip(ours, reference, strict=True))

    # The autoscaler asked for nodes as soon as it saw the job: rounds come every second, and
    # the first one after the submit launches (test_loop shows that round by round); the bound
    # is loose for a loaded machine, where a round itself can take seconds.
    first = min(n.requested_at for n in ledger.history())
    assert first - submitted < 20.0
    launched = {n.id for n in ledger.history()}
    assert 1 <= len(launched) <= 3

    # Idle: every node drains, is terminated, and its process is gone.
    wait_for(lambda: not ledger.live(), "every node to drain and stop", timeout=120)
    wait_for(lambda: set(lifetimes.end) >= launched, "every worker process to exit", timeout=30)
    lifetimes.stop()
    for node in ledger.history():
        assert node.outcome == DRAINED, node
        assert node.booted_at is not None and node.draining_at is not None
        measured = lifetimes.end[node.id] - lifetimes.start[node.id]
        recorded = node.node_seconds(time.time())
        assert abs(recorded - measured) <= 0.02 * measured, (node.id, recorded, measured)
        assert node.busy_seconds > 0 or len(launched) > 1
    assert not any(name.startswith("render") for name in store.heartbeats())


def test_a_tight_deadline_gets_more_local_nodes_and_a_budget_caps_them(
    redis_url: str, tmp_path: Path
) -> None:
    from orchestrator.autoscaler.loop import Autoscaler
    from orchestrator.autoscaler.policy import load_policy
    from orchestrator.job_record import JobRecord, JobState
    from providers.compute.pools import parse_pools

    config = parse_pools(POOLS.format(state=tmp_path / "nodes"), "pools.toml")
    policy = load_policy({**config.autoscaler, "policy": "deadline", "target_seconds": 3600}, {})
    store = JobStore.from_url(redis_url)
    context = {"broker_url": redis_url, "storage_url": (tmp_path / "s").as_uri()}
    now = time.time()

    def nodes_for(deadline: float | None, budget: float | None = None) -> int:
        store.redis.flushdb()
        job = JobRecord(id="j", state=JobState.QUEUED, frames=6_000, submitted_at=now)
        job.deadline = deadline
        store.create(job, {})
        capped = (
            load_policy({**config.autoscaler, "hourly_budget": budget}, {}) if budget else policy
        )
        scaler = Autoscaler(store, config, capped, context=context, dry_run=True)
        return int(scaler.run(now).decision.desired["local"])

    # 6,000 frames x 0.05 s = 300 node-seconds: an hour's target needs one node, finishing
    # within 150 s (30 s boot) needs three.
    relaxed, tight = nodes_for(None), nodes_for(now + 150)
    assert relaxed == 1 and tight > relaxed
    assert nodes_for(now + 150, budget=0.72) <= 2  # $0.36 a node: two nodes' worth
    assert not list((tmp_path / "nodes").glob("*/*.json"))  # a dry run starts nothing
