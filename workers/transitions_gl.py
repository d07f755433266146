"""Transitions whose editor export names a gl-transitions shader (``gl=transition=NAME``) and
whose preview draws nothing of its own, drawn as that shader (gl-transitions.com, MIT).

* ``burn`` (gl-transitions ``burn.glsl``, by gre):
  ``mix(from + progress*color, to + (1 - progress)*color, progress)`` with ``color`` (0.9, 0.4,
  0.2): a crossfade that brightens toward orange, ``2p(1 - p)*color`` at ``p``, clamped to 1
  like the shader's 8-bit framebuffer. On see-through clips the glow is added to the mixed
  picture's colour, so it lights only what shows.
"""

from __future__ import annotations

import numpy as np

from workers.arrays import module_of
from workers.layer import Layer
from workers.transitions_mix import F1, alpha_of, mix, rgb_of

#: burn.glsl's default ``color``.
BURN_COLOR = (0.9, 0.4, 0.2)
GL_TRANSITIONS = frozenset({"burn"})


def gl_transition(kind: str, p: float, a: Layer, b: Layer) -> Layer:
    """Mix ``a`` and ``b`` at progress ``p`` in [0, 1] as the gl-transitions shader ``kind``."""
    fp = np.float32(p)
    out = mix(rgb_of(a), alpha_of(a), rgb_of(b), alpha_of(b), fp)
    glow = np.float32(2) * fp * (F1 - fp)
    xp = module_of(out.rgb)
    for c, level in enumerate(BURN_COLOR):
        out.rgb[..., c] += glow * np.float32(level)
    xp.minimum(out.rgb, F1, out=out.rgb)
    return out
