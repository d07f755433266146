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
import re
from typing import Any

import numpy as np
import numpy.typing as npt

#: -3 dB, the level BS.775 gives centre and surround channels in a stereo fold.
MINUS_3DB = math.sqrt(0.5)

#: Channels that reach their side at unity (front left/right and their inner pair).
_FRONTS = frozenset({"FL", "FR", "FLC", "FRC"})


#: FFmpeg's name for channels in no known order ("6 channels": a WAV without a channel mask).
UNORDERED = re.compile(r"^\d+ channels$")

#: The layout FFmpeg's default for a channel count gives channels a file leaves unnamed
#: (av_channel_layout_default, which the ffmpeg tool applies with "Guessed Channel Layout"):
#: 6 channels are 5.1, 8 are 7.1, so the LFE is dropped and the surrounds folded at -3 dB
#: rather than all of them averaged.
DEFAULT_LAYOUTS: dict[int, tuple[str, tuple[str, ...]]] = {
    6: ("5.1", ("FL", "FR", "FC", "LFE", "BL", "BR")),
    8: ("7.1", ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR")),
}


def named_channels(layout: str, names: list[str]) -> list[str] | None:
    """The channels' names for the fold: their own in a known layout, FFmpeg's default layout's
    for 6 or 8 unnamed ones (DEFAULT_LAYOUTS), None for other unnamed ones (averaged)."""
    if not UNORDERED.match(layout):
        return names
    guess = DEFAULT_LAYOUTS.get(len(names))
    return None if guess is None else list(guess[1])


def layout_note(layout: str, count: int) -> str | None:
    """What a file's sound with ``count`` channels in ``layout`` is taken as, where it names no
    layout and DEFAULT_LAYOUTS guesses one (None otherwise)."""
    guess = DEFAULT_LAYOUTS.get(count) if UNORDERED.match(layout) else None
    if guess is None:
        return None
    name, channels = guess
    return (
        f"its sound has {count} channels and no channel layout (a WAV without a channel "
        f"mask): they are taken as {name} ({' '.join(channels)}), as FFmpeg does, and folded "
        "to stereo with the LFE dropped"
    )


def stream_layout_note(stream: Any) -> str | None:
    """layout_note for a PyAV audio stream (None without one, or without a decoder)."""
    ctx = None if stream is None else stream.codec_context
    return None if ctx is None else layout_note(ctx.layout.name, ctx.channels)


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
