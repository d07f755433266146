"""``cloudrender cluster status|scale N`` against a real two-node cluster."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from cli.cluster_commands import describe
from common.names import QUEUE_RENDER
from orchestrator.local_workers import LocalWorkers
from tests.helpers import CLI

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def two_nodes(cluster: str) -> Iterator[str]:
    """Two worker nodes of one slot each on a private broker: the module's one-slot cluster
    and a second node."""
    with LocalWorkers(cluster, 1, (QUEUE_RENDER,)) as second:
        second.wait_ready()
        yield cluster


def status(cli: CLI, broker: str) -> dict[str, object]:
    done = cli("cluster", "status", "--json", "--broker", broker)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_status_lists_every_node_with_its_slots(cli: CLI, two_nodes: str) -> None:
    data = status(cli, two_nodes)
    nodes = data["nodes"]
    assert isinstance(nodes, list) and len(nodes) == 2
    assert data["slots"] == 2 and all(n["concurrency"] == 1 for n in nodes)
    text = cli("cluster", "status", "--broker", two_nodes)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("2 slots on 2 nodes")
    for node in nodes:
        name = re.escape(node["name"])
        assert re.search(rf"^{name}\s+render\s+1\s+{node['pid']}\s", text.stdout, re.M)


def test_scale_spreads_slots_over_the_nodes_and_back(cli: CLI, two_nodes: str) -> None:
    names = sorted(n["name"] for n in status(cli, two_nodes)["nodes"])  # type: ignore[attr-defined]
    try:
        grown = cli("cluster", "scale", "4", "--broker", two_nodes)
        assert grown.returncode == 0, grown.stderr
        assert [f"{name}: +1 slot" for name in names] == grown.stdout.splitlines()[:2]
        assert "4 slots on 2 nodes" in grown.stdout
        assert sorted(n["concurrency"] for n in status(cli, two_nodes)["nodes"]) == [2, 2]  # type: ignore[attr-defined]
    finally:
        shrunk = cli("cluster", "scale", "2", "--broker", two_nodes)
    assert shrunk.returncode == 0, shrunk.stderr
    assert "2 slots on 2 nodes" in shrunk.stdout
    same = cli("cluster", "scale", "2", "--broker", two_nodes, "--wait", "0")
    assert same.stdout.strip() == "the cluster already has 2 slots"


@pytest.mark.parametrize(
    ("slots", "problem"),
    [("1", "2 worker nodes need at least 2 slots"), ("0", "at least one worker slot")],
)
def test_scale_refuses_what_it_cannot_do(
    cli: CLI, two_nodes: str, slots: str, problem: str
) -> None:
    done = cli("cluster", "scale", slots, "--broker", two_nodes)
    assert done.returncode == 2 and problem in done.stderr
    assert "Traceback" not in done.stderr
    assert status(cli, two_nodes)["slots"] == 2


# cancel takes ~12 s: the job store retries a lost connection that long to ride out a restart
# (a read-only status gives up after STATUS_PATIENCE).
@pytest.mark.parametrize("command", [("cluster", "status"), ("cancel", "abc"), ("status", "abc")])
def test_unreachable_broker_is_one_clear_line(cli: CLI, command: tuple[str, ...]) -> None:
    done = cli(*command, "--broker", "redis://:hunter2@127.0.0.1:1/0")
    assert done.returncode == 3
    assert done.stderr.startswith("error: cannot talk to the cluster's Redis at ")
    assert "redis://:***@127.0.0.1:1/0" in done.stderr and "hunter2" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_describe_shows_totals_and_ages() -> None:
    node = SimpleNamespace(
        name="gpu-1", concurrency=4, pid=77, since=1000.0, last_heartbeat=3990.0, role="render"
    )
    cluster = SimpleNamespace(nodes=[node], slots=4, queued_chunks=9, active_jobs=1)
    assert describe(cluster, now=4000.0).splitlines() == [
        "4 slots on 1 node, 9 chunks waiting, 1 active job",
        "NODE   ROLE          SLOTS  PID      UP        HEARTBEAT",
        "gpu-1  render            4  77       50m00s    10.0s ago",
    ]
    planner = SimpleNamespace(
        name="orchestrator@gpu-1",
        concurrency=2,
        pid=78,
        since=3000.0,
        last_heartbeat=3999.0,
        role="orchestrator",
    )
    both = SimpleNamespace(nodes=[planner, node], slots=4, queued_chunks=0, active_jobs=0)
    assert describe(both, now=4000.0).splitlines() == [
        "4 slots on 1 node (+1 not rendering), 0 chunks waiting, 0 active jobs",
        "NODE                ROLE          SLOTS  PID      UP        HEARTBEAT",
        "orchestrator@gpu-1  orchestrator      2  78       16m40s    1.0s ago",
        "gpu-1               render            4  77       50m00s    10.0s ago",
    ]
    empty = SimpleNamespace(nodes=[], slots=0, queued_chunks=0, active_jobs=0)
    assert describe(empty, now=0.0) == "0 slots on 0 nodes, 0 chunks waiting, 0 active jobs"
    one = SimpleNamespace(nodes=[node], slots=1, queued_chunks=1, active_jobs=1)
    assert describe(one, now=4000.0).splitlines()[0] == (
        "1 slot on 1 node, 1 chunk waiting, 1 active job"  # "1 slots", "1 chunks" before
    )


def test_unreachable_broker_with_json_prints_the_error_object(cli: CLI) -> None:
    """--json printed nothing on stdout when Redis was down (a script's parse failed), though
    bad input, and the same outage through --api, print {"error", "problems"} there."""
    done = cli("status", "abc", "--json", "--broker", "redis://:hunter2@127.0.0.1:1/0")
    assert done.returncode == 3
    shown = json.loads(done.stdout)
    assert shown["error"].startswith("cannot talk to the cluster's Redis at redis://:***@")
    assert shown["problems"] == [shown["error"]] and "hunter2" not in done.stdout
    assert done.stderr.strip() == f"error: {shown['error']}"
