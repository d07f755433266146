"""The job's audio task in an estimate (orchestrator.estimates, orchestrator.costing): an
audio-only job is that task alone, not free and instant; beside chunks it is billed and only
lengthens the job when it outlasts them."""

from __future__ import annotations

import pytest

from orchestrator.costing import Throughput, estimate
from orchestrator.estimates import Overheads
from tests.orchestrator.test_estimates import chunks, option, run

WORK = {"billing": "work", "max_nodes": 1}  # this cluster's slots: billed for busy seconds


def test_an_audio_only_job_takes_and_costs_its_audio_task() -> None:
    overheads = Overheads(startup_seconds=0.5, per_chunk_seconds=0.0, merge_seconds=0.2,
                          merge_seconds_per_frame=0.0)  # fmt: skip
    # 30 units at 1 s per unit: 30 s of the task, then the merge writes the file.
    got = run([], option(**WORK), overheads=overheads, audio_units=30.0)
    assert got.seconds.p50 == pytest.approx(0.5 + 30 + 0.2)
    assert got.cost.p50 == pytest.approx((30 + 0.2) * 3.6 / 2 / 3600)  # $3.60/h for 2 slots
    silent = run([], option(**WORK), overheads=overheads)
    assert silent.seconds.p50 == pytest.approx(0.5 + 0.2)


def test_a_longer_mix_takes_longer() -> None:
    short = run([], option(**WORK), audio_units=10.0)
    long = run([], option(**WORK), audio_units=40.0)
    assert long.seconds.p50 == pytest.approx(4 * short.seconds.p50)
    assert long.cost.p50 == pytest.approx(4 * short.cost.p50)


def test_beside_chunks_the_audio_is_billed_and_waited_for_only_when_longer() -> None:
    # 4 chunks of 10 s on 2 slots: 20 s.
    video = run(chunks(4), option(**WORK))
    short = run(chunks(4), option(**WORK), audio_units=5.0)
    long = run(chunks(4), option(**WORK), audio_units=50.0)
    assert short.seconds.p50 == pytest.approx(video.seconds.p50) == pytest.approx(20.0)
    assert long.seconds.p50 == pytest.approx(50.0)
    assert short.cost.p50 == pytest.approx(video.cost.p50 * 45 / 40)


def test_on_cloud_nodes_the_audio_keeps_a_node_alive() -> None:
    got = run([], option(max_nodes=1), audio_units=90.0)  # billed per node-second, 60 s least
    assert got.seconds.p50 == pytest.approx(90.0)
    assert got.cost.p50 == pytest.approx(90 * 3.6 / 3600)


@pytest.mark.parametrize("units", [-1.0, float("nan"), float("inf")])
def test_audio_units_must_be_a_sane_number(units: float) -> None:
    with pytest.raises(ValueError, match="audio units"):
        run([], option(), audio_units=units)


def test_the_quote_of_an_audio_only_job_is_its_task() -> None:
    rate = Throughput(seconds_per_unit=0.5, samples=3)
    got = estimate(0, 0.0, rate, workers=2, chunk_count=0, hourly_rate=3.6, basis="history",
                   startup_seconds=1.0, audio_units=20.0)  # fmt: skip
    assert got.node_seconds == pytest.approx(10.0)
    assert got.wall_seconds == pytest.approx(11.0)
    assert got.cost == pytest.approx(0.01)
    # Beside 40 s of chunk work on 2 workers (20 s), a 10 s task adds its cost, not its time.
    mixed = estimate(100, 0.8, rate, workers=2, chunk_count=2, hourly_rate=3.6,
                     basis="history", startup_seconds=1.0, per_chunk_seconds=0.0,
                     audio_units=20.0)  # fmt: skip
    assert mixed.node_seconds == pytest.approx(50.0)
    assert mixed.wall_seconds == pytest.approx(21.0)
