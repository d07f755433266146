"""Mixing a timeline's audio into one stereo float32 buffer at the timeline's sample rate.

Each clip is decoded lazily from just before its ``source_start``, resampled by libswresample
(which also does the anti-aliasing for speed changes) and added into the mix block by block, so
memory stays bounded by the mix itself however long the sources are.

Source time zero is the file's first video frame when it has video (the zero the picture side
uses, so lip sync holds even when the audio stream starts earlier or later), else the start of
the container; a clip whose ``source_start`` is below zero is silent until source time zero.

A clip with audio effects (its own, then its track's; ``workers.audio_effects``) is decoded
whole into a buffer of its own first (so memory grows by that clip): source -> clip effects ->
clip volume and fades -> track effects -> track volume, as a channel strip orders inserts and
faders. ``workers.audio_effects_plan`` turns tempo changes and crossfades into how the clip is
read; clips that duck are mixed last, listening to the rest (``audio_effects_ducking``).
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np
import numpy.typing as npt
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import InputContainer

from chunking.timeline.model import Clip, FileSource, Timeline, TrackKind
from common.errors import AssetNotFound, DecodeError, MediaError, TimelineError
from workers.audio_effects import run_chain
from workers.audio_effects_ducking import KeyFor, mix_ducking
from workers.audio_effects_plan import ClipPlan, plan_clips
from workers.media_open import open_media

Samples = npt.NDArray[np.float32]  # channels x N, float32, nominally in [-1, 1]

#: The mix is one array; past this it would be safer to fail the job than to thrash the node.
MAX_MIX_BYTES = 4 * 1024**3

#: Decoded before source_start after a seek: AAC and Opus need a frame or more of pre-roll and
#: MP3 a bit reservoir before their output is right, and seeks can land a little late.
SEEK_PREROLL = Fraction(1, 2)

#: Output samples handled per step; bounds the per-clip working memory.
BLOCK = 1 << 16

#: Files a video track may hold that never carry sound; not worth opening with FFmpeg.
STILL_IMAGE_SUFFIXES = frozenset(
    {
        ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".heic", ".heif",
        ".avif", ".svg", ".tga", ".exr", ".dpx", ".psd", ".ico",
    }
)  # fmt: skip

_HALF = Fraction(1, 2)


def mix_length(timeline: Timeline) -> int:
    """Number of samples in the timeline's mix: frames / fps * sample_rate, rounded half up."""
    _check_rates(timeline)
    return math.floor(Fraction(timeline.frames) / timeline.fps * timeline.sample_rate + _HALF)


def sample_offset(frame: int, timeline: Timeline) -> int:
    """First mix sample at or after the start of a timeline frame (exact, floored)."""
    return math.floor(Fraction(frame) / timeline.fps * timeline.sample_rate)


def mix_timeline(timeline: Timeline) -> Samples:
    """Mix every audible clip of the timeline into a (2, N) float32 array clipped to [-1, 1]."""
    length = mix_length(timeline)
    needed = 2 * length * np.dtype(np.float32).itemsize
    if needed > MAX_MIX_BYTES:
        raise TimelineError(
            f"timeline is {float(timeline.frames / timeline.fps) / 3600:.2f} h long; its audio "
            f"mix at {timeline.sample_rate} Hz would need {needed / 1024**3:.1f} GiB, over the "
            f"{MAX_MIX_BYTES / 1024**3:.0f} GiB limit: split the render or lower the sample rate"
        )
    mix = np.zeros((2, length), dtype=np.float32)
    plans = plan_clips(timeline)
    # Summation order is fixed (track order, then clip order, ducking clips last) so the result
    # is bit-identical from run to run even though float addition is not associative.
    for plan in plans:
        if not plan.ducks:
            _mix_clip(mix, plan, timeline)
    mix_ducking(
        mix, plans, lambda dest, plan, base, key: _mix_clip(dest, plan, timeline, base, key)
    )
    np.clip(mix, -1.0, 1.0, out=mix)
    return mix


def _check_rates(timeline: Timeline) -> None:
    if timeline.fps <= 0:
        raise TimelineError(f"timeline fps must be positive, got {timeline.fps}")
    if timeline.sample_rate <= 0:
        raise TimelineError(f"timeline sample_rate must be positive, got {timeline.sample_rate}")
    if timeline.frames < 0:
        raise TimelineError(f"timeline frames must not be negative, got {timeline.frames}")


