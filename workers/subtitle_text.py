"""Subtitle text: laying wrapped lines out, and drawing their glyph coverage.

A line is drawn in one of two ways. Whole, when nothing addresses single characters: Pillow
(with raqm) lays it out, kerning and shaping included (run by run, each in its face, where
characters fall back to faces other than the subtitle's own: workers.subtitle_fallback). Glyph
by glyph, when letter spacing is set or an animation reveals or moves single characters
(typewriter, wave): each character (with its combining marks) is rendered once, alone, at its
pen position in the whole line (its kerning with the next character kept) plus the letter
spacing before it, and pasted from there (so moving or hiding a character costs a paste, not a
rasterisation). A subtitle keeps one way for all its frames, so its text does not shift when an
animation ends. Coverage is 8-bit, drawn into a scratch canvas with generous margins and cut to
a rectangle the caller chooses (the text box, or more when a shadow or a wave reaches further).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import ImageDraw

from workers.layer import Mask
from workers.subtitle_fallback import Fallback, faces_of
from workers.subtitle_fonts import FreeTypeFont
from workers.subtitle_lines import (
    BREAKS,
    clusters_of,
    drawn_whole,
    line_runs,
    line_width,
    needs_shaping,
    pens,
    primary_face,
    wrap_text,
)

__all__ = [
    "BREAKS",
    "Rect",
    "TextLayout",
    "TextSpec",
    "clusters_of",
    "cut_masks",
    "draw_masks",
    "lay_out",
    "line_width",
    "needs_shaping",
    "wrap_text",
]

#: Extra space between lines by default, as a fraction of the font size.
LINE_SPACING = 0.15

#: (left, top, right, bottom), right and bottom exclusive.
Rect = tuple[int, int, int, int]
#: Pixels of padding: top, right, bottom, left (as CSS orders them).
Padding = tuple[int, int, int, int]

_INV255 = np.float32(1 / 255)


@dataclass(frozen=True)
class TextSpec:
    """How a subtitle's lines are drawn; everything the glyph coverage depends on."""

    lines: tuple[str, ...]
    font: FreeTypeFont
    outline: int  # stroke radius in pixels
    bold: float = 0.0  # synthetic bold: stroke radius of the fill itself
    spacing: float = 0.0  # extra pixels between characters
    align: str = "center"
    #: pixels between the tops of consecutive lines; None = the face's own height + 15 %
    pitch: int | None = None
    glyphs: bool = False  # draw glyph by glyph (see the module docstring)
    #: the faces drawing what ``font`` lacks (workers.subtitle_fallback); None = ``font`` only
    fallback: Fallback | None = None


@dataclass(frozen=True)
class TextLayout:
    """Where a spec's lines sit in the scratch canvas, and the box around them."""

    spec: TextSpec
    canvas: tuple[int, int]  # scratch canvas width, height
    centre: int  # x of the lines' centre
    top: int  # y of the first line's ascender
    pitch: int
    width: float  # of the widest line, letter spacing included
    drawn: int  # lines drawn (the rest lie below what any canvas shows)
    #: the text box: cap height of the first line to the descender of the last, widened to the
    #: ink, plus padding; cut to the most a canvas shows and to the scratch canvas
    box: Rect
    clusters: int  # characters (with their combining marks) on the drawn lines


def _width(spec: TextSpec, line: str) -> float:
    """A line's width as the spec draws it."""
    if spec.glyphs:
        return pens(spec.font, line, spec.spacing, spec.fallback)[1] if line else 0.0
    return line_width(spec.font, line, 0.0, spec.fallback)


