"""How many render slots this machine's own cluster runs when `render` is given no --workers."""

from __future__ import annotations

import pytest

from orchestrator.local_workers import local_slots, machine_memory_mib


@pytest.mark.parametrize(
    ("cores", "memory_mib", "slots"),
    [
        (1, None, 1),  # never none
        (2, None, 1),  # one render process keeps both cores busy (compositor and encoder)
        (3, None, 1),
        (4, None, 2),
        (16, None, 8),
        (0, None, 1),  # os.cpu_count() unknown
        (16, 4096, 4),  # memory for 4 concurrent chunk renders, not 8
        (16, 65536, 8),  # memory to spare: the cores decide
        (4, 512, 1),  # too little for even one: still one
        (2, 1024, 1),
    ],
)
def test_local_slots(cores: int, memory_mib: int | None, slots: int) -> None:
    assert local_slots(cores, memory_mib) == slots


def test_this_machines_memory_is_known() -> None:
    found = machine_memory_mib()
    assert found is not None and found > 0
