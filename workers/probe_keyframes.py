"""How far apart a source video's keyframes are, and so how short a chunk can be.

A chunk decodes from the keyframe before its first frame: chunks of at least two keyframe
intervals keep that pre-roll a small part of each.
"""

from __future__ import annotations

import os
from fractions import Fraction

import av
import av.error

from chunking.timeline.model import IMAGE_EXTENSIONS, FileSource, Timeline, TrackKind
from common.errors import MediaError
from workers.media_open import open_media, picture_stream

#: Keyframes read per file: enough to see its GOP length without reading the whole file.
SAMPLE_KEYFRAMES = 6


#: Files whose keyframe gap is remembered (a project's video files; oldest forgotten first).
_REMEMBERED = 256
#: (path, device, inode, size, mtime_ns) -> keyframe_interval's answer for that file as it was.
_GAPS: dict[tuple[str, int, int, int, int], float | None] = {}


def keyframe_interval(path: str) -> float | None:
    """The longest gap between a video file's first keyframes, in seconds (None if unknown)."""
    if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
        return None
    # Asked four times per file by one submit (quote, estimate, their cache keys) and again by
    # the plan, each reading six GOPs of packets (12 MB of 15 Mbit/s 1080p, 30 ms of CPU):
    # the answer is kept for the file as it is, and a file replaced or rewritten is read anew.
    try:
        st = os.stat(path)
    except OSError:
        return _keyframe_interval(path)
    identity = (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    if identity in _GAPS:
        return _GAPS[identity]
    gap = _keyframe_interval(path)
    try:
        st = os.stat(path)
    except OSError:
        return gap
    if identity == (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
        # Kept only for a file that did not change while it was read.
        if len(_GAPS) >= _REMEMBERED:
            _GAPS.pop(next(iter(_GAPS)), None)
        _GAPS[identity] = gap
    return gap


def _keyframe_interval(path: str) -> float | None:
    """keyframe_interval, read from the file."""
    keys: list[Fraction] = []
    try:
        with open_media(path) as container:
            stream = picture_stream(container)
            if stream is None:
                return None
            base = Fraction(stream.time_base or Fraction(1, 90000))
            for packet in container.demux(stream):
                if packet.pts is not None and packet.is_keyframe:
                    keys.append(packet.pts * base)
                    if len(keys) > SAMPLE_KEYFRAMES:
                        break
    except (MediaError, av.error.FFmpegError, OSError):
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
