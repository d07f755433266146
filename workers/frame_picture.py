"""A decoded video frame as the picture it shows: upright, square pixels, its alpha kept, at the
size the compositor asks for, in BT.709 SDR RGB (HDR and BT.2020 frames through workers.hdr).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from workers import hdr
from workers.sources import Picture, Sizer, split_rgba
from workers.video_orientation import Orientation, turned


def frame_picture(
    frame: Any,
    sizer: Sizer | None,
    aspect: Fraction = Fraction(1),
    orient: Orientation | None = None,
    whole: Any = None,
) -> Picture:
    """A decoded frame as the picture it shows: turned upright (and mirrored, as ``orient``,
    its stream's orientation, says), its pixels' aspect ratio (`aspect`: PAL or HDV
    anamorphic) made square, its alpha kept (ProRes 4444, QuickTime Animation, PNG), at the
    size the sizer asks for; ``whole``: the frame it was cut from (workers.frame_crop), whose
    YUV matrix it is read with."""
    orient = turned(frame.rotation or 0) if orient is None else orient
    turns = 1 if orient.swaps else 0  # only whether the sides swap matters below
    alpha = any(component.is_alpha for component in frame.format.components)
    pixels = "rgba" if alpha else "rgb24"
    width, height = frame.width, frame.height
    shown = max(1, round(width * aspect)) if aspect != 1 else width
    out_w, out_h = shown, height
    if sizer is not None:
        out_w, out_h = sizer(*((height, shown) if turns % 2 else (shown, height)))
        if turns % 2:
            out_w, out_h = out_h, out_w
    conversion = _conversion(frame)
    matrix = _matrix(frame if whole is None else whole)
    if conversion is not None:
        array = _converted(frame, conversion, out_w, out_h, alpha)
    elif sizer is None and shown == width:
        if matrix is None:
            array = frame.to_ndarray(format=pixels)
        else:
            array = frame.reformat(format=pixels, src_colorspace=matrix).to_ndarray()
    else:
        # One swscale pass converts and scales: cheaper than full-size RGB plus a resize.
        array = frame.reformat(
            width=out_w,
            height=out_h,
            format=pixels,
            src_colorspace=matrix,
            interpolation="BILINEAR",
        ).to_ndarray()
    if orient.steps:
        array = np.ascontiguousarray(orient.apply(array))
    return split_rgba(array) if alpha else Picture(array)


def _conversion(frame: Any) -> hdr.ColourConversion | None:
    """How a YUV frame tagged HDR (PQ, HLG) or BT.2020 reaches BT.709 SDR; None for the rest."""
    fmt = frame.format
    if fmt.is_rgb or len(fmt.components) < 3 or fmt.name.startswith(("gbr", "pal")):
        return None
    return hdr.conversion_for(
        frame.color_trc, frame.color_primaries, frame.colorspace, frame.color_range
    )


def _converted(
    frame: Any, conversion: hdr.ColourConversion, width: int, height: int, alpha: bool
) -> Any:
    """The frame in BT.709 SDR RGB (RGBA with `alpha`) at this size: swscale upsamples the
    chroma and resizes in YUV at 16 bits (a 10-bit sample v arrives as v << 6), and
    workers.hdr converts the colours. Not swscale's own YUV to RGB: its 16-bit RGB reads 0.4 %
    dark, and 8 bits are too coarse to tone-map PQ or HLG."""
    yuv = frame.reformat(
        width=width,
        height=height,
        format="yuva444p16le" if alpha else "yuv444p16le",
        interpolation="BILINEAR",
    )
    planes = [
        np.frombuffer(plane, np.uint16).reshape(height, -1)[:, :width] for plane in yuv.planes
    ]
    bits = max(component.bits for component in frame.format.components)
    rgb = hdr.to_sdr(planes[0], planes[1], planes[2], conversion, bits)
    if not alpha:
        return rgb
    # 16-bit alpha to 8 bits as swscale rounds it (x * 255 / 65535, to the nearest).
    opacity = ((planes[3].astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return np.dstack((rgb, opacity))


#: FFmpeg's AVCOL_SPC_UNSPECIFIED: a frame that does not say which YUV matrix it uses.
_UNSPECIFIED = 2


def _matrix(frame: Any) -> str | None:
    """The YUV matrix to read an untagged HD frame with: BT.709, as players and ffmpeg's own
    conventions show HD (swscale would take BT.601); None where the frame says or is SD."""
    if (
        frame.colorspace != _UNSPECIFIED
        or frame.height < 720
        or frame.format.name.startswith(("rgb", "bgr", "gbr", "argb", "abgr", "gray", "pal"))
    ):
        return None
    return "ITU709"
