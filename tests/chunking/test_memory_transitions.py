"""Each transition's working memory stays within what the frame estimate counts for it."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from chunking.memory import TRANSITION_BPP, TRANSITION_KIND_BPP
from chunking.timeline.catalogue import TRANSITIONS
from workers.layer import Layer
from workers.transitions import apply_transition

#: What the estimate counts for both sides expanded to the canvas with alpha, made before the mix.
SIDES_BPP = 32


@pytest.mark.parametrize("kind", sorted(TRANSITIONS))
def test_a_transitions_working_memory_is_within_its_estimate(kind: str) -> None:
    height, width = 180, 320
    rng = np.random.default_rng(0)
    a = Layer(
        rng.random((height, width, 3), dtype=np.float32), rng.random((height, width), np.float32)
    )
    b = Layer(
        rng.random((height, width, 3), dtype=np.float32), rng.random((height, width), np.float32)
    )
    apply_transition(kind, 0.5, a, b)  # caches warm (counted separately)
    worst = 0
    tracemalloc.start()
    try:
        for p in (0.13, 0.37, 0.5, 0.71, 0.93):
            tracemalloc.reset_peak()
            apply_transition(kind, p, a, b)
            worst = max(worst, tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    budget = TRANSITION_KIND_BPP.get(kind, TRANSITION_BPP) - SIDES_BPP
    assert worst / (height * width) <= budget, f"{kind}: {worst / (height * width):.1f} B/px"
