"""Failover decisions as tables: lost and stalled chunks, stragglers."""

from __future__ import annotations

import pytest

from orchestrator.health import (
    PLAN_STALE,
    PLANNING_LEASE,
    PLANNING_STALE,
    lost_chunks,
    lost_plan,
    lost_tasks,
    stragglers,
)
from orchestrator.job_record import ChunkRecord, ChunkState, JobState

NOW = 1000.0


def chunk(
    index: int,
    state: ChunkState,
    node: str | None = "a",
    started: float | None = 900.0,
    updated: float | None = None,
    seconds: float | None = None,
    speculative: bool = False,
) -> ChunkRecord:
    return ChunkRecord(
        index,
        index * 10,
        index * 10 + 10,
        state=state,
        node=node,
        started_at=started,
        updated_at=updated,
        seconds=seconds,
        speculative=speculative,
    )


@pytest.mark.parametrize(
    ("chunks", "live", "expected"),
    [
        ([chunk(0, ChunkState.RUNNING, updated=999.0)], {"a"}, []),  # alive and reporting
        ([chunk(0, ChunkState.RUNNING, updated=999.0)], set(), []),  # too fresh to judge
        ([chunk(0, ChunkState.RUNNING, updated=990.0)], set(), [0]),  # its node is gone
        ([chunk(0, ChunkState.RUNNING, updated=930.0)], {"a"}, [0]),  # silent for 70 s
        ([chunk(0, ChunkState.DONE, updated=100.0)], set(), []),
        ([chunk(0, ChunkState.PENDING, node=None)], set(), []),
    ],
)
def test_lost_chunks(chunks: list[ChunkRecord], live: set[str], expected: list[int]) -> None:
    assert lost_chunks(chunks, live, NOW) == expected


def test_stragglers_need_history_and_skip_copied_chunks() -> None:
    done = [chunk(i, ChunkState.DONE, seconds=10.0) for i in range(3)]
    slow = chunk(3, ChunkState.RUNNING, started=NOW - 31)
    quick = chunk(4, ChunkState.RUNNING, started=NOW - 5)
    copied = chunk(5, ChunkState.RUNNING, started=NOW - 100, speculative=True)
    assert stragglers([*done, slow, quick, copied], NOW) == [3]
    assert stragglers([*done[:2], slow], NOW) == []  # two finished chunks are no median


ALL_DONE = {"0", "1", "audio"}


@pytest.mark.parametrize(
    ("state", "done", "sent", "alive", "expected"),
    [
        # audio not reported for 30 s while rendering: sent again
        (JobState.RENDERING, {"0"}, {"audio": 960.0, "merge": 0.0}, 0.0, ["audio"]),
        (JobState.RENDERING, {"0"}, {"audio": 980.0, "merge": 0.0}, 0.0, []),
        # every part done, the merge sent 10 s ago and never started: sent again
        (JobState.RENDERING, ALL_DONE, {"audio": 900.0, "merge": 985.0}, 0.0, ["merge"]),
        (JobState.RENDERING, ALL_DONE, {"audio": 900.0, "merge": 995.0}, 0.0, []),
        # a running merge that renews its lease is left alone, however long it takes
        (JobState.MERGING, ALL_DONE, {"audio": 0.0, "merge": 100.0}, 995.0, []),
        # one whose lease ran out (its worker died, or Redis restarted under it) is resent
        (JobState.MERGING, ALL_DONE, {"audio": 0.0, "merge": 100.0}, 960.0, ["merge"]),
        (JobState.MERGING, ALL_DONE, {"audio": 0.0, "merge": 990.0}, 0.0, []),
        # a chunk still missing: no merge yet
        (JobState.RENDERING, {"0", "audio"}, {"audio": 0.0, "merge": 0.0}, 0.0, []),
    ],
)
def test_lost_tasks(
    state: JobState, done: set[str], sent: dict[str, float], alive: float, expected: list[str]
) -> None:
    assert lost_tasks(state, done, 2, sent, alive, NOW) == expected


@pytest.mark.parametrize(
    ("state", "sent", "started", "alive", "expected"),
    [
        # waiting over a minute for its plan task (lost with an orchestrator): sent again
        (JobState.QUEUED, NOW - PLAN_STALE - 1, 0.0, 0.0, "again"),
        (JobState.QUEUED, NOW - PLAN_STALE + 1, 0.0, 0.0, None),
        (JobState.QUEUED, 0.0, 0.0, 0.0, None),  # a job from before plan_sent_at was kept
        # planning abandoned (its orchestrator died in it): another copy takes over
        (JobState.PLANNING, NOW - 600, NOW - PLANNING_STALE - 1, 0.0, "takeover"),
        (JobState.PLANNING, NOW - 600, NOW - 5, 0.0, None),
        # its lease not renewed for PLANNING_LEASE: its orchestrator died mid-plan
        (JobState.PLANNING, NOW - 600, NOW - 60, NOW - PLANNING_LEASE - 1, "takeover"),
        (JobState.PLANNING, NOW - 600, NOW - 60, NOW - PLANNING_LEASE + 1, None),
        # a long planning that renews its lease is left to finish
        (JobState.PLANNING, NOW - 600, NOW - PLANNING_STALE - 1, NOW - 2, None),
        (JobState.RENDERING, NOW - 600, NOW - 600, 0.0, None),
    ],
)
def test_lost_plan(
    state: JobState, sent: float, started: float, alive: float, expected: str | None
) -> None:
    assert lost_plan(state, sent, started, NOW, alive) == expected
