"""How a node shares its cores between render slots and their encoders."""

from __future__ import annotations

import pytest

from orchestrator.local_workers import local_slots, threads_per_slot


@pytest.mark.parametrize(
    ("cores", "slots", "threads"),
    [
        (16, 16, 1),  # one slot per core: chunks are the parallelism
        (16, 8, 2),  # a 16-core node's own cluster (local_slots): 2 x264 threads a slot
        (16, 4, 4),
        (16, 3, 5),  # the remainder stays free for decoders and the compositor thread
        (2, 2, 1),
        (2, 1, 2),  # not x264's own 3: measured, 3 costs more CPU and memory for no wall gain
        (1, 4, 1),  # more slots than cores: never zero threads
        (0, 1, 1),  # an unknown core count
        (8, 0, 8),
    ],
)
def test_threads_per_slot_share_out_the_cores(cores: int, slots: int, threads: int) -> None:
    assert threads_per_slot(cores, slots) == threads


@pytest.mark.parametrize("cores", [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 96, 128])
def test_slots_never_oversubscribe_the_node(cores: int) -> None:
    # Every slot count up to the cores, and the one a local render picks: the slots' encoder
    # threads together never outnumber the cores (each slot's compositor thread overlaps them).
    for slots in {*range(1, cores + 1), local_slots(cores)}:
        threads = threads_per_slot(cores, slots)
        assert threads >= 1
        assert slots * threads <= cores
