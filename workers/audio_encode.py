"""Encoding a mixed (2, N) float32 buffer into AAC or Opus packets, lazily, for muxing."""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction

import av
import av.error
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.packet import Packet

from chunking.timeline.audio_export import (
    AUDIO_CONTAINERS,
    AUDIO_ENCODERS,
    audio_codec_of,
    audio_only,
)
from chunking.timeline.model import ExportSettings
from common.errors import EncodeError
from workers.audio_mix import Samples
from workers.muxing import bitexact

#: Audio codec for each output container the renderer writes.
CODEC_BY_CONTAINER = {"mp4": "aac", "mov": "aac", "webm": "libopus", "mkv": "libopus"}

#: The same for a lossless export (webm has none): its sound is as exact as its picture.
LOSSLESS_CODEC_BY_CONTAINER = {"mp4": "alac", "mov": "alac", "mkv": "flac"}

#: PyAV / FFmpeg muxer names for the container names used in ExportSettings.
FORMAT_BY_CONTAINER = {"mp4": "mp4", "mov": "mov", "webm": "webm", "mkv": "matroska"}

# The audio-only outputs (-o mix.wav) by their muxers; their codecs come from audio_codec_of.
FORMAT_BY_CONTAINER.update({name: muxer for name, (_, muxer) in AUDIO_CONTAINERS.items()})

#: Samples handed to the resampler at a time; bounds memory, not output framing.
FEED_SAMPLES = 1 << 15

#: Silence fed after the mix when changing rate, longer than swresample's filter delay.
TAIL_PADDING = 4096

#: Framing for encoders that accept any frame size (PCM, FLAC).
DEFAULT_FRAME_SIZE = 1024

#: The audio file's tag holding what its mix warned of (it clipped): a mix the segment cache
#: gives to a later job must warn that job too, and the warning is made only while mixing.
NOTES_TAG = "CLOUDRENDER_NOTES"
#: The audio file's tag holding how long the mix is, in seconds as an exact fraction (samples /
#: mix rate): an audio-only output ends there to the sample, not at the encoder's padded last
#: frame (the merge of a video job ends the sound with the video instead).
LENGTH_TAG = "CLOUDRENDER_SECONDS"


def audio_codec_for(container: str, lossless: bool = False) -> str:
    """The audio codec for an output container: "aac" for mp4/mov, "libopus" for webm/mkv;
    for a lossless export "alac" in mp4/mov and "flac" in mkv."""
    try:
        if lossless and container.lower() in LOSSLESS_CODEC_BY_CONTAINER:
            return LOSSLESS_CODEC_BY_CONTAINER[container.lower()]
        return CODEC_BY_CONTAINER[container.lower()]
    except KeyError:
        raise EncodeError(
            f"no audio codec for container {container!r}; use one of {sorted(CODEC_BY_CONTAINER)}"
        ) from None


def audio_encoder_for(export: ExportSettings) -> str:
    """The FFmpeg audio encoder an export's sound is written with: its chosen codec, else its
    container's (audio_codec_for; an audio-only output's, audio_codec_of)."""
    if export.audio_codec is None and not audio_only(export.container):
        return audio_codec_for(export.container, export.lossless)
    try:
        return AUDIO_ENCODERS[audio_codec_of(export)]
    except KeyError:
        raise EncodeError(
            f"audio codec {export.audio_codec!r} is not one of {', '.join(AUDIO_ENCODERS)}"
        ) from None


def encoder_sample_rate(codec: str, sample_rate: int) -> int:
    """The rate the codec will encode at: sample_rate if it supports it, else the next one up."""
    try:
        rates = av.Codec(codec, "w").audio_rates
    except (av.error.FFmpegError, ValueError) as exc:
        raise EncodeError(f"audio encoder {codec!r} is not available: {exc}") from exc
    if not rates or sample_rate in rates:
        return sample_rate
    higher = [rate for rate in rates if rate >= sample_rate]
    # Going up never loses bandwidth (Opus: 44100 -> 48000); only above the top rate go down.
    return min(higher) if higher else max(rates)