def lay_out(
    spec: TextSpec, padding: Padding, max_width: int, max_height: int, reach: int = 0
) -> tuple[TextLayout, PILImage.Image | None, PILImage.Image]:
    """Lay the lines out and draw them; return the layout and the stroke and fill coverage.

    At most ``max_width`` x ``max_height`` of the box is kept from its top-left corner (the most
    a canvas can show), so a huge font or a very long text costs memory for the visible part
    only. ``reach`` is how far (pixels) the caller may later move glyphs up or down.
    """
    fnt, outline = spec.font, spec.outline
    ascent, descent = fnt.getmetrics()
    size = int(fnt.size)
    if spec.pitch is None:
        pitch = ascent + descent + 2 * outline + round(LINE_SPACING * size)
    else:
        pitch = max(spec.pitch, 1)
    widest = max(_width(spec, line) for line in spec.lines)
    pad = max(padding)
    bold = math.ceil(spec.bold)
    # Generous margin so glyph overhangs are drawn in full and only then cut.
    margin = pad + outline + bold + reach + size // 2 + 2
    # Lines starting further down than the canvas is tall (plus a font size of overhang either
    # way) cannot reach the kept rows; the box below still spans every line.
    drawn = min(len(spec.lines), (max_height + 2 * size + pad + outline) // pitch + 2)
    canvas_w = math.ceil(widest) + 2 * margin
    canvas_h = drawn * pitch + 2 * margin
    centre = canvas_w // 2
    top_y = margin + outline
    count = sum(len(clusters_of(line)) for line in spec.lines[:drawn])
    layout = TextLayout(
        spec, (canvas_w, canvas_h), centre, top_y, pitch, widest, drawn, (0, 0, 0, 0), count
    )
    stroke_im, fill_im = _draw(layout)

    # The box spans cap height to descender whatever the letters, so it does not jump in size
    # between subtitles; it grows only to take in ink that reaches further (accents).
    cap_top = int(fnt.getbbox("H", anchor="la")[1])
    left = centre - math.ceil(widest / 2) - outline
    right = centre + math.ceil(widest / 2) + outline
    top = margin + cap_top
    bottom = margin + 2 * outline + (len(spec.lines) - 1) * pitch + ascent + descent
    ink = (stroke_im or fill_im).getbbox()
    if ink is not None:
        left, top = min(left, ink[0]), min(top, ink[1])
        right, bottom = max(right, ink[2]), max(bottom, ink[3])
    # Lines left undrawn still widen the box where their ink reaches past it, as when drawn.
    for line in spec.lines[drawn:]:
        if not line:
            continue
        if spec.glyphs:
            # Past the line's advance by at most the stroke and the glyphs' overhang.
            edge = _line_left(layout, line)
            reach_x = outline + bold + size // 2
            left = min(left, math.floor(edge) - reach_x)
            right = max(right, math.ceil(edge + _width(spec, line)) + reach_x)
            continue
        if spec.align == "center" and drawn_whole(fnt, line_runs(fnt, line, spec.fallback)):
            glyphs = fnt.getbbox(line, anchor="ma", stroke_width=outline)
            if centre + glyphs[0] >= left and centre + glyphs[2] <= right:
                continue  # the ink lies inside the glyph boxes, which lie inside the box
        scratch = PILImage.new("L", (canvas_w, pitch + 2 * margin), 0)
        _draw_line(ImageDraw.Draw(scratch), layout, line, top_y, outline + spec.bold)
        reach_box = scratch.getbbox()
        if reach_box is not None:
            left, right = min(left, reach_box[0]), max(right, reach_box[2])
    pad_top, pad_right, pad_bottom, pad_left = padding
    x0, y0 = max(left - pad_left, 0), max(top - pad_top, 0)
    # Cut like slicing would: to the most a canvas shows, and to the scratch canvas.
    x1 = min(right + pad_right, x0 + max_width, canvas_w)
    y1 = min(bottom + pad_bottom, y0 + max_height, canvas_h)
    layout = TextLayout(
        spec, (canvas_w, canvas_h), centre, top_y, pitch, widest, drawn, (x0, y0, x1, y1), count
    )
    return layout, stroke_im, fill_im


def draw_masks(
    layout: TextLayout,
    rect: Rect,
    reveal: int | None = None,
    lifts: Sequence[float] | None = None,
) -> tuple[Mask | None, Mask]:
    """Stroke and fill coverage of the text over ``rect`` of the scratch canvas; only the first
    ``reveal`` characters, each raised by its ``lifts`` pixels (glyph-by-glyph layouts only)."""
    if not layout.spec.glyphs:
        stroke_im, fill_im = _draw(layout)
        return cut_masks(stroke_im, fill_im, rect)
    stroke_im, fill_im = _paste(layout, rect, reveal, lifts)
    return cut_masks(stroke_im, fill_im, (0, 0, *fill_im.size))


def cut_masks(
    stroke_im: PILImage.Image | None, fill_im: PILImage.Image, rect: Rect
) -> tuple[Mask | None, Mask]:
    """Coverage images cut to ``rect`` (zero where it lies outside them), as float32 in [0, 1]."""
    stroke = _coverage(stroke_im, rect) if stroke_im is not None else None
    return stroke, _coverage(fill_im, rect)


def _draw(layout: TextLayout) -> tuple[PILImage.Image | None, PILImage.Image]:
    """Coverage of the whole scratch canvas: lines drawn whole, or glyphs pasted."""
    spec = layout.spec
    if spec.glyphs:
        return _paste(layout, (0, 0, *layout.canvas), None, None)
    fill_im = PILImage.new("L", layout.canvas, 0)
    stroke_im = PILImage.new("L", layout.canvas, 0) if spec.outline else None
    fill_draw = ImageDraw.Draw(fill_im)
    stroke_draw = ImageDraw.Draw(stroke_im) if stroke_im is not None else None
    for i, line in enumerate(spec.lines[: layout.drawn]):
        if line:
            y = layout.top + i * layout.pitch
            _draw_line(fill_draw, layout, line, y, spec.bold)
            if stroke_draw is not None:
                _draw_line(stroke_draw, layout, line, y, spec.outline + spec.bold)
    return stroke_im, fill_im


def _draw_line(
    draw: ImageDraw.ImageDraw, layout: TextLayout, line: str, y: int, stroke: float
) -> None:
    """One line drawn whole, aligned in the box; run by run, each in its face, when faces
    fall back (their baselines on the line's own face's baseline)."""
    spec = layout.spec
    found = line_runs(spec.font, line, spec.fallback)
    half = layout.width / 2
    if drawn_whole(spec.font, found):
        anchor, x = {
            "left": ("la", layout.centre - half),
            "right": ("ra", layout.centre + half),
        }.get(spec.align, ("ma", float(layout.centre)))
        draw.text((x, y), line, fill=255, font=spec.font, anchor=anchor, stroke_width=stroke)
        return
    widths = [run.width() for run in found]
    x = _aligned(layout, sum(widths))
    ascent = spec.font.getmetrics()[0]
    for run, width in zip(found, widths, strict=True):
        fnt = run.face.font
        draw.text(
            (x, y + ascent - fnt.getmetrics()[0]),
            run.text,
            fill=255,
            font=fnt,
            anchor="la",
            stroke_width=stroke - spec.bold + run.face.bold,
            direction=run.direction(),
        )
        x += width


def _line_left(layout: TextLayout, line: str) -> float:
    """x of a glyph-by-glyph line's pen start, aligned in the box."""
    return _aligned(layout, _width(layout.spec, line))


def _aligned(layout: TextLayout, width: float) -> float:
    """x where a line ``width`` pixels wide starts, aligned in the box."""
    half = layout.width / 2
    if layout.spec.align == "left":
        return layout.centre - half
    # As Pillow places a line drawn whole: anchors "ra" and "ma" move it by its width, or half
    # of it, rounded to a whole pixel, so that glyph-by-glyph text lands on the same pixels.
    if layout.spec.align == "right":
        return layout.centre + half - math.floor(width + 0.5)
    return layout.centre - math.floor(width / 2 + 0.5)


@dataclass(frozen=True)
class _Sprite:
    """One character's coverage, drawn once, and where it goes in the scratch canvas."""

    index: int  # among the drawn characters, in reading order
    x: int
    y: int
    fill: PILImage.Image
    stroke: PILImage.Image | None


def _paste(
    layout: TextLayout, rect: Rect, reveal: int | None, lifts: Sequence[float] | None
) -> tuple[PILImage.Image | None, PILImage.Image]:
    """Coverage over ``rect`` of the characters, each pasted from its sprite (moving a glyph
    costs a paste, not a new rasterisation). Lifts are rounded to whole pixels."""
    x0, y0, x1, y1 = rect
    # Negative letter spacing can fold the characters onto less than one pixel's width.
    size = (max(x1 - x0, 1), max(y1 - y0, 1))
    fill_im = PILImage.new("L", size, 0)
    stroke_im = PILImage.new("L", size, 0) if layout.spec.outline else None
    key = (layout.spec, layout.centre, layout.top, layout.pitch, layout.width, layout.drawn)
    for sprite in _sprites(*key):
        if reveal is not None and sprite.index >= reveal:
            continue
        lift = round(lifts[sprite.index]) if lifts is not None else 0
        x, y = sprite.x - x0, sprite.y - lift - y0
        fill_im.paste(255, (x, y, x + sprite.fill.width, y + sprite.fill.height), sprite.fill)
        if stroke_im is not None and sprite.stroke is not None:
            box = (x, y, x + sprite.stroke.width, y + sprite.stroke.height)
            stroke_im.paste(255, box, sprite.stroke)
    return stroke_im, fill_im


@lru_cache(maxsize=16)
def _sprites(
    spec: TextSpec, centre: int, top: int, pitch: int, width: float, drawn: int
) -> tuple[_Sprite, ...]:
    """Every character of the drawn lines rendered alone at its pen position (fractional part
    included, so it renders exactly as in place) on a small canvas of its own."""
    stub = TextLayout(spec, (0, 0), centre, top, pitch, width, drawn, (0, 0, 0, 0), 0)
    ascent = spec.font.getmetrics()[0]
    primary = primary_face(spec.font, spec.fallback)
    sprites: list[_Sprite] = []
    index = 0
    for i, line in enumerate(spec.lines[:drawn]):
        left, y = _line_left(stub, line), top + i * pitch
        clusters = clusters_of(line)
        # At their places in the shaped line (kerning kept), not after the width of the text
        # before them: "AV" drawn one by one matches "AV" drawn whole.
        starts = pens(spec.font, line, spec.spacing, spec.fallback)[0]
        faces = faces_of(spec.fallback, primary, clusters)
        for cluster, pen, face in zip(clusters, starts, faces, strict=True):
            if not cluster.isspace():
                fnt, bold = face.font, (spec.bold if face is primary else face.bold)
                at = y + ascent - fnt.getmetrics()[0]  # on the line's baseline
                reach = 2 + math.ceil(spec.outline + bold)  # room for the widest stroke drawn
                x, sy, fill = _glyph(fnt, cluster, left + pen, at, bold, reach)
                stroke = None
                if spec.outline:
                    stroke = _glyph(fnt, cluster, left + pen, at, spec.outline + bold, reach)[2]
                sprites.append(_Sprite(index, x, sy, fill, stroke))
            index += 1
    return tuple(sprites)


def _glyph(
    fnt: FreeTypeFont, cluster: str, pen: float, y: int, stroke: float, reach: int
) -> tuple[int, int, PILImage.Image]:
    """A character drawn at (pen, y) with a stroke on a canvas ``reach`` pixels larger than its
    glyph box on every side; returned with that canvas's place in the scratch canvas."""
    left, top, right, bottom = fnt.getbbox(cluster, anchor="la")
    ox, oy = reach - math.floor(left), reach - math.floor(top)
    size = (
        math.ceil(right) - math.floor(left) + 2 * reach + 1,  # + 1: the pen's fraction
        math.ceil(bottom) - math.floor(top) + 2 * reach,
    )
    im = PILImage.new("L", size, 0)
    whole = math.floor(pen)
    ImageDraw.Draw(im).text(
        (ox + pen - whole, oy), cluster, fill=255, font=fnt, anchor="la", stroke_width=stroke
    )
    return whole - ox, y - oy, im


def _coverage(im: PILImage.Image, rect: Rect) -> Mask:
    """Part of an 8-bit mask as float32 in [0, 1] (converted after cutting, to stay small)."""
    x0, y0, x1, y1 = rect
    width, height = im.size
    pixels: npt.NDArray[np.uint8] = np.asarray(im)
    if x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height:
        return np.multiply(pixels[y0:y1, x0:x1], _INV255, dtype=np.float32)
    out = np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), np.float32)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
    if sx0 < sx1 and sy0 < sy1:
        out[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = np.multiply(
            pixels[sy0:sy1, sx0:sx1], _INV255, dtype=np.float32
        )
    return out
