"""Clip geometry: crop, fit to the canvas or a template cell, scale, rotate, position.

The untransformed clip is fitted inside the canvas (aspect preserved) and centred. A clip with a
template cell (Clip.cell, a rectangle of the canvas in fractions) is fitted into that rectangle
instead: "contain" letterboxes it inside (placed by the cell's align_x/align_y: 0 = left/top,
1 = right/bottom), "cover" fills the cell (aspect preserved; the align picks the part kept) and
"fill" stretches it to the cell; the cell's scale then zooms the fitted picture about that same
align point. Whatever follows, the clip is drawn only inside its cell (compositor).

The clip's own transform then applies to the fitted picture: scale and rotation pivot on the
anchor point (a fraction of the clip's size); position moves the clip by pixels (x right,
y down) from where the fit put it, which for a centred fit is relative to the centre of the
canvas, or of the cell. Rotation is clockwise in degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
from PIL import Image

from chunking import memory
from chunking.timeline.model import Cell, Clip, Transform
from chunking.timeline.placement import Crop, scale_reach
from common.errors import TimelineError
from workers.sources import Picture, resize, rgba_image, split_rgba


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
    cut_size(c, clip.id, width, height)  # refuses a crop that leaves nothing
    rows, cols = slice(c.top, height - c.bottom), slice(c.left, width - c.right)
    alpha = picture.alpha[rows, cols] if picture.alpha is not None else None
    return Picture(picture.rgb[rows, cols], alpha)


def cut_size(crop: Crop, clip_id: str, width: int, height: int) -> tuple[int, int]:
    """The size of what ``crop`` leaves of a ``width`` x ``height`` picture."""
    c = crop
    if c.left + c.right >= width or c.top + c.bottom >= height:
        raise TimelineError(
            f"clip {clip_id!r}: crop {c.left},{c.top},{c.right},{c.bottom} removes the whole "
            f"{width}x{height} source frame"
        )
    return width - c.left - c.right, height - c.top - c.bottom


#: How a picture is fitted into a template cell.
FITS = ("contain", "cover", "fill")


def cell_box(clip: Clip, width: int, height: int) -> tuple[int, int, int, int] | None:
    """The canvas pixels of the clip's template cell (left, top, right, bottom; it may reach
    past the canvas), or None when the clip has no cell."""
    cell = clip.cell
    if cell is None:
        return None
    if cell.fit not in FITS:
        raise TimelineError(
            f"clip {clip.id!r}: cell fit must be contain, cover or fill, got {cell.fit!r}"
        )
    if not (cell.width > 0 and cell.height > 0 and cell.scale > 0):
        raise TimelineError(
            f"clip {clip.id!r}: cell width, height and scale must be above 0, got "
            f"{cell.width}, {cell.height} and {cell.scale}"
        )
    # Edges rounded once, so cells that share an edge meet with neither a gap nor an overlap.
    left, top = round(cell.x * width), round(cell.y * height)
    right, bottom = round((cell.x + cell.width) * width), round((cell.y + cell.height) * height)
    return left, top, max(right, left + 1), max(bottom, top + 1)


def layout(src_w: int, src_h: int, clip: Clip, width: int, height: int) -> Layout:
    """Fit a source of this size into the canvas (or the clip's cell), then scale and position
    it (pure maths)."""
    t = clip.transform
    box = cell_box(clip, width, height)
    if box is None or clip.cell is None:
        fit = min(width / src_w, height / src_h)
        fit_w, fit_h = src_w * fit, src_h * fit
        fit_left, fit_top = (width - fit_w) / 2, (height - fit_h) / 2
    else:
        fit_w, fit_h, fit_left, fit_top = _cell_fit(src_w, src_h, clip.cell, box)
    # A size that rounds to 0 pixels draws nothing (a clip scaled to 0 vanishes).
    out_w = round(fit_w * t.scale_x)
    out_h = round(fit_h * t.scale_y)
    # The anchor point of the fitted clip: scaling and rotation pivot there.
    anchor_x = fit_left + t.anchor_x * fit_w
    anchor_y = fit_top + t.anchor_y * fit_h
    left = anchor_x + t.position_x - t.anchor_x * out_w
    top = anchor_y + t.position_y - t.anchor_y * out_h
    return Layout(out_w, out_h, left, top)


def largest_size(
    keyed: Clip, src_w: int, src_h: int, width: int, height: int, fps: Fraction
) -> tuple[int, int]:
    """The largest size a moving clip's keys draw a source of this size at over the frames it
    is drawn on, never above the source's own: one size for the whole clip, so a picture kept
    at it makes each frame the same whatever range of the timeline is rendered."""
    last = Fraction(max(keyed.frames - 1, 0)) / fps
    scale_x, scale_y = scale_reach(keyed.transform_keys, last)
    widest = replace(keyed, transform=Transform(scale_x, scale_y), transform_keys=())
    laid = layout(src_w, src_h, widest, width, height)
    return max(min(laid.width, src_w), 1), max(min(laid.height, src_h), 1)


def _cell_fit(
    src_w: int, src_h: int, cell: Cell, box: tuple[int, int, int, int]
) -> tuple[float, float, float, float]:
    """Size and top-left corner of a source fitted into its cell's pixels."""
    left, top, right, bottom = box
    cell_w, cell_h = right - left, bottom - top
    if cell.fit == "fill":
        fit_w, fit_h = float(cell_w), float(cell_h)
    else:
        pick = min if cell.fit == "contain" else max
        fit = pick(cell_w / src_w, cell_h / src_h)
        fit_w, fit_h = src_w * fit, src_h * fit
    fit_w, fit_h = fit_w * cell.scale, fit_h * cell.scale
    # The align point of the picture meets the same point of the cell: a letterboxed picture
    # sits there, a covering one keeps that part, and a zoom grows from there.
    return (
        fit_w,
        fit_h,
        left + cell.align_x * (cell_w - fit_w),
        top + cell.align_y * (cell_h - fit_h),
    )


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


def zoomed(where: Layout, width: int, height: int) -> bool:
    """Whether a layout is so much bigger than the canvas that resampling all of it would cost
    far more than the part that shows (a clip zoomed in: scale up to 100 is allowed)."""
    # chunking.memory.ZOOMED: its estimate of a frame's memory follows this choice. Smaller
    # layouts are resampled whole, as they always were.
    return where.width * where.height > memory.ZOOMED * width * height


def place_within(
    picture: Picture, where: Layout, clip: Clip, bounds: tuple[int, int, int, int]
) -> tuple[Picture, int, int] | None:
    """What ``place`` draws inside ``bounds`` (left, top, right, bottom on the canvas), resampling
    only the part of the scaled picture that lands there (None when none does), so a 100x zoom
    never builds a picture of billions of pixels. Pillow's resize of a box of the source samples
    each output pixel where the whole resize does; its fixed-point weights round from the box's
    start, so a pixel may be a level off ``place``'s (tests/workers/test_geometry_zoom.py)."""
    src_h, src_w = picture.rgb.shape[:2]
    left, top = round(where.left), round(where.top)
    t = clip.transform
    pivot_x, pivot_y = t.anchor_x * where.width, t.anchor_y * where.height
    theta = math.radians(t.rotation % 360)
    cos, sin = math.cos(theta), math.sin(theta)
    # The bounds' corners in the upright scaled picture's pixels (the rotation undone).
    b_left, b_top, b_right, b_bottom = bounds
    seen = [
        (
            pivot_x + cos * (cx - left - pivot_x) + sin * (cy - top - pivot_y),
            pivot_y - sin * (cx - left - pivot_x) + cos * (cy - top - pivot_y),
        )
        for cx, cy in ((b_left, b_top), (b_right, b_top), (b_left, b_bottom), (b_right, b_bottom))
    ]
    # Two pixels more on each side: the bilinear taps of the edge pixels and the rotation's.
    x0 = max(math.floor(min(p[0] for p in seen)) - 2, 0)
    y0 = max(math.floor(min(p[1] for p in seen)) - 2, 0)
    x1 = min(math.ceil(max(p[0] for p in seen)) + 2, where.width)
    y1 = min(math.ceil(max(p[1] for p in seen)) + 2, where.height)
    if x0 >= x1 or y0 >= y1:
        return None
    sx, sy = src_w / where.width, src_h / where.height
    box = (x0 * sx, y0 * sy, x1 * sx, y1 * sy)
    size = (x1 - x0, y1 - y0)
    if picture.alpha is None:
        rgb = Image.fromarray(picture.rgb).resize(size, Image.Resampling.BILINEAR, box=box)
        part = Picture(np.asarray(rgb))
    else:
        rgba = rgba_image(picture)
        part = split_rgba(np.asarray(rgba.resize(size, Image.Resampling.BILINEAR, box=box)))
    if t.rotation % 360 == 0:
        return part, left + x0, top + y0
    rotated, off_x, off_y = _rotate(part, t.rotation, pivot_x - x0, pivot_y - y0)
    return rotated, left + x0 + off_x, top + y0 + off_y


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
    turns = degrees / 90.0
    low_x, low_y = min(p[0] for p in moved), min(p[1] for p in moved)
    if turns == round(turns) and max(abs(low_x - round(low_x)), abs(low_y - round(low_y))) < 1e-6:
        # A right angle onto whole pixels moves every pixel onto another: no resampling.
        k = -round(turns) % 4  # np.rot90 turns counter-clockwise
        alpha = None if picture.alpha is None else np.ascontiguousarray(np.rot90(picture.alpha, k))
        rgb = np.ascontiguousarray(np.rot90(picture.rgb, k))
        return Picture(rgb, alpha), round(low_x), round(low_y)
    out_w = math.ceil(max(p[0] for p in moved)) - min_x
    out_h = math.ceil(max(p[1] for p in moved)) - min_y
    # Inverse map: output pixel (u, v) -> source (x, y), as Pillow's AFFINE expects.
    c = min_x - pivot_x
    f = min_y - pivot_y
    data = (cos, sin, cos * c + sin * f + pivot_x, -sin, cos, -sin * c + cos * f + pivot_y)
    img = rgba_image(picture).transform(
        (out_w, out_h),
        Image.Transform.AFFINE,
        data,
        resample=Image.Resampling.BILINEAR,
        fillcolor=(0, 0, 0, 0),
    )
    return split_rgba(np.asarray(img)), min_x, min_y
