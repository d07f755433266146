"""Subtitle look: text colour over its stroke, over a drop shadow, over a (rounded) box.

The layers stack as the editor's CSS preview draws them: the background box with its padding
and ``border-radius``, then the ``text-shadow`` (the glyphs' shape, including the stroke, moved
by the offset and blurred with a Gaussian of sigma = blur / 2, as CSS defines a blur radius),
then the stroke, then the text. The text colour's alpha applies to text and stroke together; the
shadow keeps its own colour's alpha (CSS draws a shadow even for transparent text). The
subtitle's ``opacity`` is not applied here: it fades the whole result, and is the layer's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import ImageFilter

from chunking.timeline.model import RGBA, Subtitle
from workers.layer import Image, Mask
from workers.subtitle_text import Rect

_INV255 = np.float32(1 / 255)
#: A Gaussian blur is drawn out to this many sigmas.
BLUR_REACH = 3


@dataclass(frozen=True)
class Look:
    """The colours and box of a subtitle (everything but the glyphs' shapes)."""

    color: RGBA
    stroke_color: RGBA = (0, 0, 0, 255)
    background: RGBA | None = None
    radius: float = 0.0
    shadow_color: RGBA | None = None
    shadow_offset: tuple[float, float] = (2.0, 2.0)
    shadow_blur: float = 0.0

    @classmethod
    def of(cls, sub: Subtitle) -> Look:
        """The look a subtitle asks for."""
        return cls(
            color=sub.color,
            stroke_color=sub.stroke_color,
            background=sub.background,
            radius=max(float(sub.border_radius), 0.0),
            shadow_color=sub.shadow_color if sub.shadow_color and sub.shadow_color[3] else None,
            shadow_offset=sub.shadow_offset,
            shadow_blur=max(float(sub.shadow_blur), 0.0),
        )

    def shadow_reach(self) -> tuple[int, int, int, int]:
        """How far (pixels) the shadow reaches past the glyphs: left, top, right, bottom."""
        if self.shadow_color is None:
            return 0, 0, 0, 0
        blur = math.ceil(BLUR_REACH * self.shadow_blur / 2)
        dx, dy = self.shadow_offset
        return (
            max(math.ceil(-dx), 0) + blur,
            max(math.ceil(-dy), 0) + blur,
            max(math.ceil(dx), 0) + blur,
            max(math.ceil(dy), 0) + blur,
        )


def compose(look: Look, stroke: Mask | None, fill: Mask, box: Rect | None) -> tuple[Image, Mask]:
    """Straight-alpha colour and alpha of the subtitle from its glyph coverage; ``box`` is the
    background's rectangle inside the masks (None = all of them)."""
    c = _unit(look.color)
    s = _unit(look.stroke_color)
    # Text over its stroke, in premultiplied terms, then the text colour's alpha over both.
    if stroke is None:
        shape = fill
    else:
        shape = fill + (stroke if s[3] == 1 else stroke * s[3]) * (1 - fill)
    text_alpha = shape * c[3]
    premul = fill[..., None] * (c[:3] * c[3])
    if stroke is not None and s[:3].any():
        premul = premul + (stroke * s[3] * (1 - fill) * c[3])[..., None] * s[:3]
    alpha = text_alpha
    if look.shadow_color is not None:
        sh = _unit(look.shadow_color)
        cast = _shadow(shape, look.shadow_offset, look.shadow_blur) * sh[3]
        under = (1 - alpha) * cast
        premul = premul + under[..., None] * sh[:3]
        alpha = alpha + under
    if look.background is not None:
        bg = _unit(look.background)
        under = (1 - alpha) * bg[3]
        if box == (0, 0, fill.shape[1], fill.shape[0]):
            box = None  # the box is the whole layer: its plain rectangle needs no mask
        if box is not None or look.radius > 0:
            under = under * box_mask(fill.shape[1], fill.shape[0], box, look.radius)
        premul = premul + under[..., None] * bg[:3]
        alpha = alpha + under
    inv = np.divide(np.float32(1), alpha, out=np.zeros_like(alpha), where=alpha > 0)
    rgb = premul * inv[..., None]
    return rgb.astype(np.float32, copy=False), alpha.astype(np.float32, copy=False)


@lru_cache(maxsize=16)
def box_mask(width: int, height: int, box: Rect | None, radius: float) -> Mask:
    """Coverage of a rectangle with rounded corners (anti-aliased) over a width x height area
    (cached: an animated subtitle's box does not change; the array is read-only)."""
    x0, y0, x1, y1 = box if box is not None else (0, 0, width, height)
    out = np.zeros((height, width), np.float32)
    out[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = 1
    r = min(radius, (x1 - x0) / 2, (y1 - y0) / 2)
    if r <= 0:
        out.setflags(write=False)
        return out
    span = math.ceil(r)
    half = np.float32(0.5)
    for xs, cx, sx in (
        (np.arange(x0, x0 + span), x0 + r, -1),
        (np.arange(x1 - span, x1), x1 - r, 1),
    ):
        for ys, cy, sy in (
            (np.arange(y0, y0 + span), y0 + r, -1),
            (np.arange(y1 - span, y1), y1 - r, 1),
        ):
            # How far each pixel centre lies past its corner circle's centre, towards the corner.
            px = np.maximum((xs + half - np.float32(cx)) * sx, 0)
            py = np.maximum((ys + half - np.float32(cy)) * sy, 0)
            dist = np.hypot(py[:, None], px[None, :])
            cover = np.clip(np.float32(r) + half - dist, 0, 1).astype(np.float32)
            keep_y, keep_x = (ys >= 0) & (ys < height), (xs >= 0) & (xs < width)
            region = np.ix_(ys[keep_y], xs[keep_x])
            out[region] = np.minimum(out[region], cover[np.ix_(keep_y, keep_x)])
    out.setflags(write=False)
    return out


def _shadow(shape: Mask, offset: tuple[float, float], blur: float) -> Mask:
    """The shape moved by ``offset`` pixels (bilinear) and blurred (sigma = blur / 2)."""
    height, width = shape.shape
    dx, dy = offset
    if float(dx).is_integer() and float(dy).is_integer():
        moved = PILImage.fromarray(_shifted(shape, int(dx), int(dy)))
    else:
        moved = PILImage.fromarray(np.ascontiguousarray(shape, dtype=np.float32)).transform(
            (width, height),
            PILImage.Transform.AFFINE,
            (1, 0, -dx, 0, 1, -dy),
            resample=PILImage.Resampling.BILINEAR,
            fillcolor=0,
        )
    if blur <= 0:
        still: Mask = np.asarray(moved, dtype=np.float32)
        return still
    # Pillow blurs 8-bit images only; a shadow's coverage needs no more precision than that.
    levels = np.asarray(moved, dtype=np.float32) * np.float32(255) + np.float32(0.5)
    eight = PILImage.fromarray(np.clip(levels, 0, 255).astype(np.uint8))
    blurred = eight.filter(ImageFilter.GaussianBlur(blur / 2))
    soft: Mask = np.multiply(np.asarray(blurred), _INV255, dtype=np.float32)
    return soft


def _shifted(shape: Mask, dx: int, dy: int) -> Mask:
    """The shape moved by whole pixels (what falls off is lost, what comes in is empty)."""
    height, width = shape.shape
    out = np.zeros_like(shape)
    if abs(dx) < width and abs(dy) < height:
        out[max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = shape[
            max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)
        ]
    return out


def _unit(color: RGBA) -> npt.NDArray[np.float32]:
    unit: npt.NDArray[np.float32] = np.clip(np.asarray(color, dtype=np.float32), 0, 255) * _INV255
    return unit
