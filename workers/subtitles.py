"""Burned-in subtitles: each Subtitle becomes a small Layer covering just its box.

The work is split by concern: workers.subtitle_fonts picks the face (family list, weight,
synthetic bold), workers.subtitle_text wraps the text, lays the lines out (alignment, line
height, letter spacing, maximum width) and draws glyph coverage, workers.subtitle_style colours
it (stroke, shadow, rounded box) and workers.subtitle_motion says what the animations do at a
frame. This module places the box on the canvas and ties them together.

A subtitle's still look is rasterised once per canvas size and cached as read-only arrays. An
animated frame reuses that raster, only moved, faded or scaled, and redraws glyphs only when
they themselves change (typewriter, wave); the typewriter's states are cached too. Every frame
is a function of the subtitle and the absolute timeline frame (DESIGN 4.2).

Placement: "bottom" and "top" boxes sit EDGE_MARGIN of the canvas height from that edge and
"center" in the middle, all centred horizontally; an explicit (x, y) puts the box's ``anchor``
point at that fraction of the canvas. The box is kept inside the canvas; animations move it
from there. The box is the text (cap height to descender, widened to the ink) plus padding when
there is a background; a shadow may reach past it, as CSS draws shadows outside the box.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
from PIL import Image as PILImage

from chunking.timeline.model import Subtitle
from common.errors import TimelineError
from workers.layer import Image, Layer, Mask
from workers.subtitle_fallback import fallback
from workers.subtitle_fonts import font
from workers.subtitle_motion import (
    PER_GLYPH,
    STILL,
    WAVE_PX,
    Motion,
    check_animations,
    motion_at,
    wave_lifts,
)
from workers.subtitle_style import Look, compose
from workers.subtitle_text import (
    Rect,
    TextLayout,
    TextSpec,
    cut_masks,
    draw_masks,
    lay_out,
    needs_shaping,
    wrap_text,
)

__all__ = ["EDGE_MARGIN", "WRAP_FRACTION", "check_subtitle", "font", "subtitle_layer", "wrap_text"]

#: Lines wrap at this fraction of the canvas width unless the subtitle says otherwise.
WRAP_FRACTION = 0.9
#: Distance of a top/bottom subtitle's box from the canvas edge, as a fraction of its height.
EDGE_MARGIN = 0.05
ALIGNS = ("left", "center", "right")

_Array = TypeVar("_Array", bound="np.ndarray[Any, Any]")


@dataclass(frozen=True)
class _Still:
    """A subtitle's still look on one canvas size, and what redrawing it needs."""

    rgb: Image
    alpha: Mask
    x: int  # canvas position of the raster's top-left corner
    y: int
    pivot: tuple[float, float]  # canvas position of the box's centre (scaling keeps it)
    layout: TextLayout | None  # None when there is no text
    rect: Rect = (0, 0, 1, 1)  # the raster's rectangle of the text's scratch canvas
    box: Rect | None = None  # the background box inside the raster, if there is one


def subtitle_layer(
    sub: Subtitle, width: int, height: int, frame: int | None = None, fps: Fraction = Fraction(30)
) -> Layer:
    """The subtitle drawn as a small layer placed on a ``width`` x ``height`` canvas, as it
    looks at timeline ``frame`` of a ``fps`` timeline (None = its still look)."""
    still = _render(sub, width, height)
    opacity = min(max(float(sub.opacity), 0.0), 1.0)
    motion = STILL
    if frame is not None and sub.animations:
        per_glyph = still.layout is not None and still.layout.spec.glyphs
        motion = motion_at(sub, frame, fps, per_glyph)
    if motion == STILL:
        # A fresh Layer each call, so a caller changing opacity or offsets cannot touch the cache.
        return Layer(still.rgb, still.alpha, still.x, still.y, opacity)
    if motion.opacity <= 0 or still.layout is None:
        return Layer(still.rgb, still.alpha, still.x, still.y, 0.0)
    rgb, alpha = still.rgb, still.alpha
    if motion.redraws():
        reveal = None
        if motion.reveal is not None:
            reveal = math.floor(motion.reveal * still.layout.clusters)
        rgb, alpha = _redrawn(sub, width, height, reveal, motion.wave)
    x, y = float(still.x), float(still.y)
    if motion.scale != 1:
        scaled = _scaled(rgb, alpha, motion.scale)
        if scaled is None:
            return Layer(still.rgb, still.alpha, still.x, still.y, 0.0)
        rgb, alpha = scaled
        px, py = still.pivot
        x, y = px + (x - px) * motion.scale, py + (y - py) * motion.scale
    dx, dy = _slid(motion, x, y, rgb.shape[1], rgb.shape[0], width, height)
    return Layer(rgb, alpha, round(x + dx), round(y + dy), opacity * motion.opacity)


