"""Deinterlacing at decode: interlaced footage (1080i/576i from cameras and NLE exports) shows
each moving edge combed in a progressive output, so the frames the decoder flags interlaced go
through FFmpeg's bwdif (yadif where the FFmpeg lacks it), one output frame per input frame.

The filter's picture of frame N reads frames N-1, N and N+1 only (bwdif's outer fields are
those frames' other lines; its first frame stands in for the one before it, its last for the
one after), so a decode that starts at frame N-1 gives frame N exactly as one from the file's
start does: ``VideoSource`` seeks for the frame before the one it wants. Frames not flagged
interlaced (soft telecine, progressive runs of a mixed stream) come out untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import av
import av.error
import av.filter

#: bwdif (w3fdif's weights over yadif's checks: sharper, fewer artefacts) where FFmpeg has it.
FILTER = "bwdif" if "bwdif" in av.filter.filters_available else "yadif"
#: One frame out per frame in; only the frames flagged interlaced; the field order each says.
OPTIONS = "mode=send_frame:parity=auto:deint=interlaced"

#: FFmpeg's AVFieldOrder of interlaced streams, by the field shown first (TT, BB, TB, BT).
FIELD_ORDERS = {2: "top", 3: "bottom", 4: "bottom", 5: "top"}
#: AVFieldOrder's "progressive" (0 is "unknown").
PROGRESSIVE = 1

#: Pixel formats bwdif and yadif filter as they are: others would be converted on the way in,
#: and converted frames would not show what the decoder made.
_FORMATS = re.compile(
    r"(yuva?(410|411|420|422|440|444)p|yuvj(411|420|422|440|444)p"
    r"|yuva?(420|422|444)p(9|10|16)le|yuv(420|422|444)p(12|14)le"
    r"|gbra?p|gbrp(9|10|12|14|16)le|gbrap16le|gray|gray16le)"
)


def field_order(stream: Any) -> str | None:
    """The field a stream declares shown first ("top" or "bottom"), None when progressive or
    unsaid: the stream's field order, which FFmpeg fills from the container or first frames."""
    return FIELD_ORDERS.get(_declared(stream))


def interlacing(stream: Any, first_frame: Callable[[], Any]) -> str | None:
    """How a video stream is interlaced: the field it declares shown first, "flagged" where it
    declares no order but its first frame (which `first_frame` decodes, None if it cannot) says
    it is interlaced (raw DV declares none; each frame's own flags then give the order), None
    for progressive. Only a stream that says nothing has its first frame decoded."""
    order = field_order(stream)
    if order is not None or _declared(stream) == PROGRESSIVE:
        return order
    frame = first_frame()
    return "flagged" if frame is not None and frame.interlaced_frame else None


def _declared(stream: Any) -> int:
    """The stream's AVFieldOrder (0, unknown, where it has no decoder)."""
    ctx = stream.codec_context
    order = getattr(ctx, "field_order", None) if ctx is not None else None
    return int(order or 0)


def filterable(pix_fmt: str) -> bool:
    """Whether the filter takes frames of this pixel format without converting them."""
    return _FORMATS.fullmatch(pix_fmt) is not None


class Deinterlacer:
    """One filter graph over frames of one size and format: push frames, get filtered ones."""

    def __init__(self, frame: Any, time_base: Fraction, threads: int | None = None) -> None:
        self.shape = _shape(frame)
        self.time_base = time_base
        graph = av.filter.Graph()
        source = graph.add_buffer(
            width=frame.width, height=frame.height, format=frame.format, time_base=time_base
        )
        deinterlace = graph.add(FILTER, OPTIONS)
        sink = graph.add("buffersink")
        source.link_to(deinterlace)
        deinterlace.link_to(sink)
        if threads:
            graph.threads = threads  # a render slot's share of the cores, as its decoders
        graph.configure()
        self.graph = graph

    def push(self, frame: Any | None) -> list[Any]:
        """Feed a frame (None at the end) and take what came out, at the input's times."""
        self.graph.push(frame)
        out: list[Any] = []
        while True:
            try:
                filtered = self.graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return out
            # The filter counts fields: times come out doubled, in half the time base.
            filtered.pts = filtered.pts // 2 if filtered.pts is not None else None
            filtered.time_base = self.time_base
            out.append(filtered)


def deinterlaced(
    frames: Iterator[Any], time_base: Fraction, threads: int | None = None
) -> Iterator[Any]:
    """The frames, those flagged interlaced deinterlaced, each a frame after the decoder gives
    the next (which the filter reads); the last when the decoder ends."""
    filt: Deinterlacer | None = None
    last: int | None = None
    for frame in frames:
        if frame.pts is None:
            continue
        out: list[Any] = []
        if filt is not None and filt.shape != _shape(frame):
            # A new size or format mid-stream: the old graph's last frame stands for its next.
            out += filt.push(None)
            filt = None
        if filt is None and filterable(frame.format.name):
            filt = Deinterlacer(frame, time_base, threads)
        out += [frame] if filt is None else filt.push(frame)
        for shown in out:
            # Times only grow: an older FFmpeg repeats a progressive first frame.
            if last is None or shown.pts > last:
                last = shown.pts
                yield shown
    if filt is not None:
        yield from (f for f in filt.push(None) if last is None or f.pts > last)


def _shape(frame: Any) -> tuple[int, int, str]:
    """What one graph is built for: the frame's size and pixel format."""
    return frame.width, frame.height, frame.format.name
