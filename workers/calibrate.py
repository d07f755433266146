"""Measure how fast this node renders a given timeline by rendering a few of its frames for real.

The frames are the evenly spaced ones ``chunking.complexity.sample_frames`` picks, so a caller
can price exactly the frames that were timed (``frame_cost`` over the same indices) when it turns
the result into a seconds-per-unit rate.

Each sample frame t is measured the way a chunk renders it, minus per-chunk start-up costs:
sources are opened and frame t - 1 is composited untimed first (so a decoder's seek to the
keyframe is not billed to one frame), then frame t is composited under the clock. Frames t - 1
and t are then encoded by an encoder of their own, opened untimed and flushed under the clock:
x264 encodes on background threads, and only a flush tells when its work is really done.
Encoding a pair (an I-frame and a P-frame) instead of a long GOP, and adding the compositing
and encoding times although a real render overlaps them, both err on the slow side, as a cost
quote should; real chunk timings then correct the rate (``orchestrator.costing``).
"""

from __future__ import annotations

import io
import time

import av

from chunking.complexity import sample_frames
from chunking.timeline.export import export_problems
from chunking.timeline.model import Timeline
from common.errors import EncodeError, RenderError
from workers.compositor import Compositor
from workers.encoder import EncoderChoice, add_video_stream, choose_encoder, to_video_frame
from workers.sources import Rgb8

#: Stop compositing further sample frames once this many seconds have gone by.
MAX_SECONDS = 10.0


def calibrate(
    timeline: Timeline,
    frames: int = 6,
    *,
    max_seconds: float = MAX_SECONDS,
    threads: int | None = None,
) -> float:
    """Render and encode up to `frames` sample frames; return the measured seconds per frame."""
    if frames < 1:
        raise ValueError(f"frames must be at least 1, got {frames}")
    if timeline.frames < 1:
        raise RenderError("the timeline has no frames to calibrate on")
    problems = export_problems(timeline.width, timeline.height, timeline.export)
    if problems:
        raise EncodeError("; ".join(problems))
    choice = choose_encoder(timeline.export)
    began = time.perf_counter()
    composite_seconds = encode_seconds = 0.0
    timed = encoded = 0
    compositor = Compositor(timeline)
    try:
        for t in sample_frames(timeline.frames, frames):
            compositor.open_range(max(t - 1, 0), t + 1)
            pictures = [compositor.frame(t - 1)] if t > 0 else []
            start = time.perf_counter()
            pictures.append(compositor.frame(t))
            composite_seconds += time.perf_counter() - start
            timed += 1
            encode_seconds += _encode(timeline, choice, pictures, threads)
            encoded += len(pictures)
            # Checked after a frame, so at least one is always measured however slow it is.
            if time.perf_counter() - began >= max_seconds:
                break
    finally:
        compositor.close()
    return composite_seconds / timed + encode_seconds / encoded


def _encode(
    timeline: Timeline, choice: EncoderChoice, pictures: list[Rgb8], threads: int | None
) -> float:
    """Seconds to encode and flush these pictures with a fresh encoder into in-memory Matroska."""
    # In memory: nothing to clean up, and no disk speed mixed into an encoder measurement.
    buffer = io.BytesIO()
    try:
        with av.open(buffer, "w", format="matroska") as container:
            stream = add_video_stream(
                container,
                choice,
                timeline.width,
                timeline.height,
                timeline.fps,
                timeline.export,
                threads,
            )
            # Opening x264 allocates its lookahead and threads: a per-chunk cost, not per frame.
            stream.codec_context.open()
            start = time.perf_counter()
            for index, rgb in enumerate(pictures):
                frame = to_video_frame(rgb, choice)
                frame.pts = index
                frame.time_base = 1 / timeline.fps
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
            return time.perf_counter() - start
    except av.error.FFmpegError as exc:
        raise EncodeError(f"encoding with {choice.name} failed: {exc}") from None
    finally:
        buffer.close()