@dataclass(frozen=True)
class _Placement:
    """Where a clip's samples go and how they are read from its source."""

    offset: int  # buffer index of the clip's first sample (may be outside the buffer)
    length: int  # clip length in mix samples
    lo: int  # first clip-relative sample that lands inside the buffer
    hi: int  # one past the last one
    source_rate: int  # rate the source is resampled to before the speed change
    step: float  # source samples (at source_rate) per mix sample


def _place(clip: Clip, timeline: Timeline, base: int, size: int) -> _Placement | None:
    """Where the clip lands in a buffer holding mix samples [base, base + size)."""
    if clip.speed <= 0:
        raise TimelineError(f"clip {clip.id}: speed must be positive, got {clip.speed}")
    rate = timeline.sample_rate
    offset = sample_offset(clip.start, timeline)
    length = sample_offset(clip.end, timeline) - offset
    offset -= base
    lo, hi = max(0, -offset), min(length, size - offset)
    if lo >= hi:
        return None
    # Resampling to rate / speed lets swresample band-limit the change; the speed is then just
    # a change of rate. Rounding that rate to an integer leaves a ratio within a few ppm of 1,
    # taken up by linear interpolation so the clip covers exactly the source span it should.
    source_rate = rate if clip.speed == 1 else max(1, round(rate / clip.speed))
    step = clip.speed * source_rate / rate
    return _Placement(offset, length, lo, hi, source_rate, step)


def _mix_clip(
    dest: Samples, plan: ClipPlan, timeline: Timeline, base: int = 0, key: KeyFor | None = None
) -> None:
    """Add the plan's clip into ``dest``, which holds mix samples [base, base + its width)."""
    clip, track = plan.clip, plan.track
    if clip.muted or not isinstance(clip.source, FileSource):
        return
    gain = clip.volume * track.volume
    if gain == 0:
        return
    place = _place(clip, timeline, base, dest.shape[1])
    if place is None:
        return
    path = clip.source.path
    if track.kind is TrackKind.VIDEO and Path(path).suffix.lower() in STILL_IMAGE_SUFFIXES:
        return
    if not os.path.isfile(path):
        raise AssetNotFound(f"clip {clip.id}: audio source {path!r} is missing or not a file")
    try:
        opened = open_media(path)
    except MediaError as exc:
        raise type(exc)(f"clip {clip.id}: audio source: {exc}") from None
    rate = timeline.sample_rate
    buffer: Samples | None = None
    try:
        with opened as container:
            stream = _audio_stream(container, clip, path)
            if stream is None:
                return  # a video without sound, or an image: silence
            # Never decode (or pad with silence) more than the interpolation will look at.
            limit = math.floor((place.hi - 1) * place.step) + 2
            for end in (clip.source_end, _declared_end(container, stream)):
                if end is not None:
                    span = Fraction(end) - Fraction(clip.source_start)
                    limit = min(limit, max(0, math.floor(span * place.source_rate)))
            chunks = _source_chunks(
                container,
                stream,
                Fraction(clip.source_start),
                place.source_rate,
                limit,
                f"clip {clip.id}: {path!r}",
            )
            try:
                window = _Window(chunks, _channels(stream))
                if plan.buffered:
                    # Effects start where the clip does, even where the mix cuts it off.
                    buffer = np.zeros((window.channels, place.hi), dtype=np.float32)
                    for b0, b1, chunk in _read(window, place, 0, place.hi):
                        buffer[:, b0:b1] = chunk
                else:
                    for b0, b1, chunk in _read(window, place, place.lo, place.hi):
                        chunk *= _envelope(b0, b1, place.length, clip, rate, gain)
                        dest[:, place.offset + b0 : place.offset + b1] += chunk
            finally:
                chunks.close()
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise AssetNotFound(f"clip {clip.id}: cannot read audio source {path!r}: {exc}") from exc
    except (av.error.FFmpegError, OSError) as exc:
        raise DecodeError(f"clip {clip.id}: cannot decode audio of {path!r}: {exc}") from exc
    if buffer is not None:
        _add_processed(dest, buffer, plan, place, timeline, key)


