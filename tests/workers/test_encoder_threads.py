"""How a node shares its cores between render slots and their encoders."""

from __future__ import annotations

import pytest

from workers.encoder import threads_per_slot


@pytest.mark.parametrize(
    ("cores", "slots", "threads"),
    [
        (16, 16, 1),  # one slot per core: chunks are the parallelism
        (16, 4, 4),
        (16, 3, 5),  # the remainder stays free for decoders and the compositor thread
        (2, 2, 1),
        (2, 1, 2),
        (1, 4, 1),  # more slots than cores: never zero threads
        (0, 1, 1),  # an unknown core count
        (8, 0, 8),
    ],
)
def test_threads_per_slot_share_out_the_cores(cores: int, slots: int, threads: int) -> None:
    assert threads_per_slot(cores, slots) == threads
