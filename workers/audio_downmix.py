"""Folding a surround (5.1, 7.1, ...) source into the stereo mix, ITU-R BS.775 style.

Left takes the front left (and left-of-centre) channel whole, the centre and every other
left-side channel (surround, back, wide, top) at -3 dB; right likewise; a centre channel
(front, back, top) goes to both at -3 dB; LFE is dropped, as BS.775 drops it. The matrix is
then scaled so no output row sums past 1: a source at full scale in every channel cannot clip
the fold (libswresample normalises only for integer output and the mix is float, so its own
5.1 fold summed to 2.4 times full scale).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

#: -3 dB, the level BS.775 gives centre and surround channels in a stereo fold.
MINUS_3DB = math.sqrt(0.5)

#: Channels that reach their side at unity (front left/right and their inner pair).
_FRONTS = frozenset({"FL", "FR", "FLC", "FRC"})


def downmix_matrix(channels: list[str]) -> npt.NDArray[np.float32]:
    """The (2, len(channels)) matrix folding channels named as FFmpeg names them ("FL",
    "LFE", "SL"...) into left and right, normalised so neither row sums past 1."""
    matrix = np.zeros((2, len(channels)), dtype=np.float64)
    for index, name in enumerate(channels):
        if name.startswith("LFE"):
            continue  # low-frequency effects: dropped, as BS.775 and players do
        gain = 1.0 if name in _FRONTS else MINUS_3DB
        if name.endswith("L"):
            matrix[0, index] = gain
        elif name.endswith("R"):
            matrix[1, index] = gain
        else:  # FC, BC, TC, TFC, TBC, BFC and unnamed ones: centred
            matrix[:, index] = MINUS_3DB
    peak = float(np.abs(matrix).sum(axis=1).max())
    if peak > 1.0:
        matrix /= peak
    return matrix.astype(np.float32)


def downmixed(samples: npt.NDArray[np.float32], channels: list[str]) -> npt.NDArray[np.float32]:
    """Float samples (channels x N) of the named channels folded to stereo (2 x N)."""
    return np.asarray(downmix_matrix(channels) @ samples, dtype=np.float32)
