"""What an estimate learns from the chunk records of a finished job (pure parts)."""

from __future__ import annotations

import dataclasses

import pytest

from orchestrator.estimate_fit import JobTiming, alone_speedup, as_if_all_busy, as_if_busy
from orchestrator.estimate_inputs import alone_chunks, chunk_gap, idle_seconds, split_units
from orchestrator.job_record import ChunkRecord, JobRecord


def ran(index: int, node: str, start: float, end: float) -> ChunkRecord:
    """A chunk that ran on `node` from `start` to `end`."""
    return ChunkRecord(
        index=index, start=10 * index, end=10 * index + 10, node=node, started_at=start,
        finished_at=end,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("chunks", "gap"),
    [
        ([], None),
        ([ran(0, "a", 0.0, 1.0)], None),  # nothing ran after another
        ([ran(0, "a", 0.0, 1.0), ran(1, "b", 0.0, 1.0)], None),  # the first wave: no gap
        ([ran(0, "a", 0.0, 1.0), ran(1, "a", 1.2, 2.0)], pytest.approx(0.2)),
        # two slots on one node: each next chunk waits from the latest end before it
        (
            [
                ran(0, "a", 0.0, 1.0),
                ran(1, "a", 0.0, 1.5),
                ran(2, "a", 1.1, 2.0),
                ran(3, "a", 1.6, 3.0),
            ],
            pytest.approx(0.1),
        ),
        # another node's end does not count
        ([ran(0, "a", 0.0, 1.0), ran(1, "b", 0.0, 5.0), ran(2, "b", 5.3, 6.0)], pytest.approx(0.3)),
        # a chunk not yet started, or of no node, is left out
        ([ran(0, "a", 0.0, 1.0), ChunkRecord(index=1, start=10, end=20)], None),
    ],
)
def test_chunk_gap(chunks: list[ChunkRecord], gap: object) -> None:
    assert chunk_gap(chunks) == gap


@pytest.mark.parametrize(
    ("chunks", "finished", "idle"),
    [
        # rendering from 10.0, chunks from 10.1 to 12.0, a 0.2 s merge, done at 12.45: the first
        # pick-up (0.1 s) and the merge's dispatch and the completion (0.25 s) are idle
        ([ran(0, "a", 10.1, 11.0), ran(1, "b", 10.2, 12.0)], 12.45, pytest.approx(0.35)),
        ([ran(0, "a", 10.0, 12.0)], 12.2, pytest.approx(0.0)),
        ([ChunkRecord(index=0, start=0, end=10, reused=True)], 10.3, None),  # nothing ran
        ([ran(0, "a", 10.1, 11.0)], None, None),  # not finished
    ],
)
def test_idle_seconds_are_what_neither_planning_chunks_nor_merge_took(
    chunks: list[ChunkRecord], finished: float | None, idle: object
) -> None:
    job = JobRecord(id="j", frames=20, submitted_at=9.9, started_at=10.0, finished_at=finished)
    job.chunks = chunks
    assert idle_seconds(job, 0.2) == idle


def done(index: int, node: str, start: float, end: float, seconds: float) -> ChunkRecord:
    """A 10-frame chunk that ran on `node` and reported `seconds`."""
    return dataclasses.replace(ran(index, node, start, end), seconds=seconds)


def test_alone_chunks_compares_lone_and_shared_chunks_of_a_job() -> None:
    # two waves of two chunks side by side (1.6 s each), then one alone (1.0 s): 1.6x faster
    chunks = [
        done(0, "n", 0.0, 1.6, 1.6),
        done(1, "n", 0.0, 1.6, 1.6),
        done(2, "n", 1.6, 3.2, 1.6),
        done(3, "n", 1.6, 3.2, 1.6),
        done(4, "n", 3.2, 4.2, 1.0),
    ]
    found = alone_chunks(chunks)
    assert found["alone_seconds"] == pytest.approx(1.0)
    assert found["alone_speedup"] == pytest.approx(1.6)
    # every chunk on a node of its own: alone, but nothing to compare with
    apart = alone_chunks([done(0, "a", 0.0, 1.0, 1.0), done(1, "b", 0.0, 1.0, 1.0)])
    assert apart == {"alone_seconds": pytest.approx(2.0)}
    assert alone_chunks([]) == {"alone_seconds": 0.0}


