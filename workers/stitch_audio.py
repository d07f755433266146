"""The merge's audio: the whole timeline's audio file, its packets retimed on its sample grid
and muxed beside the stitched video (workers.stitch)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import ExitStack
from fractions import Fraction
from typing import Any

import av

from common.errors import EncodeError, MediaError, MergeError
from workers.media_open import open_media


def sample_rate_of(path: str | None) -> int | None:
    """The audio file's sample rate, which the output's timescale follows as a direct render's
    does (None without one; _AudioQueue says what is wrong with a file it cannot read)."""
    if path is None or not os.path.isfile(path):
        return None
    try:
        with open_media(path) as source:
            streams = source.streams.audio
            return int(streams[0].codec_context.sample_rate) if streams else None
    except (MediaError, av.error.FFmpegError, OSError, ValueError):
        return None


class AudioQueue:
    """The audio file's packets, muxed up to the video's current time to keep interleaving."""

    def __init__(self, stack: ExitStack, out: Any, path: str, length: Fraction) -> None:
        self.out = out
        if not os.path.isfile(path):
            raise MergeError(f"audio file {path} is missing")
        try:
            source = stack.enter_context(open_media(path))
            if not source.streams.audio:
                raise MergeError(f"audio file {path} has no audio stream")
            template = source.streams.audio[0]
            # The whole timeline's audio is small next to the video; holding it is simplest.
            self.packets: list[Any] = [p for p in source.demux(template) if p.size > 0]
        except (MediaError, av.error.FFmpegError, OSError, ValueError) as exc:
            raise MergeError(f"audio file {path} cannot be read: {exc}") from None
        if not self.packets or any(p.pts is None for p in self.packets):
            raise MergeError(f"audio file {path} has no packets or packets without timestamps")
        ctx = template.codec_context
        self.codec: str = ctx.codec.canonical_name
        try:
            self.stream = out.add_stream_from_template(template)
        except (av.error.FFmpegError, ValueError) as exc:
            raise EncodeError(f"cannot add {self.codec} audio: {exc}") from None
        self.time_base = Fraction(1, ctx.sample_rate)
        sizes = None if ctx.frame_size else _decoded_sizes(template, self.packets, path)
        priming = _opus_preskip(bytes(ctx.extradata or b"")) if self.codec == "opus" else None
        if sizes is not None and priming is not None:
            sizes[0] += priming  # the decoder dropped them; the packet holds them
        self.stamps = _sample_grid(self.packets, ctx.sample_rate, ctx.frame_size, sizes, priming)
        _end_at(self.stamps, round(length * ctx.sample_rate))
        # Interleaving needs no exactness, and floats keep this per-packet test cheap.
        self.starts = [pts / ctx.sample_rate for pts, _ in self.stamps]
        self.stream.time_base = self.time_base
        self.next = 0

    def mux_until(self, seconds: float | None) -> None:
        """Mux the audio packets that start before `seconds` (all of them for None)."""
        while self.next < len(self.packets):
            if seconds is not None and self.starts[self.next] > seconds:
                return
            pts, duration = self.stamps[self.next]
            packet = self.packets[self.next]
            packet.stream = self.stream
            packet.time_base = self.time_base
            packet.pts = packet.dts = pts
            packet.duration = duration
            self.out.mux(packet)
            self.next += 1


def _decoded_sizes(template: Any, packets: Sequence[Any], path: str) -> list[int]:
    """How many samples each packet holds, by decoding it: a codec without a fixed frame size
    (FLAC, ALAC: a lossless export) is stored in Matroska with neither size nor duration."""
    sizes: list[int] = []
    try:
        decoder = av.AudioCodecContext.create(template.codec_context.name, "r")
        decoder.extradata = template.codec_context.extradata
        decoder.sample_rate = template.codec_context.sample_rate
        decoder.layout = template.codec_context.layout
        for packet in packets:
            sizes.append(sum(frame.samples for frame in decoder.decode(packet)))
        flushed = sum(frame.samples for frame in decoder.decode(None))
    except (av.error.FFmpegError, ValueError) as exc:
        raise MergeError(f"audio file {path} cannot be decoded: {exc}") from None
    sizes[-1] += flushed
    return sizes


def _opus_preskip(extradata: bytes) -> int | None:
    """The samples an Opus stream's decoder skips at its start (OpusHead's pre-skip, RFC 7845)."""
    if len(extradata) < 12 or not extradata.startswith(b"OpusHead"):
        return None
    return int.from_bytes(extradata[10:12], "little")


def _sample_grid(
    packets: Sequence[Any],
    rate: int,
    frame_size: int,
    sizes: Sequence[int] | None = None,
    priming: int | None = None,
) -> list[tuple[int, int]]:
    # Matroska rounds times to whole milliseconds, but codec frames are whole samples (AAC: 1024,
    # with 1024 samples of priming before 0): rebuild (pts, duration) in samples by running
    # totals, falling back to the stored time where the stream really jumps (> 1 ms off).
    # ``sizes``: each packet's samples, where the codec has no fixed frame size; ``priming``: the
    # samples before 0 where the codec says (Opus's pre-skip, 312, which Matroska's whole
    # milliseconds made -336: the sound started 24 samples late and ended 24 short).
    stamps: list[tuple[int, int]] = []
    expected: int | None = None
    to_samples = packets[0].time_base * rate
    for index, packet in enumerate(packets):
        stored = round(packet.pts * to_samples)
        if expected is None and frame_size:
            stored = round(Fraction(stored, frame_size)) * frame_size
        if expected is None and priming is not None and abs(stored + priming) <= rate // 1000:
            stored = -priming
        pts = stored
        if expected is not None and abs(expected - stored) <= rate // 1000:
            pts = expected
        duration = frame_size or round((packet.duration or 0) * to_samples)
        if sizes is not None and sizes[index]:
            duration = sizes[index]
        stamps.append((pts, duration))
        expected = pts + duration
    return stamps


def _end_at(stamps: list[tuple[int, int]], end: int) -> None:
    """Cut the last packet's duration to end the sound at sample ``end`` (the video's end):
    the encoder's padding of its last frame is not sound, and a muxer's edit list (mp4, mov)
    would otherwise play it after the last picture."""
    pts, duration = stamps[-1]
    if pts < end < pts + duration:
        stamps[-1] = (pts, end - pts)