def check_subtitle(sub: Subtitle) -> None:
    """Raise TimelineError naming the subtitle and field for a value that cannot be drawn."""
    if sub.font_size < 1:
        raise TimelineError(f"subtitle {sub.id}: font_size must be at least 1, got {sub.font_size}")
    if isinstance(sub.position, str) and sub.position not in ("bottom", "top", "center"):
        raise TimelineError(
            f"subtitle {sub.id}: position must be bottom, top, center or (x, y), "
            f"got {sub.position!r}"
        )
    if sub.align not in ALIGNS:
        raise TimelineError(
            f"subtitle {sub.id}: align must be left, center or right, got {sub.align!r}"
        )
    if not sub.max_width > 0:
        raise TimelineError(
            f"subtitle {sub.id}: max_width must be above 0 (a fraction of the canvas width), "
            f"got {sub.max_width}"
        )
    if sub.line_height is not None and not sub.line_height > 0:
        raise TimelineError(
            f"subtitle {sub.id}: line_height must be above 0 (a multiple of the font size), "
            f"got {sub.line_height}"
        )
    check_animations(sub)


def _spec(sub: Subtitle, width: int) -> TextSpec:
    """How the subtitle's text is drawn on a canvas ``width`` pixels wide."""
    size = int(sub.font_size)
    outline = max(int(sub.outline), 0)
    chain = fallback(sub.font_family, int(sub.font_weight), size)
    fnt, bold = chain.primary.font, chain.primary.bold
    glyphs = sub.letter_spacing != 0 or any(a.kind in PER_GLYPH for a in sub.animations)
    glyphs = glyphs and not needs_shaping(sub.text)
    spacing = float(sub.letter_spacing) if glyphs else 0.0
    lines = wrap_text(
        sub.text, fnt, sub.max_width * width, outline + bold, spacing=spacing, fallback=chain
    )
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    pitch = None if sub.line_height is None else round(sub.line_height * size)
    return TextSpec(tuple(lines), fnt, outline, bold, spacing, sub.align, pitch, glyphs, chain)


