"""Two copies of a merge that arrive together once the merge's lease lapsed (its worker died,
and the tick resent it while the broker gave the first copy back) must not both take over:
each read the stale lease, then both renewed it, and two merges stitched, delivered and
removed the job's parts side by side (the first to finish removing the other's inputs)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from common.settings import Settings
from orchestrator.celery_app import make_app
from orchestrator.health import MERGE_LEASE
from orchestrator.job_record import ChunkRecord, JobRecord, JobState
from orchestrator.job_store import JobStore
from orchestrator.worker_hooks import WorkerHooks

pytestmark = pytest.mark.timeout(30)


def _merging_with_a_lapsed_lease(redis_url: str) -> tuple[WorkerHooks, WorkerHooks]:
    app = make_app(Settings(broker_url=redis_url, result_backend=redis_url))
    first = WorkerHooks(JobStore.from_url(redis_url), app)
    second = WorkerHooks(JobStore.from_url(redis_url), app)
    store = first.store
    store.create(JobRecord(id="j", submitted_at=time.time(), frames=10), {"chunks": [[0, 10]]})
    store.set_chunks("j", [ChunkRecord(0, 0, 10)], {"chunks": [[0, 10]]})
    for state in (JobState.PLANNING, JobState.RENDERING):
        store.transition("j", state)
    assert first.merge_started("j")
    store.update("j", merge_alive_at=time.time() - MERGE_LEASE - 1)  # that merge died
    return first, second


@pytest.mark.parametrize("after", [1, 2, 3])
def test_two_copies_taking_over_a_lapsed_merge_at_once_start_one_merge(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, after: int
) -> None:
    """The other copy runs whole right after the first's ``after``-th Redis command, wherever
    that falls in its check of the lease."""
    first, second = _merging_with_a_lapsed_lease(redis_url)
    real = first.store.redis.execute_command
    commands: list[str] = []
    others: list[bool] = []

    def then_the_other_copy(*args: Any, **options: Any) -> Any:
        result = real(*args, **options)
        commands.append(str(args[0]))
        if len(commands) == after:
            others.append(second.merge_started("j"))
        return result

    monkeypatch.setattr(first.store.redis, "execute_command", then_the_other_copy)
    mine = first.merge_started("j")
    monkeypatch.undo()
    assert others, f"merge_started made only {len(commands)} Redis commands"
    assert [mine, others[0]].count(True) == 1


def test_a_lapsed_merge_is_still_taken_over(redis_url: str) -> None:
    first, second = _merging_with_a_lapsed_lease(redis_url)
    assert second.merge_started("j")
    assert not first.merge_started("j")  # the new holder's lease is fresh
    assert second.store.state("j") is JobState.MERGING
