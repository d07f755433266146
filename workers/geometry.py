"""Clip geometry: crop, fit to the canvas, scale, rotate about the anchor, position.

The untransformed clip is fitted inside the canvas (aspect preserved) and centred. Scale and
rotation pivot on the anchor point (a fraction of the clip's size); position moves the clip by
pixels (x right, y down). Rotation is clockwise in degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from chunking.timeline.model import Clip
from common.errors import TimelineError
from workers.sources import Picture, resize, rgba_of, split_rgba


@dataclass(frozen=True)
class Layout:
    """Where a clip lands: its scaled size and the canvas position of its top-left corner."""

    width: int
    height: int
    left: float
    top: float


def crop(picture: Picture, clip: Clip) -> Picture:
    """Remove the clip's crop margins from a source picture."""
    if clip.crop.is_identity():
        return picture
    height, width = picture.rgb.shape[:2]
    c = clip.crop
    if c.left + c.right >= width or c.top + c.bottom >= height:
        raise TimelineError(
            f"clip {clip.id!r}: crop {c.left},{c.top},{c.right},{c.bottom} removes the whole "
            f"{width}x{height} source frame"
        )
    rows, cols = slice(c.top, height - c.bottom), slice(c.left, width - c.right)
    alpha = picture.alpha[rows, cols] if picture.alpha is not None else None
    return Picture(picture.rgb[rows, cols], alpha)


def layout(src_w: int, src_h: int, clip: Clip, width: int, height: int) -> Layout:
    """Fit a source of this size into the canvas, then scale and position it (pure maths)."""
    t = clip.transform
    fit = min(width / src_w, height / src_h)
    fit_w, fit_h = src_w * fit, src_h * fit
    out_w = max(1, round(fit_w * t.scale_x))
    out_h = max(1, round(fit_h * t.scale_y))
    # The anchor point of the fitted, centred clip: scaling and rotation pivot there.
    anchor_x = (width - fit_w) / 2 + t.anchor_x * fit_w
    anchor_y = (height - fit_h) / 2 + t.anchor_y * fit_h
    left = anchor_x + t.position_x - t.anchor_x * out_w
    top = anchor_y + t.position_y - t.anchor_y * out_h
    return Layout(out_w, out_h, left, top)


def place(picture: Picture, where: Layout, clip: Clip) -> tuple[Picture, int, int]:
    """Resize a picture to its layout and rotate it; return it with its canvas position."""
    picture = resize(picture, where.width, where.height)
    t = clip.transform
    if t.rotation % 360 == 0:
        return picture, round(where.left), round(where.top)
    rotated, off_x, off_y = _rotate(
        picture, t.rotation, t.anchor_x * where.width, t.anchor_y * where.height
    )
    return rotated, round(where.left) + off_x, round(where.top) + off_y


def _rotate(
    picture: Picture, degrees: float, pivot_x: float, pivot_y: float
) -> tuple[Picture, int, int]:
    """Rotate clockwise about a pivot; return the bounding-box image and its offset."""
    h, w = picture.rgb.shape[:2]
    theta = math.radians(degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    corners = [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)]
    # Clockwise on screen (y down) is the standard rotation matrix in these coordinates.
    moved = [
        (
            pivot_x + cos * (x - pivot_x) - sin * (y - pivot_y),
            pivot_y + sin * (x - pivot_x) + cos * (y - pivot_y),
        )
        for x, y in corners
    ]
    min_x = math.floor(min(p[0] for p in moved))
    min_y = math.floor(min(p[1] for p in moved))
    out_w = math.ceil(max(p[0] for p in moved)) - min_x
    out_h = math.ceil(max(p[1] for p in moved)) - min_y
    # Inverse map: output pixel (u, v) -> source (x, y), as Pillow's AFFINE expects.
    c = min_x - pivot_x
    f = min_y - pivot_y
    data = (cos, sin, cos * c + sin * f + pivot_x, -sin, cos, -sin * c + cos * f + pivot_y)
    img = Image.fromarray(rgba_of(picture)).transform(
        (out_w, out_h),
        Image.Transform.AFFINE,
        data,
        resample=Image.Resampling.BILINEAR,
        fillcolor=(0, 0, 0, 0),
    )
    return split_rgba(np.asarray(img)), min_x, min_y
