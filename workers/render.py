"""Render a frame range of a timeline to a video file in this process.

The output is written to a temporary file beside the destination, synced and renamed into place
only when complete (workers.atomic), so a failure or an interrupt never leaves a half-written
video behind.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av

from chunking.timeline.audio_export import audio_only
from chunking.timeline.export import export_problems
from chunking.timeline.model import (
    IMAGE_EXTENSIONS,
    ExportSettings,
    FileSource,
    Timeline,
    TrackKind,
)
from common.errors import EncodeError, MediaError, RenderCancelled, RenderError
from workers.atomic import atomic_output, check_not_media, write_error
from workers.audio import (
    add_audio_stream,
    audio_encoder_for,
    encode_audio,
    encoder_sample_rate,
    mix_timeline,
    sample_offset,
)
from workers.compositor import Compositor
from workers.encoder import (
    FORMATS,
    EncoderChoice,
    add_video_stream,
    choose_encoder,
    muxer_options,
    to_video_frame,
    writes_yuv420p,
    yuv420p_target,
)
from workers.media_open import open_media
from workers.pipeline import prefetched

#: Called after each frame with (frames done, frames total).
Progress = Callable[[int, int], None]
#: Polled between frames; returning True stops the render with RenderCancelled.
Cancelled = Callable[[], bool]


@dataclass
class RenderSummary:
    """What a finished render did, for humans and for --json."""

    output: str
    frames: int
    seconds: float
    fps: float
    encoder: str
    hardware: bool
    audio: str | None
    bytes: int
    warnings: list[str] = field(default_factory=list)
    #: where the layers were composited (workers.arrays.ArrayBackend.describe)
    compositor: str = ""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return dict(self.__dict__)


def check_range(timeline: Timeline, start: int, end: int) -> None:
    """Raise RenderError unless [start, end) is a non-empty range inside the timeline."""
    if 0 <= start and end <= timeline.frames and end <= start:
        raise RenderError(
            f"frame range [{start}, {end}) is empty: --end must be after --start (it is the "
            "first frame not rendered)"
        )
    if not 0 <= start < end <= timeline.frames:
        raise RenderError(
            f"frame range [{start}, {end}) is not inside the timeline's "
            f"[0, {timeline.frames}) frames"
        )


def render_to_file(
    timeline: Timeline,
    output: str,
    *,
    start: int = 0,
    end: int | None = None,
    export: ExportSettings | None = None,
    audio: bool = True,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    file_format: str | None = None,
    threads: int | None = None,
) -> RenderSummary:
    """Render frames [start, end) (and their audio) to a video file, atomically.

    `file_format` overrides the container (chunk segments are Matroska whatever the final
    container); `threads` caps the encoder's and each decoder's threads when several renders
    share a machine.
    """
    end = timeline.frames if end is None else end
    check_range(timeline, start, end)
    export = export or timeline.export
    problems = export_problems(timeline.width, timeline.height, export, timeline.sample_rate)
    if problems:
        raise EncodeError("; ".join(problems))
    if audio_only(export.container):  # -o mix.wav: the mix alone, no picture
        return _audio_only(dataclasses.replace(timeline, export=export), output, start, end)
    check_not_media(output, timeline)
    choice = choose_encoder(export)
    warnings = list(timeline.warnings) + ([choice.note] if choice.note else [])
    # A slot's thread budget caps its decoders as well as its encoder.
    compositor = Compositor(timeline, decoder_threads=threads)
    began = time.perf_counter()
    try:
        with atomic_output(output) as partial:
            compositor.open_range(start, end)
            heard: list[str] = []  # what the mix warns of (clipping)
            samples = mix_timeline(timeline, heard) if audio and has_audio(timeline) else None
            warnings += heard
            target = _Target(partial, file_format or FORMATS[export.container], threads, output)
            audio_codec = _write(
                timeline,
                target,
                compositor,
                choice,
                export,
                start,
                end,
                samples,
                progress,
                cancelled,
            )
    finally:
        compositor.close()
    seconds = time.perf_counter() - began
    return RenderSummary(
        output=output,
        frames=end - start,
        seconds=round(seconds, 3),
        fps=round((end - start) / seconds, 2) if seconds > 0 else 0.0,
        encoder=choice.name,
        hardware=choice.hardware,
        audio=audio_codec,
        bytes=os.path.getsize(output),
        warnings=warnings,
        compositor=compositor.backend.describe(),
    )


@dataclass(frozen=True)
class _Target:
    path: str
    file_format: str
    threads: int | None
    #: the name the file gets once whole (``path`` is its temp name), for messages
    output: str


def _write(
    timeline: Timeline,
    target: _Target,
    compositor: Compositor,
    choice: EncoderChoice,
    export: ExportSettings,
    start: int,
    end: int,
    samples: Any,
    progress: Progress | None,
    cancelled: Cancelled | None,
) -> str | None:
    fps = timeline.fps
    rate = None
    if samples is not None:
        rate = encoder_sample_rate(audio_encoder_for(export), timeline.sample_rate)
    try:
        options = muxer_options(target.file_format, rate)
        container = av.open(target.path, "w", format=target.file_format, options=options)
    except (av.error.FFmpegError, OSError) as exc:
        raise write_error(f"cannot create {target.output}", exc, target.output) from None
    audio_codec: str | None = None
    try:
        with container:
            video = add_video_stream(
                container, choice, timeline.width, timeline.height, fps, export, target.threads
            )
            packets: Iterator[Any] = iter(())
            if samples is not None:
                audio_codec = audio_encoder_for(export)
                first = sample_offset(start, timeline)
                last = sample_offset(end, timeline) if end < timeline.frames else None
                stream = add_audio_stream(
                    container, audio_codec, timeline.sample_rate, export.audio_bitrate
                )
                packets = encode_audio(stream, samples[:, first:last], timeline.sample_rate)
            pending = _Interleaver(container, packets)
            try:
                # Where the encoder takes the C kernel's yuv420p, the band kernel writes its
                # frames straight into it: the 8-bit RGB frame is not made (issue 17).
                into = yuv420p_target if writes_yuv420p(choice) else None
                with prefetched(compositor.frames(start, end, into)) as frames:
                    for done, rgb in enumerate(frames, start=1):
                        if cancelled is not None and cancelled():
                            raise RenderCancelled("render cancelled")
                        frame = (
                            rgb if isinstance(rgb, av.VideoFrame) else to_video_frame(rgb, choice)
                        )
                        frame.pts = done - 1
                        frame.time_base = 1 / fps
                        for packet in video.encode(frame):
                            container.mux(packet)
                        pending.until(Fraction(done) / fps)
                        if progress is not None:
                            progress(done, end - start)
                        del rgb, frame  # encoded: not held while the next is composited
                for packet in video.encode(None):
                    container.mux(packet)
                pending.until(None)
            except av.error.FFmpegError as exc:
                raise write_error(
                    f"encoding with {choice.name} failed", exc, target.output
                ) from None
    except av.error.FFmpegError as exc:
        # Closing writes the rest (the muxer's buffers and index; for fast start a second copy
        # of the whole file): a disk filling up fails here, after every frame was encoded.
        raise write_error(f"cannot write {target.output}", exc, target.output) from None
    return audio_codec


class _Interleaver:
    """Muxes audio packets up to the current video time so the file stays interleaved."""

    def __init__(self, container: Any, packets: Iterator[Any]) -> None:
        self.container = container
        self.packets = packets
        self.held: Any = None

    def until(self, seconds: Fraction | None) -> None:
        while True:
            if self.held is None:
                self.held = next(self.packets, None)
                if self.held is None:
                    return
            packet = self.held
            if seconds is not None and packet.pts * packet.time_base > seconds:
                return
            self.container.mux(packet)
            self.held = None


def _audio_only(timeline: Timeline, output: str, start: int, end: int) -> RenderSummary:
    """An audio-only export rendered here (workers.audio_output), summed up as a render."""
    from workers.audio_output import render_audio_only

    began = time.perf_counter()
    _, codec, notes = render_audio_only(timeline, output, start, end)
    seconds = round(time.perf_counter() - began, 3)
    warnings = [*timeline.warnings, *notes]
    size = os.path.getsize(output)
    return RenderSummary(output, 0, seconds, 0.0, codec, False, codec, size, warnings)


def has_audio(timeline: Timeline) -> bool:
    """Whether any enabled, unmuted clip of the timeline can contribute sound."""
    for track in timeline.tracks:
        if not track.enabled or track.muted or track.kind is TrackKind.SUBTITLE:
            continue
        for clip in track.clips:
            if clip.muted or not isinstance(clip.source, FileSource):
                continue
            if track.kind is TrackKind.AUDIO:
                return True
            path = clip.source.path
            if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
                continue
            try:
                with open_media(path) as probe:
                    if probe.streams.audio:
                        return True
            except (MediaError, av.error.FFmpegError, OSError):
                continue  # the video side reports unreadable media with the clip's name
    return False
