"""Cluster routes for operators (status, pools, scaling, pause, emergency stop, metrics, nodes)
and billing, which a user key reads for its own user only."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from orchestrator.api_results import Billing, ClusterStatus
from orchestrator.budgets import record_spend
from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.stats import NodeMetrics, RenderMetrics
from orchestrator.wire import from_wire
from tests.helpers import colour_project
from tests.server.conftest import ServerCluster, bearer

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def store(server_cluster: ServerCluster) -> Iterator[JobStore]:
    s = JobStore.from_url(server_cluster.broker_url)
    yield s
    s.redis.close()


def test_an_operator_reads_the_cluster_its_metrics_and_nodes(
    client: TestClient, operator_key: str
) -> None:
    deadline = time.monotonic() + 30
    while True:  # the worker's first heartbeat may follow its start by a moment
        answer = client.get("/v1/cluster", headers=bearer(operator_key))
        status = from_wire(ClusterStatus, answer.json())
        if status.nodes or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status.slots == 1 and [n.role for n in status.nodes].count("render") == 1
    assert client.get("/v1/cluster/pools", headers=bearer(operator_key)).json() == {"pools": []}
    metrics = client.get("/v1/metrics", headers=bearer(operator_key))
    assert from_wire(RenderMetrics, metrics.json()).active_nodes == 1
    nodes = client.get("/v1/nodes", headers=bearer(operator_key)).json()
    assert [from_wire(NodeMetrics, n).status for n in nodes] == ["alive"]


def test_scaling_refuses_what_it_cannot_do_in_one_line(
    client: TestClient, operator_key: str
) -> None:
    def scale(body: dict[str, object]) -> tuple[int, dict[str, object]]:
        answer = client.post("/v1/cluster/scale", json=body, headers=bearer(operator_key))
        return answer.status_code, answer.json()

    assert scale({"pool": "gpu", "nodes": 2}) == (
        400,
        {"error": "no pool named 'gpu' (pools: none)"},
    )
    assert scale({})[0] == 400
    assert scale({"pool": "gpu", "slots": 2})[0] == 400
    assert scale({"slots": 0})[0] == 422
    assert scale({"slots": 10**9})[0] == 422  # checked before anything is counted
    # Each slot is a process a node forks: a few zeros too many are refused, not broadcast.
    status, body = scale({"slots": 300})
    assert status == 400 and str(body["error"]).startswith("300 worker slots is more than the")
    assert "at most 256 a node (256 in all)" in str(body["error"])
    # The cluster's one slot, asked for again: nothing to change.
    assert scale({"slots": 1}) == (200, {"slots": 1, "changes": {}})


def test_pause_resume_and_the_emergency_stop(
    client: TestClient, operator_key: str, user_key: str
) -> None:
    def post(path: str) -> dict[str, object]:
        answer = client.post(path, headers=bearer(operator_key))
        assert answer.status_code == 200, answer.text
        body: dict[str, object] = answer.json()
        return body

    assert post("/v1/cluster/pause") == {"paused": True}
    try:
        jobs = [
            client.post(
                "/v1/jobs", json={"project": colour_project(1.0)}, headers=bearer(user_key)
            ).json()["id"]
            for _ in range(2)
        ]
        stopped = post("/v1/cluster/emergency-stop")
        cancelled = stopped["cancelled"]
        assert isinstance(cancelled, list) and set(jobs) <= set(cancelled)
        assert stopped["paused"] is True
        for job_id in jobs:
            record = client.get(f"/v1/jobs/{job_id}", headers=bearer(user_key)).json()
            assert from_wire(JobRecord, record).state is JobState.CANCELLED
    finally:
        assert post("/v1/cluster/resume") == {"paused": False}


def test_billing_shows_a_user_only_their_own_spend(
    client: TestClient,
    store: JobStore,
    user_key: str,
    other_user_key: str,
    operator_key: str,
) -> None:
    now = time.time()
    for job_id, user, cost in (("billa", "alice", 0.25), ("billb", "bob", 1.5)):
        store.create(JobRecord(id=job_id, submitted_at=now, user=user), {})
        store.transition(job_id, JobState.FAILED)  # finished: no other test's active job
        store.update(job_id, actual_cost=cost)
        record_spend(store.redis, "", user, cost, now)
    today = time.strftime("%Y-%m-%d", time.gmtime(now))

    def billing(key: str) -> Billing:
        answer = client.get("/v1/billing?days=7", headers=bearer(key))
        assert answer.status_code == 200, answer.text
        return from_wire(Billing, answer.json())

    alice = billing(user_key)
    assert alice.jobs.get("billa") == 0.25 and "billb" not in alice.jobs
    assert alice.by_day == {today: pytest.approx(0.25)} and alice.total == pytest.approx(0.25)
    bob = billing(other_user_key)
    assert "billa" not in bob.jobs and bob.by_day[today] == pytest.approx(1.5)
    everyone = billing(operator_key)
    assert {"billa", "billb"} <= set(everyone.jobs)
    assert everyone.by_day[today] >= 1.75
