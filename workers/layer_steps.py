"""A layer's way into float with its leading per-pixel steps in the same pass.

The compositor turns each decoded 8-bit picture into float, applies the clip's colour
correction, then its effects. When the correction is one colour matrix and the first effects
are per-pixel steps (a vignette's gain, a colour matrix: workers.effect_steps), all of them run
in one pass over the pixels with the conversion (``kernels.to_float_steps``) instead of each
streaming the whole float frame. The steps are the very calls the separate path makes, on a
frame of its own, so the result has the same bits; what cannot be fused is handed back to run
as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from chunking.timeline.model import ColorCorrection, Effect
from workers import kernels
from workers.color import color_step
from workers.effects import pixel_step
from workers.layer import Image
from workers.sources import Rgb8


def float_layer(
    rgb8: Rgb8,
    cc: ColorCorrection,
    effects: Sequence[Effect],
    frame: int,
    reuse: Image | None = None,
) -> tuple[Image, bool, list[Effect]]:
    """``rgb8`` in float with as much of its correction and effects done as one pass can:
    (the image, whether the colour correction is still to apply, the effects still to apply).
    ``reuse``: a float32 array the image may be written into when it is of the same shape and
    the pass does everything (then nothing else sees the image before it is blended)."""
    height, width = rgb8.shape[:2]
    steps, color_left, rest = plan_steps(cc, effects, frame, height, width)
    if color_left:  # tones or gamma: the correction runs as itself, then the effects
        return kernels.to_float(rgb8), True, rest
    fits = reuse is not None and not rest and reuse.shape == (height, width, 3)
    return kernels.to_float_steps(rgb8, steps, reuse if fits else None), False, rest


def plan_steps(
    cc: ColorCorrection, effects: Sequence[Effect], frame: int, height: int, width: int
) -> tuple[list[kernels.Gain | kernels.Affine], bool, list[Effect]]:
    """The steps one pass can run for a height x width picture: (the steps, whether the colour
    correction is left to run as itself (then no step is taken), the effects still to apply)."""
    steps: list[kernels.Gain | kernels.Affine] = []
    if not cc.is_identity():
        color = color_step(cc)
        if color is None:
            return [], True, list(effects)
        steps.append(color)
    rest = list(effects)
    while rest:
        step = pixel_step(rest[0], frame, height, width)
        if step is False:
            break
        if step is not True:
            steps.append(step)
        rest.pop(0)
    return steps, False, rest
