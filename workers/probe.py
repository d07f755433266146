"""Cheap facts about source media, read from packets without decoding."""

from __future__ import annotations

import os
from fractions import Fraction

import av
from PIL import Image, UnidentifiedImageError

from chunking.timeline.model import FileSource, Timeline, TrackKind
from workers.sources import IMAGE_EXTENSIONS

#: Keyframes read per file: enough to see its GOP length without reading the whole file.
SAMPLE_KEYFRAMES = 6


def keyframe_interval(path: str) -> float | None:
    """The longest gap between a video file's first keyframes, in seconds (None if unknown)."""
    if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
        return None
    keys: list[Fraction] = []
    try:
        with av.open(path) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            base = Fraction(stream.time_base or Fraction(1, 90000))
            for packet in container.demux(stream):
                if packet.pts is not None and packet.is_keyframe:
                    keys.append(packet.pts * base)
                    if len(keys) > SAMPLE_KEYFRAMES:
                        break
    except (av.error.FFmpegError, OSError):
        return None  # the render reports unreadable media, naming the clip
    if len(keys) < 2:
        return None
    return float(max(b - a for a, b in zip(keys, keys[1:], strict=False)))


def min_chunk_frames(timeline: Timeline) -> int:
    """At least a second of output and two source keyframe intervals, so pre-roll stays small."""
    paths = {
        clip.source.path
        for track in timeline.tracks
        if track.kind is TrackKind.VIDEO and track.enabled
        for clip in track.clips
        if isinstance(clip.source, FileSource)
    }
    gops = [g for g in (keyframe_interval(p) for p in sorted(paths)) if g is not None]
    seconds = max([1.0, *(2 * g for g in gops)])
    return max(1, min(timeline.frames, round(seconds * timeline.fps)))


def media_problem(path: str) -> str | None:
    """Why ``path`` is not a media file a render can use (None when it is): headers only."""
    if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
        try:
            with Image.open(path) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            return f"is not a readable image ({exc})"
        except Image.DecompressionBombError as exc:
            return f"is too large an image ({exc})"
        return None
    try:
        with av.open(path) as container:
            if not container.streams.video and not container.streams.audio:
                return f"has no video or audio stream (format {container.format.name})"
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        return f"is not a media file PyAV can read ({getattr(exc, 'strerror', None) or exc})"
    return None