def _padding(sub: Subtitle) -> tuple[int, int, int, int]:
    if sub.background is None:
        return 0, 0, 0, 0  # with nothing drawn around the text, padding would only move it
    if sub.padding is None:
        pad = max(int(sub.font_size) // 4, 1)
        return pad, pad, pad, pad
    top, right, bottom, left = (max(round(p), 0) for p in sub.padding)
    return top, right, bottom, left


def _reach(sub: Subtitle) -> int:
    """How far (pixels) an animation may raise single glyphs."""
    return math.ceil(WAVE_PX) if any(a.kind == "wave" for a in sub.animations) else 0


@lru_cache(maxsize=16)
def _render(sub: Subtitle, width: int, height: int) -> _Still:
    check_subtitle(sub)
    spec = _spec(sub, width)
    if not spec.lines:
        # Nothing to draw: a single transparent pixel keeps every consumer's shapes valid.
        empty_rgb = _readonly(np.zeros((1, 1, 3), np.float32))
        return _Still(empty_rgb, _readonly(np.zeros((1, 1), np.float32)), 0, 0, (0, 0), None)
    look = Look.of(sub)
    layout, stroke_im, fill_im = lay_out(spec, _padding(sub), width, height, _reach(sub))
    bx0, by0, bx1, by1 = layout.box
    left, top, right, bottom = look.shadow_reach()
    top = max(top, _reach(sub))
    rect = (bx0 - left, by0 - top, bx1 + right, by1 + bottom)
    box = None
    if sub.background is not None:
        box = (left, top, left + bx1 - bx0, top + by1 - by0)
    stroke, fill = cut_masks(stroke_im, fill_im, rect)
    rgb, alpha = compose(look, stroke, fill, box)
    bw, bh = bx1 - bx0, by1 - by0
    x, y = _place(sub, width, height, bw, bh)
    return _Still(
        _readonly(np.ascontiguousarray(rgb)),
        _readonly(np.ascontiguousarray(alpha)),
        x - left,
        y - top,
        (x + bw / 2, y + bh / 2),
        layout,
        rect,
        box,
    )


# Small: a typewriter shows each state on consecutive frames, and a 1080p raster is megabytes.
@lru_cache(maxsize=4)
def _redrawn(
    sub: Subtitle, width: int, height: int, reveal: int | None, wave: float | None
) -> tuple[Image, Mask]:
    """The still raster's rectangle with only ``reveal`` characters shown and the letters raised
    by a wave at progress ``wave``."""
    still = _render(sub, width, height)
    assert still.layout is not None
    lifts = wave_lifts(wave, still.layout.clusters) if wave is not None else None
    stroke, fill = draw_masks(still.layout, still.rect, reveal, lifts)
    rgb, alpha = compose(Look.of(sub), stroke, fill, still.box)
    return _readonly(rgb), _readonly(alpha)


def _scaled(rgb: Image, alpha: Mask, scale: float) -> tuple[Image, Mask] | None:
    """The raster resized by ``scale`` (premultiplied, so edges do not darken); None if it
    shrinks below a pixel."""
    h, w = alpha.shape
    out_w, out_h = round(w * scale), round(h * scale)
    if out_w < 1 or out_h < 1:
        return None

    def resized(channel: Mask) -> Mask:
        im = PILImage.fromarray(np.ascontiguousarray(channel, dtype=np.float32))
        return np.asarray(im.resize((out_w, out_h), PILImage.Resampling.BILINEAR), np.float32)

    new_alpha = np.clip(resized(alpha), 0, 1)
    premul = np.stack([resized(rgb[..., i] * alpha) for i in range(3)], axis=-1)
    inv = np.divide(np.float32(1), new_alpha, out=np.zeros_like(new_alpha), where=new_alpha > 0)
    return np.clip(premul * inv[..., None], 0, 1).astype(np.float32), new_alpha


def _slid(
    motion: Motion, x: float, y: float, w: int, h: int, width: int, height: int
) -> tuple[float, float]:
    """The motion's offset in pixels, slides turned into distances to just past each edge."""
    dx, dy = motion.dx, motion.dy
    for side, fraction in motion.slides:
        if side == "left":
            dx -= fraction * (x + w)
        elif side == "right":
            dx += fraction * (width - x)
        elif side == "top":
            dy -= fraction * (y + h)
        elif side == "bottom":
            dy += fraction * (height - y)
    return dx, dy


def _place(sub: Subtitle, width: int, height: int, lw: int, lh: int) -> tuple[int, int]:
    """Top-left corner of an lw x lh box for the subtitle's position, clamped inside the canvas."""
    position = sub.position
    if isinstance(position, str):
        cx = width / 2
        margin = round(EDGE_MARGIN * height)
        if position == "bottom":
            y = height - margin - lh
        elif position == "top":
            y = margin
        else:
            y = round(height / 2 - lh / 2)
        x = round(cx - lw / 2)
    else:
        fx, fy = position
        ax, ay = sub.anchor
        x = round(fx * width - ax * lw)
        y = round(fy * height - ay * lh)
    return min(max(x, 0), width - lw), min(max(y, 0), height - lh)


def _readonly(array: _Array) -> _Array:
    # Cached arrays are shared by every frame that shows the subtitle; writing would corrupt them.
    array.setflags(write=False)
    return array
