"""The start a job costs each slot (its first chunk there takes longer than the job's later
ones): measured from the chunk records, kept out of the rate per unit, priced per slot."""

from __future__ import annotations

import dataclasses

import pytest

from orchestrator.estimate_fit import (
    JobTiming,
    fit_throughput,
    learned_overheads,
    lone_speedup,
    without_starts,
)
from orchestrator.estimate_inputs import alone_chunks, slot_starts
from orchestrator.estimates import Option, Overheads, estimate_options
from orchestrator.job_record import ChunkRecord

#: The synthetic node: 2 slots, 0.01 s a unit with both busy, 0.3 s to start a job on a slot.
RATE, START, SLOTS = 0.01, 0.3, 2


def chunk(index: int, start: float, seconds: float, frames: int = 100) -> ChunkRecord:
    """A chunk of `frames` frames that ran on the one node from `start` for `seconds`."""
    return ChunkRecord(
        index=index, start=frames * index, end=frames * (index + 1), node="n",
        started_at=start, finished_at=start + seconds, seconds=seconds,
    )  # fmt: skip


def ran(chunks: int, units_per_frame: float, frames: int = 100) -> list[ChunkRecord]:
    """A job's chunks on the 2 slots, each slot's first paying START, then in turn."""
    seconds = frames * units_per_frame * RATE
    free = [0.0] * SLOTS
    found = []
    for i in range(chunks):
        slot = min(range(SLOTS), key=lambda s: free[s])
        took = seconds + (START if i < SLOTS else 0.0)
        found.append(chunk(i, free[slot], took, frames))
        free[slot] += took
    return found


def timing(chunks: list[ChunkRecord], units_per_frame: float) -> JobTiming:
    """What ``recent_timings`` reads of a job of these chunks."""
    frames = sum(c.frames for c in chunks)
    return JobTiming(
        frames=frames,
        startup_seconds=0.0,  # the overheads besides the chunks are not what is tested
        merge_seconds=0.0,
        busy_seconds=sum(c.seconds or 0.0 for c in chunks),
        rendered_frames=frames,
        units=frames * units_per_frame,
        chunks=len(chunks),
        **alone_chunks(chunks),
        **slot_starts(chunks),
    )


def test_slot_starts_measures_what_each_slots_first_chunk_took_over_the_later_ones() -> None:
    found = slot_starts(ran(6, 1.0))
    assert found["first_chunks"] == 2
    assert found["start_seconds"] == pytest.approx(START)
    # Two chunks, both first: nothing later to compare them with, but both are counted.
    assert slot_starts(ran(2, 1.0)) == {"first_chunks": 2}
    assert slot_starts([]) == {"first_chunks": 0}


def test_the_lone_speed_up_leaves_each_slots_first_chunk_out() -> None:
    # Two first chunks paying the start (1.8 s), a pair beside (1.6 s), one alone (1.0 s): the
    # speed-up is 1.6x; the first chunks counted as beside read 1.7x.
    chunks = [
        chunk(0, 0.0, 1.8),
        chunk(1, 0.0, 1.8),
        chunk(2, 1.8, 1.6),
        chunk(3, 1.8, 1.6),
        chunk(4, 3.4, 1.0),
    ]
    assert alone_chunks(chunks)["alone_speedup"] == pytest.approx(1.6)


def option(fit_rate: float) -> Option:
    """This cluster's option on the synthetic node (a lone chunk no faster: the start alone)."""
    return Option(
        pool="this-cluster", provider="local", market="on-demand", instance_type="slots",
        min_nodes=1, max_nodes=1, slots_per_node=SLOTS, boot_seconds=0.0, price_per_hour=0.1,
        seconds_per_unit=fit_rate, spread=0.05, billing="work",
    )  # fmt: skip


def test_a_short_job_is_priced_with_its_slots_start_and_a_long_one_without_excess() -> None:
    # The 2026-12-07 evening quiet run: each slot's first chunk of a job took 0.1-0.3 s longer
    # whatever its size; the rate absorbed it, so jobs of one or two waves were priced short.
    jobs = [timing(ran(n, u), u) for n, u in [(30, 0.2), (2, 1.5), (11, 0.8), (5, 1.0), (3, 0.5)]]
    bare = Overheads(startup_seconds=0.0, per_chunk_seconds=0.0, merge_seconds=0.0,
                     merge_seconds_per_frame=0.0)  # fmt: skip
    learned = learned_overheads(jobs, prior=bare)
    assert learned.slot_start_seconds == pytest.approx(START)
    short, long = [(100, 100 * 0.6)] * 2, [(100, 100 * 0.6)] * 40
    truth = {"short": 0.6 + START, "long": 20 * 0.6 + START}

    def priced(work: list[tuple[int, float]], overheads: Overheads, fitted: list[JobTiming]):
        fit = fit_throughput(fitted)
        assert fit is not None
        return estimate_options(
            work, [option(fit.seconds_per_unit)], deadline=None, max_cost=None,
            overheads=overheads,
        )[0].seconds.p50  # fmt: skip

    before = {"short": priced(short, bare, jobs), "long": priced(long, bare, jobs)}
    after = {
        name: priced(work, learned, without_starts(jobs, learned.slot_start_seconds))
        for name, work in (("short", short), ("long", long))
    }
    assert before["short"] / truth["short"] - 1 < -0.1  # the short job priced short
    assert before["long"] / truth["long"] - 1 > 0.05  # and the long one long
    for name, seconds in after.items():
        assert seconds == pytest.approx(truth[name], rel=0.02)


def test_without_starts_leaves_jobs_alone_when_no_start_is_known() -> None:
    jobs = [timing(ran(5, 1.0), 1.0)]
    assert without_starts(jobs, 0.0) == jobs
    less = without_starts(jobs, START)[0]
    assert less.busy_seconds == pytest.approx(jobs[0].busy_seconds - 2 * START)
    # Never more than half a job's seconds (a start measured on another job's content).
    tiny = dataclasses.replace(jobs[0], busy_seconds=0.4)
    assert without_starts([tiny], START)[0].busy_seconds == pytest.approx(0.2)


def test_a_one_chunk_job_measures_its_lone_speed_up_with_its_start() -> None:
    # Its only chunk paid the start and ran 1.25x the all-busy rate: (work + start) / 1.25.
    jobs = [timing(ran(n, 1.0), 1.0) for n in (6, 8, 10)]
    fit = fit_throughput(without_starts(jobs, START))
    assert fit is not None
    one = JobTiming(
        frames=100, startup_seconds=0.03, merge_seconds=0.03, busy_seconds=(1.0 + START) / 1.25,
        rendered_frames=100, units=100.0, chunks=1, alone_seconds=(1.0 + START) / 1.25,
        first_chunks=1,
    )  # fmt: skip
    assert lone_speedup([one], fit) != pytest.approx(1.25, rel=0.01)  # the start read as work
    assert lone_speedup([one], fit, start=START) == pytest.approx(1.25, rel=0.01)
