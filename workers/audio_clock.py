"""Where a source's decoded audio frames belong in time, from their timestamps.

A file's sound is not always continuous: a recorder that drops packets leaves a gap in the
timestamps, a splice can make them go back. Counting samples from the first frame would play
everything after a gap early (out of sync with the picture), so frames are placed by their
timestamps, in *runs*: a frame continues the run before it when its timestamp agrees with the
samples counted so far, within the timestamps' own rounding; otherwise it starts a new run at
its timestamp (the caller fills a gap with silence and drops what overlaps). A timestamp the
next frame does not bear out is taken for a misdated frame, not a gap (Ogg Vorbis dates the
frame where the block size changes up to 448 samples late, and the next one right again).

The tolerance is the rounding and nothing more, so that every gap the file can express is kept
and the placement is a pure function of the file: a render that seeks into the middle of the
source puts each sample where a render from the start does. For exact timestamps (MP4, WAV,
MPEG-TS at 90 kHz) that is half a sample or one timestamp unit, whichever is larger. Matroska
and WebM keep whole milliseconds, coarser than a sample; there a packet's rounding plus the
decoder's own (when it trims Opus pre-skip after a seek) reach one unit, so the tolerance is
1.5 units (1.5 ms) and a gap shorter than that cannot be told from rounding. A frame that
starts a run on such coarse timestamps (the first one after a seek, the first after a gap) is
put on the stream's frame grid: where the frames would end had the sound been continuous from
the stream's first frame, when its end lies within the tolerance of that grid. That is what
makes a trimmed Opus clip line up with the untrimmed one to the sample.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction

from av.audio.frame import AudioFrame

_HALF = Fraction(1, 2)


@dataclass(frozen=True)
class Grid:
    """Frame boundaries of a stream whose sound runs on from its first frame: ``end`` (where
    the first frame ends, in seconds) plus whole ``steps`` (a full frame's duration)."""

    end: Fraction
    step: Fraction

    def snap(self, at: Fraction, length: Fraction, tolerance: Fraction) -> Fraction:
        """Start of a frame seen at ``at`` lasting ``length``: moved so it ends on the grid
        when its end is within ``tolerance`` of it, else ``at`` as it is."""
        end = at + length
        on = self.end + math.floor((end - self.end) / self.step + _HALF) * self.step
        return on - length if abs(end - on) < tolerance else at


def coarse(time_base: Fraction, rate: int) -> bool:
    """Whether a stream's timestamp unit is longer than one of its samples (Matroska's ms)."""
    return time_base * rate > 1


def grid_of(opening: list[AudioFrame], time_base: Fraction, origin: Fraction) -> Grid | None:
    """The frame grid from a stream's first two decoded frames (None if it cannot tell)."""
    if len(opening) < 2:
        return None
    first, second = opening
    if first.pts is None or first.sample_rate != second.sample_rate or second.samples == 0:
        return None
    at = first.pts * (first.time_base or time_base) - origin
    return Grid(at + Fraction(first.samples, first.sample_rate),
                Fraction(second.samples, second.sample_rate))  # fmt: skip


def tolerance(time_base: Fraction, rate: int) -> Fraction:
    """How far (in seconds) a frame's timestamp may stray from the count and still continue
    it: the timestamps' rounding (see the module's docstring)."""
    unit = time_base * rate  # samples per timestamp unit
    if unit > 1:
        return Fraction(3, 2) * time_base
    return max(unit, _HALF) / rate


def runs(
    frames: Iterable[AudioFrame], time_base: Fraction, origin: Fraction, grid: Grid | None
) -> Iterator[tuple[Fraction, Iterator[AudioFrame]]]:
    """The frames in runs of continuous sound: (start in seconds from ``origin``, frames)."""
    source = iter(frames)
    ahead: deque[AudioFrame] = deque(itertools.islice(source, 2))
    expected: Fraction | None = None  # where the next frame would start, were it continuous

    def at(frame: AudioFrame) -> Fraction | None:
        if frame.pts is None:
            return None
        return frame.pts * (frame.time_base or time_base) - origin

    def agrees(frame: AudioFrame, when: Fraction) -> bool:
        seen = at(frame)
        slack = tolerance(frame.time_base or time_base, frame.sample_rate)
        return seen is None or abs(seen - when) < slack

    def length(frame: AudioFrame) -> Fraction:
        return Fraction(frame.samples, frame.sample_rate)

    def start_of(frame: AudioFrame, later: list[AudioFrame]) -> Fraction | None:
        """Where a run starts at this frame; None when it continues the one before."""
        seen = at(frame)
        if seen is None:
            return Fraction(0) if expected is None else None  # no timestamps: from zero
        # A stamp that the next frame does not bear out is the stamp's fault, not a gap: Ogg
        # Vorbis misdates the frame where the block size changes by up to 448 samples.
        if expected is not None:
            if agrees(frame, expected) or (later and agrees(later[0], expected + length(frame))):
                return None
        elif len(later) == 2 and not agrees(later[0], seen + length(frame)):
            then = at(later[0])
            if then is not None and agrees(later[1], then + length(later[0])):
                seen = then - length(frame)
        base = frame.time_base or time_base
        if grid is not None and coarse(base, frame.sample_rate):
            seen = grid.snap(seen, length(frame), tolerance(base, frame.sample_rate))
        return seen

    def placed() -> Iterator[tuple[Fraction | None, AudioFrame]]:
        nonlocal expected
        while ahead:
            frame = ahead.popleft()
            ahead.extend(itertools.islice(source, 2 - len(ahead)))
            start = start_of(frame, list(ahead))
            if start is not None:
                expected = start
            assert expected is not None
            expected += length(frame)
            yield start, frame

    stream = placed()
    pending = next(stream, None)

    def run(first: AudioFrame) -> Iterator[AudioFrame]:
        nonlocal pending
        yield first
        for start, frame in stream:
            if start is not None:
                pending = (start, frame)  # the next run's first frame
                return
            yield frame

    # Each run is read to its end before the next is asked for (the mixer does).
    while pending is not None:
        (start, first), pending = pending, None
        assert start is not None
        yield start, run(first)