def add_audio_stream(
    container: OutputContainer, codec: str, sample_rate: int, bitrate: int
) -> AudioStream:
    """Add a stereo audio stream to an output container; its rate may differ, see encode_audio."""
    rate = encoder_sample_rate(codec, sample_rate)
    try:
        stream = container.add_stream(codec, rate=rate)
        if not isinstance(stream, AudioStream):
            raise EncodeError(f"{codec!r} is not an audio codec")
        stream.layout = "stereo"
        formats = {fmt.name for fmt in stream.codec_context.codec.audio_formats or ()}
        # Float input keeps the mix's precision up to the encoder (libopus defaults to s16);
        # a lossless one takes 24 bits (FLAC and ALAC read s32 as 24-bit) rather than 16.
        for name in ("fltp", "flt", "s32p", "s32"):
            if name in formats:
                stream.format = name
                break
        stream.bit_rate = bitrate
        stream.time_base = Fraction(1, rate)
    except (av.error.FFmpegError, ValueError) as exc:
        raise EncodeError(
            f"cannot add a {codec} audio stream at {rate} Hz, {bitrate} b/s: {exc}"
        ) from exc
    return stream


def open_encoder(stream: AudioStream) -> None:
    """Open the stream's encoder (if not yet), or say which setting it refused: FFmpeg's own
    words name a C call, and a muxer opening it would be reported against a temporary file."""
    ctx = stream.codec_context
    try:
        ctx.open(strict=False)
    except av.error.FFmpegError as exc:
        kbits = (ctx.bit_rate or 0) / 1000
        raise EncodeError(
            f"the {ctx.name} audio encoder does not take settings.export audio_bitrate "
            f"{kbits:g} kbit/s at {ctx.sample_rate} Hz in stereo ({exc.strerror})"
        ) from None


def encode_audio(
    stream: AudioStream, samples: Samples, sample_rate: int
) -> Iterator[Packet[AudioStream]]:
    """Lazily encode a (2, N) float32 mix at sample_rate into the stream's packets, in order.

    Packets carry pts and time_base in the encoder's time base (1 / encoder rate), so a caller
    can interleave them with video by ``packet.pts * packet.time_base`` and mux them as they come.
    The encoder is flushed after the last sample.
    """
    # Checked here, not in the generator, so a bad call fails where it is made.
    if samples.ndim != 2 or samples.shape[0] != 2:
        raise ValueError(f"expected a (2, N) array of samples, got shape {samples.shape}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    return _translated(stream, np.asarray(samples, dtype=np.float32), sample_rate)


def _translated(
    stream: AudioStream, data: Samples, sample_rate: int
) -> Iterator[Packet[AudioStream]]:
    try:
        yield from _encode(stream, data, sample_rate)
    except (av.error.FFmpegError, ValueError) as exc:
        raise EncodeError(f"audio encoder {stream.codec_context.name} failed: {exc}") from exc


def _encode(stream: AudioStream, data: Samples, sample_rate: int) -> Iterator[Packet[AudioStream]]:
    ctx = stream.codec_context
    open_encoder(stream)  # frame_size is only known once the encoder is open
    rate = ctx.sample_rate
    time_base = Fraction(1, rate)
    frame_size = ctx.frame_size or DEFAULT_FRAME_SIZE
    written = 0

    def encoded(block: Samples) -> Iterator[Packet[AudioStream]]:
        nonlocal written
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(block), format="fltp", layout="stereo"
        )
        frame.sample_rate = rate
        # Our own sample count: exact and gap-free whatever the resampler did.
        frame.pts = written
        frame.time_base = time_base
        written += block.shape[1]
        return iter(stream.encode(frame))

    # Cut into exactly the encoder's frame size; only the last frame may be short.
    pending: list[Samples] = []
    have = 0
    for block in _at_rate(data, sample_rate, rate):
        pending.append(block)
        have += block.shape[1]
        if have < frame_size:
            continue
        joined = np.concatenate(pending, axis=1)
        whole = have - have % frame_size
        for start in range(0, whole, frame_size):
            yield from encoded(joined[:, start : start + frame_size])
        pending, have = [joined[:, whole:]], have - whole
    if have:
        yield from encoded(np.concatenate(pending, axis=1))
    yield from stream.encode(None)


