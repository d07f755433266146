"""Join rendered segments into one video by remuxing their packets (no decode, no re-encode).

Each chunk [start, end) of the timeline is rendered by some worker into a Matroska segment that
starts with a keyframe and has pts from 0; the audio of the whole timeline is one Matroska audio
file. Stitching checks that the segments are present, readable, contiguous and encoded alike,
copies their packets into the output container with timestamps rebuilt on the 1/fps grid, adds
the audio, reads the result back to validate it, and only then syncs it and renames it into
place (workers.atomic). Because every segment's timestamps are its own (from 0) and the output's
are rebuilt from the chunk's start, a segment from the segment cache rendered for another offset
of the timeline (time inserted or removed before it) lands where this job needs it, by a remux.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

from chunking.timeline.audio_export import audio_only
from common.errors import EncodeError, MediaError, MergeError, RenderError
from workers.atomic import atomic_output, write_error
from workers.encoder import FORMATS, muxer_options
from workers.media_open import open_media
from workers.stitch_audio import AudioQueue, remux_audio_only, sample_rate_of

__all__ = [
    "MergeError",
    "SegmentInfo",
    "StitchReport",
    "check_consistent",
    "check_coverage",
    "inspect_segment",
    "segment_label",
    "stitch",
]


@dataclass(frozen=True)
class SegmentInfo:
    """What one segment holds, read from its packets without decoding."""

    path: str
    index: int
    start: int
    end: int
    codec: str
    width: int
    height: int
    pix_fmt: str
    extradata: bytes
    frames: int
    keyframe_first: bool
    #: how many packets the decode order runs ahead of presentation order (B-frames)
    reorder_delay: int

    @property
    def label(self) -> str:
        """How messages name this segment."""
        return segment_label(self.index, self.start, self.end)


@dataclass(frozen=True)
class StitchReport:
    """What a finished stitch produced."""

    output: str
    frames: int
    duration: float
    audio_duration: float | None
    drift: float
    bytes: int
    seconds: float


def _open(path: str, write_format: str | None = None, sample_rate: int | None = None) -> Any:
    # PyAV's stubs leave pts optional and streams as unions; its objects are Any here, and what
    # matters (missing timestamps) is checked explicitly.
    if write_format is not None:
        options = muxer_options(write_format, sample_rate)
        return av.open(path, "w", format=write_format, options=options)
    # Segments and audio arrive by storage keys a Redis writer could name: read them only as
    # the media formats we write, like any source.
    return open_media(path)


def segment_label(index: int, start: int, end: int) -> str:
    """How messages name chunk `index` and its frame range."""
    return f"segment {index} (frames [{start}, {end}))"


def inspect_segment(
    path: str, index: int, start: int, end: int, *, fps: Fraction | None = None
) -> SegmentInfo:
    """Read a segment's packets and raise MergeError unless it is a usable chunk [start, end)."""
    label = segment_label(index, start, end)
    if not os.path.isfile(path):
        raise MergeError(f"{label}: file {path} is missing")
    stamps: list[int] = []
    try:
        with _open(path) as container:
            if not container.streams.video:
                raise MergeError(f"{label}: {path} has no video stream")
            stream = container.streams.video[0]
            ctx = stream.codec_context
            keyframe_first = False
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue  # the demuxer's end-of-stream marker, not a frame
                if packet.pts is None:
                    raise MergeError(f"{label}: packet {len(stamps)} of {path} has no timestamp")
                if not stamps:
                    keyframe_first = bool(packet.is_keyframe)
                # In frames when fps is known; raw ticks still give the order for reorder_delay.
                to_frames = packet.time_base * fps if fps is not None else 1
                stamps.append(round(packet.pts * to_frames))
            info = SegmentInfo(
                path=path,
                index=index,
                start=start,
                end=end,
                codec=ctx.codec.canonical_name,  # "av1", not the decoder's name "libdav1d"
                width=ctx.width,
                height=ctx.height,
                pix_fmt=ctx.pix_fmt or "unknown",
                extradata=bytes(ctx.extradata or b""),
                frames=len(stamps),
                keyframe_first=keyframe_first,
                reorder_delay=_reorder_delay(stamps),
            )
    except (MediaError, av.error.FFmpegError, OSError, ValueError) as exc:
        raise MergeError(f"{label}: {path} cannot be read: {exc}") from None
    if not info.frames:
        raise MergeError(f"{label}: {path} holds no video packets")
    if not keyframe_first:
        raise MergeError(f"{label}: the first packet of {path} is not a keyframe")
    if info.frames != end - start:
        raise MergeError(f"{label}: {path} has {info.frames} frames, expected {end - start}")
    if fps is not None and sorted(stamps) != list(range(info.frames)):
        wrong = sorted(set(stamps) ^ set(range(info.frames)))[:5]
        raise MergeError(
            f"{label}: timestamps of {path} are not frames 0..{info.frames - 1} at "
            f"{fps} fps (e.g. {wrong})"
        )
    return info


