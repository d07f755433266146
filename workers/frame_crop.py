"""A video frame's picture with its clip's crop taken off before it is scaled.

A frame shown as stored (no turn, no anamorphic stretch) whose crop edges lie on its chroma
grid is cut by FFmpeg's crop filter (a view of its planes, the frame's own properties kept) and
the part kept goes through workers.frame_picture like any frame: converted and scaled in one
swscale pass, exactly as a video of only that part would be, and no cropped-away pixel bleeds
into its edges. A 4K source cropped onto a 1080p canvas no longer becomes a full-size RGB
picture that is cut and then resized. Any other frame is converted at full size, cut and
resized, as before.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any

import av

from chunking.timeline.placement import Crop
from workers.frame_picture import frame_picture
from workers.geometry import cut_size
from workers.sources import Picture, Sizer, resize
from workers.video_orientation import Orientation, turned


def cropped_picture(
    frame: Any,
    crop: Crop,
    clip_id: str,
    sizer: Sizer | None,
    aspect: Fraction = Fraction(1),
    orient: Orientation | None = None,
) -> Picture:
    """The picture a decoded frame shows (workers.frame_picture) less the clip's ``crop``, at
    the size the sizer asks for the part kept (given that part's size)."""
    orient = turned(frame.rotation or 0) if orient is None else orient
    if aspect == 1 and not orient.steps:
        cut = _cut(frame, crop, clip_id)
        if cut is not None:
            return frame_picture(cut, sizer, aspect, orient, whole=frame)
    full = frame_picture(frame, None, aspect, orient)
    height, width = full.rgb.shape[:2]
    cut_w, cut_h = cut_size(crop, clip_id, width, height)
    rows = slice(crop.top, crop.top + cut_h)
    cols = slice(crop.left, crop.left + cut_w)
    alpha = full.alpha[rows, cols] if full.alpha is not None else None
    picture = Picture(full.rgb[rows, cols], alpha)
    return picture if sizer is None else resize(picture, *sizer(cut_w, cut_h))


def _cut(frame: Any, crop: Crop, clip_id: str) -> Any:
    """The frame less ``crop``, cut by FFmpeg's crop filter, or None where an edge of the cut
    is off the frame's chroma grid (an odd column of 4:2:0) or the filter cannot cut it."""
    cut_w, cut_h = cut_size(crop, clip_id, frame.width, frame.height)
    step_x, step_y = _chroma_steps(frame.format.name)
    if (crop.left | cut_w) % step_x or (crop.top | cut_h) % step_y:
        return None
    try:
        graph = av.filter.Graph()
        source = graph.add_buffer(
            width=frame.width,
            height=frame.height,
            format=frame.format.name,
            time_base=frame.time_base or Fraction(1, 90000),
        )
        cropper = graph.add("crop", f"{cut_w}:{cut_h}:{crop.left}:{crop.top}:exact=1")
        sink = graph.add("buffersink")
        source.link_to(cropper)
        cropper.link_to(sink)
        graph.configure()
        graph.push(frame)
        return graph.pull()
    except (av.error.FFmpegError, ValueError):
        return None  # a format the filter does not take (a bitstream, a hardware frame)


@lru_cache(maxsize=64)
def _chroma_steps(pixels: str) -> tuple[int, int]:
    """How many pixels a chroma sample of this pixel format spans across and down."""
    probe = av.VideoFormat(pixels, 64, 64)
    sizes = [(c.width, c.height) for c in probe.components if c.width and c.height]
    return max(64 // w for w, _ in sizes), max(64 // h for _, h in sizes)