def _add_processed(
    dest: Samples,
    buffer: Samples,
    plan: ClipPlan,
    place: _Placement,
    timeline: Timeline,
    key: KeyFor | None,
) -> None:
    """Run the clip's chains over its decoded buffer and add the audible part into dest."""
    clip, rate = plan.clip, timeline.sample_rate
    first = sample_offset(clip.start, timeline)

    def frame_index(frame: int) -> int:
        return sample_offset(frame, timeline) - first

    heard = key(plan, first, place.hi) if key is not None and plan.ducks else None
    buffer = run_chain(buffer, plan.pre, rate, frame_index, clip.id, heard)
    for b0 in range(0, place.hi, BLOCK):
        b1 = min(b0 + BLOCK, place.hi)
        buffer[:, b0:b1] *= _envelope(b0, b1, place.length, clip, rate, clip.volume)
    buffer = run_chain(buffer, plan.post, rate, frame_index, clip.id, heard)
    buffer *= np.float32(plan.track.volume)
    dest[:, place.offset + place.lo : place.offset + place.hi] += buffer[:, place.lo :]


def _audio_stream(container: InputContainer, clip: Clip, path: str) -> AudioStream | None:
    """The clip's audio stream (``audio_stream``, 0-based among the file's audio streams)."""
    streams = container.streams.audio
    index = 0 if clip.audio_stream is None else clip.audio_stream
    if index < 0:
        raise TimelineError(f"clip {clip.id}: audio_stream must be 0 or more, got {index}")
    if index >= len(streams):
        if index == 0:
            return None
        raise MediaError(
            f"clip {clip.id}: audio_stream {index} does not exist: {path!r} has "
            f"{len(streams)} audio stream{'' if len(streams) == 1 else 's'} (numbered from 0)"
        )
    stream = streams[index]
    if stream.codec_context is None:
        raise DecodeError(f"clip {clip.id}: no decoder for the audio codec of {path!r}")
    return stream


def _channels(stream: AudioStream) -> int:
    # Mono stays mono and is broadcast into both mix channels: letting swresample upmix it
    # would lower it by 3 dB. Everything else is folded to stereo by swresample.
    return 1 if stream.codec_context.channels == 1 else 2


def _read(
    window: _Window, place: _Placement, lo: int, hi: int
) -> Iterator[tuple[int, int, Samples]]:
    """Clip samples [lo, hi) at the mix rate, block by block: (b0, b1, samples)."""
    for b0 in range(lo, hi, BLOCK):
        b1 = min(b0 + BLOCK, hi)
        if place.step == 1.0:
            chunk = window.read(b0, b1)
        else:
            # Positions come from the absolute clip index, so rounding never accumulates.
            pos = np.arange(b0, b1, dtype=np.float64) * place.step
            base = np.floor(pos)
            frac = (pos - base).astype(np.float32)
            first = int(base[0])
            idx = base.astype(np.int64) - first
            src = window.read(first, int(base[-1]) + 2)
            left = src[:, idx]
            chunk = left + (src[:, idx + 1] - left) * frac
        yield b0, b1, chunk


def _envelope(
    b0: int, b1: int, length: int, clip: Clip, rate: int, gain: float
) -> npt.NDArray[np.float32]:
    env = np.full(b1 - b0, gain, dtype=np.float64)
    index = np.arange(b0, b1, dtype=np.float64)
    if clip.fade_in > 0:
        env *= np.minimum(1.0, index / (clip.fade_in * rate))
    if clip.fade_out > 0:
        env *= np.minimum(1.0, (length - index) / (clip.fade_out * rate))
    return env.astype(np.float32)


