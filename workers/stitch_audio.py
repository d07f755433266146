"""The merge's audio: the whole timeline's audio file, its packets retimed on its sample grid
and muxed beside the stitched video (workers.stitch)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import ExitStack
from fractions import Fraction
from typing import Any

import av

from chunking.timeline.audio_export import AUDIO_CONTAINERS
from common.errors import EncodeError, MediaError, MergeError
from workers.audio_encode import audio_file_seconds
from workers.media_open import open_media
from workers.muxing import bitexact

#: Muxer options of the audio-only outputs: a WAV past 4 GiB (hours of 24-bit sound) becomes
#: RF64 rather than a file whose sizes wrapped around.
_AUDIO_MUXER_OPTIONS = {"wav": {"rf64": "auto"}}


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


def remux_audio_only(path: str, container: str, audio: str) -> Fraction:
    """Write the timeline's audio file (its packets, not re-encoded) as an audio-only output
    ``container`` (wav, flac, m4a, ogg, opus) at ``path``, ending at the mix's own length to the
    sample (to within a codec frame where the container keeps whole frames: AAC in m4a, as
    FFmpeg's own m4a, and MP3); the mix's length, checked against the output read back."""
    fmt = AUDIO_CONTAINERS[container][1]
    length = audio_file_seconds(audio)
    with ExitStack() as stack:
        try:
            out = stack.enter_context(
                av.open(
                    path, "w", format=fmt, options=bitexact(_AUDIO_MUXER_OPTIONS.get(container))
                )
            )
        except (av.error.FFmpegError, ValueError) as exc:
            raise EncodeError(f"cannot write {container}: {exc}") from None
        # An older cached mix does not say its length: it ends where its packets do.
        sound = AudioQueue(stack, out, audio, length if length is not None else Fraction(-1))
        try:
            out.start_encoding()
        except av.error.FFmpegError as exc:
            raise EncodeError(
                f"the {container} container cannot hold {sound.codec}: {exc}"
            ) from None
        sound.mux_until(None)
    played, longest = _played(path, container)
    if length is None:
        return played
    # MP3 keeps its priming and padding as whole frames, told only in its LAME header.
    if abs(played - length) > 2 * longest:
        raise MergeError(
            f"the {container} output plays {float(played):.4f} s but the mix lasts "
            f"{float(length):.4f} s"
        )
    return length


def _played(path: str, container: str) -> tuple[Fraction, Fraction]:
    """How long an audio-only output plays, from its packets (priming not counted), and its
    longest packet (a codec frame: what packets tell a length to within)."""
    start: int | None = None
    end = longest = 0
    try:
        with open_media(path) as result:
            if len(result.streams.audio) != 1 or result.streams.video:
                raise MergeError(f"the {container} output {path} does not hold one audio stream")
            stream = result.streams.audio[0]
            for packet in result.demux(stream):
                if packet.size == 0 or packet.pts is None:
                    continue
                start = packet.pts if start is None else min(start, packet.pts)
                end = max(end, packet.pts + (packet.duration or 0))
                longest = max(longest, packet.duration or 0)
            base = Fraction(stream.time_base or Fraction(1, stream.rate or 1))
    except (MediaError, av.error.FFmpegError, OSError) as exc:
        raise MergeError(f"the {container} output {path} cannot be read back: {exc}") from None
    if start is None:
        raise MergeError(f"the {container} output {path} holds no sound")
    return (end - max(start, 0)) * base, longest * base


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
