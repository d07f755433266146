"""The sound of a clip played backwards (Clip.reverse): the forward clip's samples, reversed.

Clip sample i of a reversed clip of ``length`` mix samples is forward sample ``length - 1 - i``
(the sound's mirror of Clip.mirrored's frames). The forward samples a part [lo, hi) needs,
[length - hi, length - lo), are read in order as the forward clip reads them (decoded once,
from the clip's source_start, resampled for its speed), held (as a clip with audio effects is:
memory grows by that part of the clip, 4 bytes a sample a channel) and handed out flipped,
block by block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from workers.audio_source import Samples

#: Forward clip samples [a, b), block by block: (b0, b1, samples) (audio_mix's reader).
Reader = Callable[[int, int], Iterator[tuple[int, int, Samples]]]


def forward_span(length: int, lo: int, hi: int) -> tuple[int, int]:
    """The forward clip samples a reversed clip's samples [lo, hi) are made from."""
    return length - hi, length - lo


def reversed_blocks(
    read: Reader, channels: int, length: int, lo: int, hi: int, block: int
) -> Iterator[tuple[int, int, Samples]]:
    """A reversed clip's samples [lo, hi) of ``length``, block by block: (b0, b1, samples)."""
    first, last = forward_span(length, lo, hi)
    forward = np.zeros((channels, last - first), dtype=np.float32)
    for b0, b1, chunk in read(first, last):
        forward[:, b0 - first : b1 - first] = chunk
    backward = forward[:, ::-1]
    for b0 in range(lo, hi, block):
        b1 = min(b0 + block, hi)
        yield b0, b1, np.ascontiguousarray(backward[:, b0 - lo : b1 - lo])