class _Window:
    """Random-ish access to a forward-only stream of sample chunks, for non-decreasing reads."""

    def __init__(self, chunks: Iterator[Samples], channels: int) -> None:
        self._chunks = chunks
        self.channels = channels
        self._data: Samples = np.zeros((channels, 0), dtype=np.float32)
        self._start = 0  # source index of self._data[:, 0]
        self._exhausted = False

    def read(self, a: int, b: int) -> Samples:
        """Source samples [a, b), zero past the end; a must not go below any earlier a."""
        pending = [self._data]
        have = self._start + self._data.shape[1]
        while have < b and not self._exhausted:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._exhausted = True
            else:
                pending.append(chunk)
                have += chunk.shape[1]
        data = np.concatenate(pending, axis=1) if len(pending) > 1 else self._data
        drop = min(max(a - self._start, 0), data.shape[1])
        self._data, self._start = data[:, drop:], self._start + drop
        out = np.zeros((self.channels, b - a), dtype=np.float32)
        s, e = max(a, self._start), min(b, have)
        if e > s:
            out[:, s - a : e - a] = self._data[:, s - self._start : e - self._start]
        return out


def _source_chunks(
    container: InputContainer,
    stream: AudioStream,
    start: Fraction,
    rate: int,
    limit: int | None,
    who: str,
) -> Generator[Samples, None, None]:
    """Source audio from ``start`` seconds on, at ``rate``, at most ``limit`` samples."""
    channels = _channels(stream)
    stream_time_base = stream.time_base
    if stream_time_base is None:
        raise DecodeError(f"{who}: the audio stream has no time base")
    origin = _origin(container)
    seeked = start - SEEK_PREROLL > 0
    if seeked:
        target = origin + start - SEEK_PREROLL
        container.seek(math.floor(target / stream_time_base), stream=stream)
    frames = container.decode(stream)
    head = next(frames, None)
    if head is None:
        return
    if head.pts is None and seeked:
        raise DecodeError(f"{who}: the audio has no timestamps to seek by")
    # Anchor once on the first frame and count samples after that: per-frame timestamps can be
    # rounded (Matroska keeps milliseconds) and would jitter the sample positions.
    first = Fraction(0)
    if head.pts is not None:
        first = head.pts * (head.time_base or stream_time_base) - origin
    skip = math.floor((start - first) * rate + _HALF)  # resampled samples to drop before start
    remaining = limit
    if skip < 0:
        # The audio starts after `start` (a late audio stream): lead in with silence.
        lead, remaining = _cap(np.zeros((channels, -skip), dtype=np.float32), remaining)
        skip = 0
        yield lead
    layout = "mono" if channels == 1 else "stereo"
    for out in _resampled(itertools.chain([head], frames), layout, rate):
        if remaining == 0:
            return
        data, skip = _skip(np.asarray(out.to_ndarray(), dtype=np.float32), skip)
        data, remaining = _cap(data, remaining)
        yield data


def _resampled(frames: Iterable[AudioFrame], layout: str, rate: int) -> Iterator[AudioFrame]:
    resampler: AudioResampler | None = None
    setup: tuple[str, str, int] | None = None
    for frame in frames:
        this_setup = (frame.format.name, frame.layout.name, frame.sample_rate)
        if resampler is None or this_setup != setup:
            # Some streams change rate or layout mid-file; a resampler only takes one setup.
            if resampler is not None:
                yield from resampler.resample(None)
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            setup = this_setup
        yield from resampler.resample(frame)
    if resampler is not None:
        yield from resampler.resample(None)


def _origin(container: InputContainer) -> Fraction:
    for video in container.streams.video:
        if video.disposition & av.stream.Disposition.attached_pic:
            continue  # cover art in a music file is not a picture track
        if video.start_time is not None and video.time_base is not None:
            return video.start_time * video.time_base
    return Fraction(container.start_time or 0, av.time_base)


def _declared_end(container: InputContainer, stream: AudioStream) -> Fraction | None:
    """Where an MP4/MOV's audio ends; its last AAC frame is decoded whole, encoder padding too."""
    if not container.format.name.startswith("mov"):
        return None  # elsewhere durations can be estimates (MP3) or the decoder trims already
    if stream.duration is None or stream.time_base is None:
        return None
    return ((stream.start_time or 0) + stream.duration) * stream.time_base - _origin(container)


def _skip(data: Samples, skip: int) -> tuple[Samples, int]:
    if skip <= 0:
        return data, 0
    cut = min(skip, data.shape[1])
    return data[:, cut:], skip - cut


def _cap(data: Samples, remaining: int | None) -> tuple[Samples, int | None]:
    if remaining is None:
        return data, None
    data = data[:, :remaining]
    return data, remaining - data.shape[1]
