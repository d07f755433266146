"""``cloudrender status JOB --json``: exits as ``status`` does (1 for a failed or cancelled
job), and with ``--watch`` prints the record as JSON Lines (one object a line as it changes,
the last one the final record), over Redis and over HTTP."""

from __future__ import annotations

import json

import pytest

from orchestrator.job_record import JobRecord, JobState
from orchestrator.job_store import JobStore
from tests.helpers import CLI
from tests.server import conftest as server_fixtures

pytestmark = pytest.mark.timeout(300)

# The service's fixtures (tests/server/conftest.py), found by name.
server_cluster = server_fixtures.server_cluster
key_store = server_fixtures.key_store
user_key = server_fixtures.user_key
api_app = server_fixtures.api_app
live_server = server_fixtures.live_server


def ended(store: JobStore, job_id: str, state: JobState, user: str = "") -> None:
    """A job that ran and ended in `state`."""
    store.create(JobRecord(id=job_id, state=JobState.QUEUED, frames=10, user=user), {})
    for step in (JobState.PLANNING, JobState.RENDERING):
        store.transition(job_id, step)
    if state is JobState.COMPLETED:
        store.transition(job_id, JobState.MERGING)
    store.transition(job_id, state, error="boom" if state is JobState.FAILED else None)


def json_lines(stdout: str) -> list[dict[str, object]]:
    lines = stdout.splitlines()
    assert lines, "nothing printed"
    return [json.loads(line) for line in lines]


def check_exits(run: CLI, failed: str, completed: str, cancelled: str) -> None:
    for args in ((), ("--json",), ("--watch",), ("--json", "--watch")):
        done = run("status", failed, *args)
        assert done.returncode == 1, (args, done.stderr)
        # A cancelled job has no video either: `status JOB && download JOB` must stop here
        off = run("status", cancelled, *args)
        assert off.returncode == 1, (args, off.stderr)
        fine = run("status", completed, *args)
        assert fine.returncode == 0, (args, fine.stderr)
    watched = run("status", failed, "--json", "--watch")
    assert [r["state"] for r in json_lines(watched.stdout)] == ["failed"]
    assert json.loads(run("status", completed, "--json").stdout)["state"] == "completed"


def test_status_json_exits_as_status_and_watch_prints_json_lines(cli: CLI, redis_url: str) -> None:
    store = JobStore.from_url(redis_url)
    ended(store, "bad", JobState.FAILED)
    ended(store, "good", JobState.COMPLETED)
    ended(store, "off", JobState.CANCELLED)
    check_exits(cli.with_env(CLOUDRENDER_BROKER_URL=redis_url), "bad", "good", "off")


def test_watching_a_running_job_as_json_ends_with_its_final_record(
    cli: CLI, redis_url: str
) -> None:
    store = JobStore.from_url(redis_url)
    store.create(JobRecord(id="run", state=JobState.QUEUED, frames=10), {})
    store.transition("run", JobState.PLANNING)
    store.transition("run", JobState.RENDERING)

    watcher = cli.with_env(CLOUDRENDER_BROKER_URL=redis_url).start(
        "status", "run", "--json", "--watch"
    )
    try:
        assert watcher.stdout is not None
        first = watcher.stdout.readline()  # the job is still rendering when this line comes
        store.transition("run", JobState.MERGING)
        store.transition("run", JobState.COMPLETED)
        rest, err = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
    assert watcher.returncode == 0, err
    states = [r["state"] for r in json_lines(first + rest)]
    assert states[0] == "rendering" and states[-1] == "completed", states
    assert len(states) == len((first + rest).splitlines())  # one object a line, no text


def test_status_json_over_http_exits_as_status(
    cli: CLI, live_server: str, user_key: str, server_cluster: server_fixtures.ServerCluster
) -> None:
    store = JobStore.from_url(server_cluster.broker_url)
    ended(store, "bad-http", JobState.FAILED, user="alice")
    ended(store, "good-http", JobState.COMPLETED, user="alice")
    ended(store, "off-http", JobState.CANCELLED, user="alice")
    run = cli.with_env(
        CLOUDRENDER_API_URL=live_server,
        CLOUDRENDER_API_KEY=user_key,
        CLOUDRENDER_BROKER_URL=None,
        CLOUDRENDER_STORAGE_URL=None,
    )
    check_exits(run, "bad-http", "good-http", "off-http")
