"""The simulated job's ETA, which the simulated dispatcher escalates a deadline job by."""

from __future__ import annotations

import pytest

from bench.autoscale_trace import Job
from bench.node_speed import CPU_RATE

CHUNK = 600.0  # units of one chunk: 15 s on one CPU slot


@pytest.mark.parametrize(
    ("chunks", "pending", "running", "rounds"),
    [
        pytest.param(
            1, 1, 0, 1, id="one chunk takes a whole chunk's time, not a quarter (was 1/4)"
        ),
        pytest.param(3, 2, 1, 1, id="fewer chunks than slots: one round"),
        pytest.param(8, 8, 0, 2, id="two full rounds of 4 slots"),
        pytest.param(9, 5, 4, 3, id="a ninth chunk starts a third round"),
        pytest.param(4, 0, 0, 0, id="nothing left"),
    ],
)
def test_eta_in_rounds_of_whole_chunks(
    chunks: int, pending: int, running: int, rounds: int
) -> None:
    job = Job("j", 0.0, CHUNK * chunks, None, False, "normal", chunks, pending, running)
    assert job.eta() == pytest.approx(rounds * CHUNK * CPU_RATE)