def _reorder_delay(stamps: list[int]) -> int:
    # Packet k may be decoded no later than it is shown: dts = k - delay <= its rank in pts order.
    rank = {stamp: position for position, stamp in enumerate(sorted(stamps))}
    return max([0] + [k - rank[stamp] for k, stamp in enumerate(stamps)])


def check_coverage(segments: Sequence[tuple[str, int, int]]) -> int:
    """Raise MergeError unless segments cover [0, F) in order without gaps; return F."""
    if not segments:
        raise MergeError("no segments to stitch")
    expected = 0
    for index, (_path, start, end) in enumerate(segments):
        label = segment_label(index, start, end)
        if end <= start:
            raise MergeError(f"{label}: the frame range is empty")
        if start > expected:
            raise MergeError(f"{label}: frames [{expected}, {start}) are in no segment (gap)")
        if start < expected:
            raise MergeError(
                f"{label}: frames [{start}, {expected}) are also in segment {index - 1} (overlap)"
            )
        expected = end
    return expected


def check_consistent(infos: Sequence[SegmentInfo]) -> None:
    """Raise MergeError naming the first segment whose codec parameters differ from the first."""
    first = infos[0]
    for info in infos[1:]:
        for name in ("codec", "width", "height", "pix_fmt", "extradata"):
            theirs, ours = getattr(first, name), getattr(info, name)
            if theirs != ours:
                if name == "extradata":
                    theirs, ours = f"{len(theirs)} bytes", f"{len(ours)} different bytes"
                raise MergeError(
                    f"{info.label}: {name} is {ours} but {first.label} has {theirs}; "
                    "segments must be encoded with identical settings"
                )


def stitch(
    segments: Sequence[tuple[str, int, int]],
    fps: Fraction,
    output: str,
    container: str,
    audio: str | None = None,
    inspected: Mapping[str, SegmentInfo] | None = None,
) -> StitchReport:
    """Remux segments [(path, start, end)] (and audio) into one validated output file;
    ``inspected``: segments the caller already read with ``inspect_segment``, by path."""
    began = time.perf_counter()
    if audio_only(container):
        return _stitch_audio_only(segments, output, container, audio, began)
    if container not in FORMATS:
        raise EncodeError(f"unknown container {container!r}; use one of {', '.join(FORMATS)}")
    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):  # before reading segments: the cheap check first
        raise RenderError(f"output directory does not exist: {directory}")
    frames = check_coverage(segments)
    known = inspected or {}
    infos = [
        known.get(path) or inspect_segment(path, index, start, end, fps=fps)
        for index, (path, start, end) in enumerate(segments)
    ]
    check_consistent(infos)
    with atomic_output(output) as partial:
        try:
            _remux(infos, fps, partial, FORMATS[container], audio)
        except av.error.FFmpegError as exc:  # closing writes the index: a full disk fails
            raise write_error(f"cannot write {output}", exc, output) from None
        duration, audio_duration, drift = _validate(partial, frames, fps, audio)
    return StitchReport(
        output=output,
        frames=frames,
        duration=float(duration),
        audio_duration=None if audio_duration is None else float(audio_duration),
        drift=float(drift),
        bytes=os.path.getsize(output),
        seconds=round(time.perf_counter() - began, 3),
    )


def _stitch_audio_only(
    segments: Sequence[tuple[str, int, int]],
    output: str,
    container: str,
    audio: str | None,
    began: float,
) -> StitchReport:
    """An audio-only output (``render -o mix.wav``): the timeline's audio file alone, remuxed."""
    if segments:
        raise MergeError(
            f"an audio-only {container} output takes no video, but got {len(segments)} segments"
        )
    if audio is None:
        raise MergeError(
            f"an audio-only {container} output needs the timeline's audio; it has none"
        )
    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):
        raise RenderError(f"output directory does not exist: {directory}")
    with atomic_output(output) as partial:
        try:
            played = remux_audio_only(partial, container, audio)
        except av.error.FFmpegError as exc:
            raise write_error(f"cannot write {output}", exc, output) from None
    return StitchReport(
        output=output,
        frames=0,
        duration=float(played),
        audio_duration=float(played),
        drift=0.0,
        bytes=os.path.getsize(output),
        seconds=round(time.perf_counter() - began, 3),
    )


