"""Failover decisions as tables: lost and stalled chunks, stragglers."""

from __future__ import annotations

import pytest

from orchestrator.health import lost_chunks, stragglers
from orchestrator.jobs import ChunkRecord, ChunkState

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
