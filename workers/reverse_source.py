"""Backward access to a video source, for clips played in reverse (Clip.reverse).

A reversed clip asks for its source's frames from the latest to the earliest. Decoding each one
afresh from its keyframe costs a whole GOP per frame (GOP squared per GOP), and a forward
decoder cannot step back. `ReverseVideo` decodes GOP by GOP backwards instead: for a frame it
has not got, it seeks to the keyframe at or before it, decodes forward up to it, keeps the last
``window`` frames of that run (the decoder's own YUV frames, converted to RGB only when shown)
and serves the following requests, which go back in time, from them.

Bounds: at most ``window`` decoded frames are held (``window`` from WINDOW_BYTES and the frame
size, at least 2 and at most MAX_WINDOW). A GOP of G frames is decoded in ceil(G / window)
runs from its keyframe, so the frames decoded per frame shown are about 1 + G / (2 * window):
one where a GOP fits the window (the usual case: 1-4 s GOPs at 1080p), never the file from its
start. Any frame's pixels are exactly what the forward decode gives (VideoSource.frame_of
seeks to the keyframe as a forward render does), so a chunk starting inside a reversed clip
renders the frames the whole render does. Intra-only sources decode one frame per run, and
stills and generated pictures need none of this.
"""

from __future__ import annotations

import bisect
from fractions import Fraction
from typing import Any

from chunking.timeline.reverse import WINDOW_BYTES_PER_PIXEL, window_bytes
from workers.sources import Asked, Picture, Sizer
from workers.video_source import VideoSource


class ReverseVideo:
    """A VideoSource read backwards: the frames of the run decoded last are kept for the next,
    earlier requests (see the module docstring)."""

    def __init__(self, video: VideoSource, window: int | None = None) -> None:
        """`window` caps the frames held (None: from WINDOW_BYTES and the frame size)."""
        self.video = video
        ctx = video.stream.codec_context
        pixels = max((ctx.width or 0) * (ctx.height or 0), 1)
        self.window = window or window_bytes(pixels) // (WINDOW_BYTES_PER_PIXEL * pixels)
        #: the frames kept: presentation time -> decoded frame
        self._held: dict[int, Any] = {}
        self._cache: tuple[int, Asked, Picture] | None = None
        #: frames decoded in all (for tests and benchmarks: the cost of playing backwards)
        self.decoded = 0

    @property
    def duration(self) -> Fraction:
        """The source's duration (VideoSource.duration)."""
        return self.video.duration

    def picture_at(
        self, seconds: Fraction, sizer: Sizer | None = None, step: Fraction = Fraction(0)
    ) -> Picture:
        """The frame shown over an output frame at this many seconds (VideoSource.picture_at),
        read backwards."""
        wanted = self.video.index.shown_at(seconds, step)
        if self._cache is not None and self._cache[0] == wanted and self._cache[1].fits(sizer):
            return self._cache[2]
        if wanted not in self._held:
            self._fill(wanted)
        asked = Asked(sizer)
        picture = self.video.picture_of(self._held[wanted], asked)
        self._cache = (wanted, asked, picture)
        return picture

    def _fill(self, wanted: int) -> None:
        """Decode from the keyframe at or before `wanted` up to it, keeping the last `window`
        frames (the earlier ones of a long GOP come in a later run)."""
        self._held.clear()  # the frames of the last run go before the new run's are made
        pts = self.video.pts
        last = bisect.bisect_left(pts, wanted)
        key = self.video.index.keyframe(wanted)
        first = bisect.bisect_left(pts, key) if key is not None else 0
        keep_from = max(first, last - self.window + 1)
        for index in range(first, last + 1):
            frame = self.video.frame_of(pts[index])
            self.decoded += 1
            if index >= keep_from:
                self._held[pts[index]] = frame

    def close(self) -> None:
        """Drop the held frames and close the source."""
        self._held.clear()
        self._cache = None
        self.video.close()
