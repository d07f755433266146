"""Clip geometry: crop, fit to the canvas, scale, rotate about the anchor, position.

The untransformed clip is fitted inside the canvas (aspect preserved) and centred. Scale and
rotation pivot on the anchor point (a fraction of the clip's size); position moves the clip by
pixels (x right, y down). Rotation is clockwise in degrees.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from chunking.errors import TimelineError
from chunking.timeline import Clip
from workers.sources import Picture, Rgb8

_RESAMPLE = Image.Resampling.BILINEAR


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


def place(picture: Picture, clip: Clip, width: int, height: int) -> tuple[Picture, int, int]:
    """Scale and rotate a (cropped) picture; return it with its top-left canvas position."""
    src_h, src_w = picture.rgb.shape[:2]
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
    picture = _resize(picture, out_w, out_h)
    if t.rotation % 360 == 0:
        return picture, round(left), round(top)
    rotated, off_x, off_y = _rotate(picture, t.rotation, t.anchor_x * out_w, t.anchor_y * out_h)
    return rotated, round(left) + off_x, round(top) + off_y


def _resize(picture: Picture, out_w: int, out_h: int) -> Picture:
    src_h, src_w = picture.rgb.shape[:2]
    if (src_w, src_h) == (out_w, out_h):
        return picture
    if picture.alpha is None:
        rgb = Image.fromarray(picture.rgb).resize((out_w, out_h), _RESAMPLE)
        return Picture(np.asarray(rgb))
    rgba = Image.fromarray(_rgba(picture)).resize((out_w, out_h), _RESAMPLE)
    return _split(np.asarray(rgba))


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
    img = Image.fromarray(_rgba(picture)).transform(
        (out_w, out_h), Image.Transform.AFFINE, data, resample=_RESAMPLE, fillcolor=(0, 0, 0, 0)
    )
    return _split(np.asarray(img)), min_x, min_y


def _rgba(picture: Picture) -> Rgb8:
    h, w = picture.rgb.shape[:2]
    out = np.empty((h, w, 4), dtype=np.uint8)
    out[:, :, :3] = picture.rgb
    out[:, :, 3] = 255 if picture.alpha is None else picture.alpha
    return out


def _split(rgba: Rgb8) -> Picture:
    alpha = np.ascontiguousarray(rgba[:, :, 3])
    return Picture(np.ascontiguousarray(rgba[:, :, :3]), None if alpha.min() == 255 else alpha)
