"""A source's audio frames turned into the mix's format: float planar, its layout and rate.

libswresample resamples (and anti-aliases speed changes); what it cannot do right is done here
first: one channel taken alone, a surround source folded to stereo by ``workers.audio_downmix``
(swresample's own float fold overshoots), channels in no order FFmpeg knows mixed down evenly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import av
import av.error
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler

from workers.audio_downmix import UNORDERED, downmixed, named_channels


def resampled(
    frames: Iterable[AudioFrame], layout: str, rate: int, channel: int | None = None
) -> Iterator[AudioFrame]:
    resampler: AudioResampler | None = None
    setup: tuple[str, str, int] | None = None
    mix_here = channel is not None  # one channel alone: taken here, never remixed
    for frame in frames:
        this_setup = (frame.format.name, frame.layout.name, frame.sample_rate)
        if resampler is None or this_setup != setup:
            # Some streams change rate or layout mid-file; a resampler only takes one setup.
            if resampler is not None:
                yield from resampler.resample(None)
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            setup = this_setup
            mix_here = channel is not None or surround(frame, layout)
        if mix_here:
            frame = mixed_down(frame, layout, channel)
        try:
            yield from resampler.resample(frame)
        except av.error.FFmpegError:
            if mix_here or not UNORDERED.match(frame.layout.name):
                raise
            # Channels in no order FFmpeg has a layout for (9, 11, 64 of them...): its
            # resampler cannot remix them; they are mixed down here, each weighing the same.
            mix_here = True
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            yield from resampler.resample(mixed_down(frame, layout))
    if resampler is not None:
        yield from resampler.resample(None)


def surround(frame: AudioFrame, layout: str) -> bool:
    """Whether the frame is surround in a known order, folded here into stereo: swresample's
    own fold sums to 2.4 times full scale in float (``workers.audio_downmix``). Six or eight
    unnamed channels are taken as FFmpeg's default 5.1 or 7.1 (a WAV without a channel mask)."""
    channels = [c.name for c in frame.layout.channels]
    return (
        layout == "stereo"
        and len(channels) > 2
        and named_channels(frame.layout.name, channels) is not None
    )


#: Full scale of each integer sample format, and its midpoint (unsigned 8-bit is offset).
_SCALES = {np.dtype(np.uint8): (128.0, 128.0), np.dtype(np.int16): (32768.0, 0.0),
           np.dtype(np.int32): (2147483648.0, 0.0), np.dtype(np.int64): (2.0**63, 0.0)}  # fmt: skip


def mixed_down(frame: AudioFrame, layout: str, channel: int | None = None) -> AudioFrame:
    """A frame as one float frame of ``layout`` ("mono" or "stereo"): its 0-based ``channel``
    alone, surround folded by ``workers.audio_downmix``, or the mean of all its channels
    (unordered ones), in each output channel."""
    channels = len(frame.layout.channels)
    data = frame.to_ndarray()
    if not frame.format.is_planar:
        data = data.reshape(-1, channels).T
    scale, middle = _SCALES.get(data.dtype, (1.0, 0.0))
    picked = data[channel : channel + 1] if channel is not None else data
    floats = (picked.astype(np.float32) - middle) / scale
    if channel is None and surround(frame, layout):
        names = [c.name for c in frame.layout.channels]
        folded = downmixed(floats, named_channels(frame.layout.name, names) or names)
    else:
        folded = np.tile(floats.mean(axis=0), (1 if layout == "mono" else 2, 1))
    mixed = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(folded, dtype=np.float32), format="fltp", layout=layout
    )
    mixed.sample_rate = frame.sample_rate
    mixed.pts, mixed.time_base = frame.pts, frame.time_base
    return mixed
