"""AudioDucking in the mix: clips that lower themselves while the other tracks play.

A ducking clip listens to every clip of the other tracks that does not itself duck (so two
ducking music beds never chase each other), as mixed, volumes and effects included. Ducking
clips are therefore mixed after all the others, into a bed of their own, each keyed on the same
mix of the rest; the bed is added last.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from workers.audio_effects_base import Samples
from workers.audio_effects_plan import ClipPlan

#: What a ducking clip listens to: (plan, first mix sample, count) -> (2, count) samples.
KeyFor = Callable[[ClipPlan, int, int], Samples]

#: The mixer adding one clip into a buffer that holds mix samples [base, base + its width).
Render = Callable[[Samples, ClipPlan, int, KeyFor | None], None]


def mix_ducking(mix: Samples, plans: list[ClipPlan], render: Render) -> None:
    """Add the ducking clips of ``plans`` into ``mix``, which holds every other clip."""
    ducking = [plan for plan in plans if plan.ducks]
    if not ducking:
        return

    def key(plan: ClipPlan, at: int, n: int) -> Samples:
        heard = np.zeros((2, n), dtype=np.float32)
        lo, hi = max(at, 0), min(at + n, mix.shape[1])
        if hi > lo:
            heard[:, lo - at : hi - at] = mix[:, lo:hi]
        # Its own track is not "the others": take out that track's other clips.
        own = np.zeros_like(heard)
        for other in plans:
            if other.track is plan.track and not other.ducks:
                render(own, other, at, None)
        heard -= own
        return heard

    bed = np.zeros_like(mix)
    for plan in ducking:
        render(bed, plan, 0, key)
    mix += bed