def _remux(
    infos: Sequence[SegmentInfo], fps: Fraction, path: str, fmt: str, audio: str | None
) -> None:
    frame = 1 / fps
    # One decode-order offset for the whole file keeps dts strictly increasing across segments.
    delay = max(info.reorder_delay for info in infos)
    with ExitStack() as stack:
        try:
            out = stack.enter_context(_open(path, fmt, sample_rate_of(audio)))
            template = stack.enter_context(_open(infos[0].path)).streams.video[0]
            # opaque: reuse the decoder's codec, so remuxing needs no encoder for it installed
            video = out.add_stream_from_template(template, opaque=True)
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            raise EncodeError(f"cannot write {fmt} with {infos[0].codec} video: {exc}") from None
        video.time_base = frame
        # Lets muxers record the frame rate (Matroska DefaultDuration, mp4 frame-rate hints).
        video.codec_context.framerate = fps
        if not template.codec_context.sample_aspect_ratio:  # Matroska leaves 1:1 unsaid
            video.codec_context.sample_aspect_ratio = Fraction(1, 1)  # (VP9 has no field)
        if infos[0].codec == "hevc" and fmt in ("mp4", "mov"):
            video.codec_context.codec_tag = "hvc1"  # Apple players refuse FFmpeg's default hev1
        if infos[0].codec == "prores" and template.codec_context.codec_tag:
            # The fourcc names the ProRes profile (apco proxy ... ap4h 4444): left to the muxer,
            # every profile was tagged apch (HQ), and players read the profile from the tag.
            video.codec_context.codec_tag = template.codec_context.codec_tag
        length = sum(info.frames for info in infos) / fps
        sound = AudioQueue(stack, out, audio, length) if audio is not None else None
        try:
            out.start_encoding()
        except av.error.FFmpegError as exc:
            kinds = infos[0].codec + (f" and {sound.codec}" if sound else "")
            raise EncodeError(f"the {fmt} container cannot hold {kinds}: {exc}") from None
        try:
            for info in infos:
                with _open(info.path) as segment:
                    stream = segment.streams.video[0]
                    to_frames = stream.time_base * fps
                    packets: Iterator[Any] = (p for p in segment.demux(stream) if p.size > 0)
                    for order, packet in enumerate(packets):
                        # Matroska keeps milliseconds: round back onto the exact frame grid.
                        shown = info.start + round(packet.pts * to_frames)
                        decoded = info.start + order - delay
                        if sound is not None:
                            sound.mux_until(float(decoded * frame))
                        packet.stream = video
                        packet.time_base = frame
                        packet.pts, packet.dts, packet.duration = shown, decoded, 1
                        out.mux(packet)
            if sound is not None:
                sound.mux_until(None)
        except av.error.FFmpegError as exc:
            if isinstance(exc, OSError):  # the disk's fault: stitch() names the output
                raise
            raise EncodeError(f"muxing {path} failed: {exc}") from None


def _validate(
    path: str, frames: int, fps: Fraction, audio: str | None
) -> tuple[Fraction, Fraction | None, Fraction]:
    frame = 1 / fps
    # stream type -> [first pts, last end, longest packet], in the stream's time base
    spans: dict[str, list[int]] = {}
    count = 0
    try:
        with _open(path) as result:
            streams = (len(result.streams.video), len(result.streams.audio))
            if streams != (1, int(audio is not None)):
                raise MergeError(f"stitched file {path} has (video, audio) streams {streams}")
            bases: dict[str, Fraction] = {s.type: s.time_base for s in result.streams}
            for packet in result.demux():
                if packet.size == 0 or packet.pts is None:
                    continue
                kind, length = packet.stream.type, packet.duration or 0
                count += kind == "video"
                span = spans.setdefault(kind, [packet.pts, packet.pts, 0])
                span[0], span[1] = min(span[0], packet.pts), max(span[1], packet.pts + length)
                span[2] = max(span[2], length)
    except (MediaError, av.error.FFmpegError, OSError) as exc:
        raise MergeError(f"stitched file {path} cannot be read back: {exc}") from None
    start, end = (t * bases["video"] for t in spans.get("video", [0, 0, 0])[:2])
    if count != frames or abs(end - start - frames * frame) > frame or abs(start) > frame / 2:
        raise MergeError(
            f"stitched file has {count} frames from {float(start):.4f} s to {float(end):.4f} s; "
            f"expected {frames} frames from 0 to {float(frames * frame):.4f} s"
        )
    if audio is None:
        return end - start, None, Fraction(0)
    audio_start, audio_end, longest = (t * bases["audio"] for t in spans.get("audio", [0, 0, 0]))
    drift = audio_end - end
    # Packets only tell the audio's length to within one codec frame (AAC pads the last of its
    # 1024-sample frames), which at 50 fps and up is longer than a video frame.
    if audio_start > frame or abs(drift) > max(frame, longest):
        raise MergeError(
            f"audio plays from {float(audio_start):.4f} s to {float(audio_end):.4f} s but video "
            f"from {float(start):.4f} s to {float(end):.4f} s: drift {float(drift):+.4f} s "
            "exceeds one frame"
        )
    # Encoder priming (negative pts) is never played, so audio is heard from time 0.
    return end - start, audio_end - max(audio_start, Fraction(0)), drift
