"""Reading a clip's sound from its source file, for the mixer (workers.audio_mix).

The clip's audio stream (``audio_stream``, 0-based among the file's audio streams; only its
``audio_channel``, played centred, when the clip names one) is decoded
lazily from just before its ``source_start``, resampled by libswresample (which also does the
anti-aliasing for speed changes) and handed out block by block through a `Window`, so memory
stays bounded however long the source is.

Frames are placed by their timestamps (``workers.audio_clock``): a gap in them is silence, an
overlap is dropped. Source time zero is the file's first video frame when it has video (the
zero the picture side uses, so lip sync holds even when the audio stream starts earlier or
later), else the start of the container; a clip whose ``source_start`` is below zero is silent
until source time zero.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Generator, Iterator
from fractions import Fraction

import av
import av.error
import numpy as np
import numpy.typing as npt
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer

from chunking.timeline.model import Clip
from common.errors import AssetNotFound, DecodeError, MediaError, TimelineError
from workers import audio_clock
from workers.audio_resample import resampled
from workers.media_open import open_media, reason
from workers.probe_first_frame import PROBE_PACKETS

Samples = npt.NDArray[np.float32]  # channels x N, float32, nominally in [-1, 1]

#: Decoded before source_start after a seek: AAC and Opus need a frame or more of pre-roll and
#: MP3 a bit reservoir before their output is right, and seeks can land a little late.
SEEK_PREROLL = Fraction(1, 2)

_HALF = Fraction(1, 2)


@contextlib.contextmanager
def clip_audio(clip: Clip, path: str, rate: int, limit: int) -> Iterator[Window | None]:
    """The clip's source audio from its ``source_start`` on, resampled to ``rate``, at most
    ``limit`` samples (fewer where the source or ``source_end`` ends it); None when the file
    has no sound. Errors reading or decoding it, in the block too, name the clip and file."""
    # No look at the file before open_media: a stat on a mount that stopped answering hangs
    # as its open does, and only the open is watched (a missing file is its AssetNotFound).
    reached = [Fraction(0)]  # source seconds decoded so far: where damage stops the decoder
    try:
        opened = open_media(path)
    except MediaError as exc:
        raise type(exc)(f"clip {clip.id!r}: {exc}") from None
    try:
        with opened as container:
            stream = _audio_stream(container, clip, path)
            if stream is None:
                yield None
                return
            for end in (clip.source_end, _declared_end(container, stream)):
                if end is not None:
                    span = Fraction(end) - Fraction(clip.source_start)
                    limit = min(limit, max(0, math.floor(span * rate)))
            channel = _picked_channel(stream, clip, path)
            chunks = _source_chunks(
                container,
                stream,
                Fraction(clip.source_start),
                rate,
                limit,
                f"clip {clip.id!r}: {path}",
                channel,
                reached,
                f"clip {clip.id!r}: no decodable audio frame in {path}",
            )
            try:
                yield Window(chunks, 1 if channel is not None else _channels(stream))
            finally:
                chunks.close()
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise AssetNotFound(f"clip {clip.id!r}: cannot read {path}: {reason(exc)}") from None
    except (av.error.FFmpegError, OSError) as exc:
        # The words validate and the video side use: PyAV's errno and C call say nothing here.
        raise DecodeError(
            f"clip {clip.id!r}: corrupt audio at about {float(reached[0]):.3f}s in {path}: "
            f"{reason(exc)}"
        ) from None


class Window:
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


def _audio_stream(container: InputContainer, clip: Clip, path: str) -> AudioStream | None:
    """The clip's audio stream (``audio_stream``, 0-based among the file's audio streams)."""
    streams = container.streams.audio
    index = 0 if clip.audio_stream is None else clip.audio_stream
    if index < 0:
        raise TimelineError(f"clip {clip.id!r}: audio_stream must be 0 or more, got {index}")
    if index >= len(streams):
        if index == 0:
            return None
        raise MediaError(
            f"clip {clip.id!r}: audio_stream {index} does not exist: {path} has "
            f"{len(streams)} audio stream{'' if len(streams) == 1 else 's'} (numbered from 0)"
        )
    stream = streams[index]
    if stream.codec_context is None:
        raise DecodeError(f"clip {clip.id!r}: no decoder for the audio codec of {path}")
    return stream


def _picked_channel(stream: AudioStream, clip: Clip, path: str) -> int | None:
    """The 0-based channel the clip plays alone (its ``audio_channel``), or None for all."""
    if clip.audio_channel is None:
        return None
    count = stream.codec_context.channels
    if count == 1:
        return None  # a mono file (a relinked proxy, a mixdown): its one channel is every channel
    if not 1 <= clip.audio_channel <= count:
        raise TimelineError(
            f"clip {clip.id!r}: audio_channel {clip.audio_channel} does not exist: the sound of "
            f"{path} has {count} channel{'s' * (count != 1)}"
        )
    return clip.audio_channel - 1


def _channels(stream: AudioStream) -> int:
    # Mono stays mono and is broadcast into both mix channels: letting swresample upmix it
    # would lower it by 3 dB. Everything else is folded to stereo (surround by
    # audio_resample.mixed_down).
    return 1 if stream.codec_context.channels == 1 else 2


def _source_chunks(
    container: InputContainer,
    stream: AudioStream,
    start: Fraction,
    rate: int,
    limit: int | None,
    who: str,
    channel: int | None = None,
    reached: list[Fraction] | None = None,
    soundless: str | None = None,
) -> Generator[Samples, None, None]:
    """Source audio from ``start`` seconds on, at ``rate``, at most ``limit`` samples (only
    the 0-based ``channel``, as mono, when one is given); ``reached[0]`` follows the end of
    the last frame decoded, in source seconds (where a decode error is to be reported);
    ``soundless``: the DecodeError raised when the stream has no decodable frame at all."""
    channels = 1 if channel is not None else _channels(stream)
    stream_time_base = stream.time_base
    if stream_time_base is None:
        raise DecodeError(f"{who}: the audio stream has no time base")
    origin = _origin(container)
    frames: Iterator[AudioFrame] = container.decode(stream)
    grid = None
    if audio_clock.coarse(stream_time_base, stream.codec_context.sample_rate or 1):
        # Where the frames fall when the sound runs on from the start, read from the start
        # before any seek, so a trimmed clip places its first frame as an untrimmed one does.
        opening = list(itertools.islice(frames, 2))
        grid = audio_clock.grid_of(opening, stream_time_base, origin)
        frames = itertools.chain(opening, frames)
    seeked = start - SEEK_PREROLL > 0 and _seeks_true(container, stream)
    if seeked:
        target = origin + start - SEEK_PREROLL
        try:
            container.seek(math.floor(target / stream_time_base), stream=stream)
        except av.error.FFmpegError as exc:
            # FFmpeg answers EPERM where a stream has nothing to seek to, which read as "cannot
            # read FILE: Operation not permitted", as if the file were locked.
            if soundless is not None and not _decodes_from_start(container, stream):
                raise DecodeError(soundless) from None
            raise DecodeError(f"{who}: cannot seek in its audio: {reason(exc)}") from None
        frames = container.decode(stream)
        if reached is not None:
            reached[0] = start - SEEK_PREROLL
    if reached is not None:
        frames = _noted(frames, stream_time_base, origin, reached)
    head = next(frames, None)
    if head is None:
        # Past the end of short sound this is silence; a stream with no frame anywhere (a
        # track with no blocks, a damaged sample table) is refused as validate refuses it
        # (``probe_first_frame.first_frame_problems``): the render mixed silence without a word.
        if soundless is not None and not (seeked and _decodes_from_start(container, stream)):
            raise DecodeError(soundless)
        return
    if head.pts is None and seeked:
        raise DecodeError(f"{who}: the audio has no timestamps to seek by")
    layout = "mono" if channels == 1 else "stereo"
    remaining = limit
    cursor: int | None = None  # output index of the next sample; index 0 is `start`
    placed = audio_clock.runs(itertools.chain([head], frames), stream_time_base, origin, grid)
    for at, run in placed:
        index = -math.floor((start - at) * rate + _HALF)
        if cursor is None:
            cursor = min(index, 0)
        drop = max(0, cursor - index)  # sound whose timestamps go back over what was played
        if index > cursor:
            # A gap in the timestamps (or audio that starts after `start`): silence.
            for size in _blocks(index - max(cursor, 0)):
                if remaining == 0:
                    return
                lead, remaining = _cap(np.zeros((channels, size), dtype=np.float32), remaining)
                yield lead
            cursor = index
        for out in resampled(run, layout, rate, channel):
            if remaining == 0:
                return
            data, drop = _skip(_finite(np.asarray(out.to_ndarray(), dtype=np.float32)), drop)
            seen, cursor = _skip(data, -cursor)[0], cursor + data.shape[1]
            seen, remaining = _cap(seen, remaining)
            if seen.shape[1]:
                yield seen
        if remaining == 0:
            return


def _decodes_from_start(container: InputContainer, stream: AudioStream) -> bool:
    """Whether a frame of ``stream`` decodes among its first packets (as many as validate
    reads, ``probe_first_frame.PROBE_PACKETS``), read from the start of the file."""
    container.seek(0)
    for count, packet in enumerate(container.demux(stream)):
        if packet.stream.index == stream.index and packet.decode():
            return True
        if count >= PROBE_PACKETS:
            break
    return False


def _noted(
    frames: Iterator[AudioFrame], base: Fraction, origin: Fraction, reached: list[Fraction]
) -> Iterator[AudioFrame]:
    """The frames, each noting in ``reached[0]`` the source second its sound ends at."""
    for frame in frames:
        if frame.pts is not None and frame.sample_rate:
            end = frame.pts * base + Fraction(frame.samples, frame.sample_rate) - origin
            reached[0] = max(Fraction(0), end)
        yield frame


#: Demuxers that seek by byte rate: right for PCM, wrong for ADPCM (FFmpeg lands a third of
#: the way for IMA or MS ADPCM blocks, and stamps the frame with the time asked for).
_BYTE_RATE_SEEKING = frozenset({"wav", "w64"})


def _seeks_true(container: InputContainer, stream: AudioStream) -> bool:
    """Whether a seek in this stream lands where its timestamps say (else it is read from the
    start: ADPCM decodes hundreds of times faster than real time)."""
    name = stream.codec_context.name
    return not (container.format.name in _BYTE_RATE_SEEKING and name.startswith("adpcm_"))


def _blocks(count: int, size: int = 1 << 16) -> Iterator[int]:
    """``count`` split into pieces of at most ``size`` (long gaps are not one allocation)."""
    for done in range(0, max(count, 0), size):
        yield min(size, count - done)


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
    if not stream.duration or stream.time_base is None:
        return None  # none declared; 0 is what some muxers write then, not a length: silence
    return ((stream.start_time or 0) + stream.duration) * stream.time_base - _origin(container)


def _finite(data: Samples) -> Samples:
    """The samples with NaN and infinities (a damaged or hostile float WAV) made silence."""
    # One such sample makes the AAC encoder refuse the whole render, and an effect's filter
    # would smear it over the rest of the clip; a player skips it, and so does the mix.
    if np.isfinite(data).all():
        return data
    return np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)


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