def test_lone_speed_is_learned_from_the_first_job_and_fits_as_if_busy() -> None:
    base = JobTiming(100, 0.1, 0.1, busy_seconds=10.0, rendered_frames=100, units=50.0)
    assert alone_speedup([base]) is None  # no job ran chunks both alone and beside another
    # The 2026-12-07 quiet run: the first job's lone chunks ran 1.53x at a pipeline of 1.84; a
    # vignetted 720p film (1.82) then ran 1.5x alone, which the benchmark had priced at 1.18x.
    first = dataclasses.replace(base, alone_speedup=1.53, pipeline=1.84)
    assert alone_speedup([first], pipeline=1.82) == pytest.approx(1.52, abs=0.01)
    assert alone_speedup([first], pipeline=1.36) == pytest.approx(1.23, abs=0.01)
    jobs = [dataclasses.replace(base, alone_speedup=s, alone_seconds=2.0) for s in (1.4, 1.6)]
    assert alone_speedup(jobs) == pytest.approx(1.5)
    jobs.append(dataclasses.replace(base, alone_speedup=1.7))
    assert alone_speedup(jobs) == pytest.approx(1.6)
    assert alone_speedup([dataclasses.replace(base, alone_speedup=0.8)] * 3) == 1.0
    busy = as_if_busy(jobs[0], 1.5)
    assert (busy.busy_seconds, busy.alone_seconds) == pytest.approx((11.0, 0.0))


# Three finished jobs: (lone-chunk speed-up they measured, their pipeline parallelism).
MEASURED = [(1.4, 1.8), (1.6, 2.0), (1.2, 1.4)]


@pytest.mark.parametrize(
    ("pipeline", "speedup"),
    [
        (0.0, 1.4),  # no parallelism given: the median, as before
        (1.8, 1.4),  # the typical timeline: the median
        (2.0, 1.5),  # more of it overlaps: 1 + 0.4 x 1.0 / 0.8
        (1.2, 1.1),  # compositing dwarfs the encoder (sharpen + glow): little gain
        (1.0, 1.0),  # nothing overlaps: no gain
        (3.0, 1.6),  # more than any job measured: the fastest measured, not 2.0
    ],
)
def test_lone_speed_follows_the_timelines_overlap(pipeline: float, speedup: float) -> None:
    base = JobTiming(100, 0.1, 0.1, busy_seconds=10.0, rendered_frames=100, units=50.0)
    jobs = [dataclasses.replace(base, alone_speedup=s, pipeline=p) for s, p in MEASURED]
    assert alone_speedup(jobs, pipeline=pipeline) == pytest.approx(speedup)
    # Records from before jobs kept their parallelism: the median whatever the timeline.
    old = [dataclasses.replace(j, pipeline=0.0) for j in jobs]
    assert alone_speedup(old, pipeline=pipeline) == pytest.approx(1.4)


def test_each_job_counts_as_busy_at_its_own_lone_speed() -> None:
    base = JobTiming(100, 0.1, 0.1, busy_seconds=10.0, rendered_frames=100, units=50.0)
    jobs = [dataclasses.replace(base, alone_speedup=s, pipeline=p) for s, p in MEASURED]
    # one job ran only lone chunks (nothing to compare with): its parallelism's speed-up
    lone = dataclasses.replace(base, alone_seconds=2.0, pipeline=2.0)
    measured = dataclasses.replace(jobs[1], alone_seconds=2.0)
    busy = as_if_all_busy([lone, measured, jobs[0], jobs[2]])
    assert busy[0].busy_seconds == pytest.approx(10.0 + 2.0 * 0.5)
    assert busy[1].busy_seconds == pytest.approx(10.0 + 2.0 * 0.6)
    # from the first job that measured it on (1.6x at the same parallelism), not the third
    assert as_if_all_busy([lone, measured])[0].busy_seconds == pytest.approx(10.0 + 2.0 * 0.6)
    # before any job measured it, nothing changes
    assert as_if_all_busy([lone]) == [lone]


@pytest.mark.parametrize(
    ("estimate", "units", "expected"),
    [
        # a job's units, split as its estimate record split the complexity per frame
        ({"parts": {"encode": 0.3, "layer": 0.1}}, 800.0, {"encode": 600.0, "layer": 200.0}),
        ({"parts": {"encode": 0.3}}, 0.0, {}),  # nothing rendered
        (None, 100.0, {}),  # submitted without an estimate
        ({"complexity": 0.4}, 100.0, {}),  # a record of an older version: no split
        ({"parts": "encode"}, 100.0, {}),
        ({"parts": {"encode": "a lot"}}, 100.0, {}),
        ({"parts": {"encode": 0.3, "layer": -0.1}}, 100.0, {}),
        ({"parts": {}}, 100.0, {}),
    ],
)
def test_split_units(estimate: dict | None, units: float, expected: dict[str, float]) -> None:
    assert split_units(estimate, units) == pytest.approx(expected)