def _at_rate(data: Samples, rate_in: int, rate_out: int) -> Iterator[Samples]:
    """The samples at another rate, in blocks, exactly round(N * rate_out / rate_in) of them."""
    blocks = (
        data[:, start : start + FEED_SAMPLES] for start in range(0, data.shape[1], FEED_SAMPLES)
    )
    if rate_in == rate_out:
        yield from blocks
        return
    total = math.floor(Fraction(data.shape[1] * rate_out, rate_in) + Fraction(1, 2))
    produced = 0
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate_out)
    # Trailing silence pushes the resampler's filter tail out; the count is then cut exact.
    padded = itertools.chain(blocks, [np.zeros((2, TAIL_PADDING), dtype=np.float32)])
    fed = 0
    outputs: Iterable[AudioFrame]
    for block in itertools.chain(padded, [None]):
        if block is None:
            outputs = resampler.resample(None)
        else:
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(block), format="fltp", layout="stereo"
            )
            frame.sample_rate = rate_in
            frame.pts = fed
            frame.time_base = Fraction(1, rate_in)
            fed += block.shape[1]
            outputs = resampler.resample(frame)
        for out in outputs:
            kept = np.asarray(out.to_ndarray(), dtype=np.float32)[:, : total - produced]
            produced += kept.shape[1]
            yield kept
            if produced == total:
                return
    if produced < total:
        yield np.zeros((2, total - produced), dtype=np.float32)


def write_audio_file(
    path: str | os.PathLike[str],
    samples: Samples,
    sample_rate: int,
    container_format: str | None = None,
    bitrate: int = 192_000,
    codec: str | None = None,
    notes: Sequence[str] = (),
) -> None:
    """Encode a (2, N) mix into an audio-only file; the container comes from the suffix if None.

    `codec` defaults to the container's usual one; Matroska holds any (the merge's input).
    `notes` (what the mix warned of) are kept in the file for audio_file_notes.
    """
    name = (container_format or os.path.splitext(os.fspath(path))[1].lstrip(".")).lower()
    codec = codec or audio_codec_for(name)
    if samples.ndim != 2 or samples.shape[1] == 0:
        # Some muxers (WebM) cannot even write a readable header for an empty stream.
        raise EncodeError(f"no audio samples to write to {os.fspath(path)!r}")
    try:
        fmt = FORMAT_BY_CONTAINER[name]
        with av.open(os.fspath(path), "w", format=fmt, options=bitexact()) as container:
            stream = add_audio_stream(container, codec, sample_rate, bitrate)
            if notes:
                container.metadata[NOTES_TAG] = json.dumps(list(notes))
            container.metadata[LENGTH_TAG] = str(Fraction(samples.shape[1], sample_rate))
            open_encoder(stream)
            # Write the header even if no packet comes (an empty mix), so the file is valid.
            container.start_encoding()
            for packet in encode_audio(stream, samples, sample_rate):
                container.mux(packet)
    except (av.error.FFmpegError, OSError) as exc:
        raise EncodeError(f"cannot write audio file {os.fspath(path)!r}: {exc}") from exc


def audio_file_seconds(path: str | os.PathLike[str]) -> Fraction | None:
    """How long the mix in an audio file written by write_audio_file lasts, exactly, in seconds
    (None where the file does not say: an older cached mix)."""
    try:
        with av.open(os.fspath(path)) as container:
            tag = container.metadata.get(LENGTH_TAG)
        return Fraction(tag) if tag else None
    except (av.error.FFmpegError, OSError, ValueError, ZeroDivisionError):
        return None


def audio_file_notes(path: str | os.PathLike[str]) -> list[str]:
    """What the mix in an audio file written by write_audio_file warned of (empty if nothing,
    or the file keeps no readable notes: an older cached mix)."""
    try:
        with av.open(os.fspath(path)) as container:
            tag = container.metadata.get(NOTES_TAG)
        notes = json.loads(tag) if tag else []
    except (av.error.FFmpegError, OSError, ValueError):
        return []
    if not isinstance(notes, list):
        return []
    return [note for note in notes if isinstance(note, str)]
