"""Burned-in subtitles: text drawn with FreeType in Roboto Regular into a small layer.

The font file comes from the ``font-roboto`` package (a project dependency, Apache 2.0), so every
render node draws with the same typeface, which covers Latin with accents, Cyrillic and Greek.
Pillow's own embedded font (Aileron) has only ASCII glyphs and is used, with a logged warning,
only when that package is not installed. A subtitle becomes a Layer covering just its box,
placed on the canvas; the same subtitle is drawn on many consecutive frames, so renders are
cached and handed out as read-only arrays.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib import resources
from io import BytesIO
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from chunking.timeline.model import Subtitle
from common.errors import RenderError, TimelineError
from workers.layer import Image, Layer, Mask

#: Lines wrap at this fraction of the canvas width.
WRAP_FRACTION = 0.9
#: Distance of a top/bottom subtitle's box from the canvas edge, as a fraction of its height.
EDGE_MARGIN = 0.05
#: Extra space between lines, as a fraction of the font size.
LINE_SPACING = 0.15

#: The package shipping the subtitle font, and the font file inside it.
FONT_PACKAGE = "font_roboto"
FONT_FILE = "Roboto-Regular.ttf"

_INV255 = np.float32(1 / 255)
_Array = TypeVar("_Array", bound="np.ndarray[Any, Any]")

log = logging.getLogger(__name__)


@lru_cache(maxsize=32)
def font(size: int) -> ImageFont.FreeTypeFont:
    """Roboto Regular at ``size`` pixels, cached per size (Pillow's font if Roboto is missing)."""
    data = _font_data()
    if data is None:
        return _default_font(size)
    try:
        return ImageFont.truetype(BytesIO(data), size)
    except ImportError as exc:  # Pillow's FreeType module is missing
        raise _no_freetype(size) from exc
    except OSError as exc:
        raise RenderError(
            f"cannot load subtitle font {FONT_FILE} from the {FONT_PACKAGE} package at {size} px "
            f"({exc}); reinstall font-roboto"
        ) from exc


@lru_cache(maxsize=1)
def _font_data() -> bytes | None:
    """The font file's bytes, read once (zipped installs too); None without the package."""
    try:
        source = resources.files(FONT_PACKAGE) / "files" / FONT_FILE
    except ModuleNotFoundError as exc:
        if exc.name != FONT_PACKAGE:
            raise
        log.warning(
            "the font-roboto package is not installed: subtitles fall back to Pillow's built-in "
            "font, which draws only ASCII (other characters become boxes) and looks different "
            "from nodes that have Roboto; install font-roboto"
        )
        return None
    try:
        return source.read_bytes()
    except OSError as exc:
        raise RenderError(
            f"the {FONT_PACKAGE} package has no readable files/{FONT_FILE} ({exc}); "
            "reinstall font-roboto"
        ) from exc


def _default_font(size: int) -> ImageFont.FreeTypeFont:
    loaded = ImageFont.load_default(size=size)
    # Without FreeType, Pillow silently falls back to a fixed-size bitmap font.
    if not isinstance(loaded, ImageFont.FreeTypeFont) or loaded.size != size:
        raise _no_freetype(size)
    return loaded


def _no_freetype(size: int) -> RenderError:
    return RenderError(
        "Pillow was built without FreeType support, so subtitles cannot be drawn at "
        f"{size} px; install a Pillow wheel with FreeType"
    )


def wrap_text(text: str, fnt: ImageFont.FreeTypeFont, max_width: float, outline: int) -> list[str]:
    """Split text at newlines and wrap each paragraph greedily so lines fit ``max_width`` px."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words = paragraph.split()
        if not words:
            lines.append("")
            continue
        line = ""
        for word in words:
            candidate = f"{line} {word}" if line else word
            if _width(fnt, candidate, outline) <= max_width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            # A word wider than the canvas is broken between characters rather than overflowing.
            for char in word:
                if line and _width(fnt, line + char, outline) > max_width:
                    lines.append(line)
                    line = ""
                line += char
        lines.append(line)
    return lines


def subtitle_layer(sub: Subtitle, width: int, height: int) -> Layer:
    """The subtitle drawn as a small layer placed on a ``width`` x ``height`` canvas."""
    rgb, alpha, x, y = _render(sub, width, height)
    # A fresh Layer each call, so a caller changing opacity or offsets cannot touch the cache.
    return Layer(rgb, alpha, x, y)


def _width(fnt: ImageFont.FreeTypeFont, line: str, outline: int) -> float:
    return fnt.getlength(line) + 2 * outline


@lru_cache(maxsize=16)
def _render(sub: Subtitle, width: int, height: int) -> tuple[Image, Mask, int, int]:
    if sub.font_size < 1:
        raise TimelineError(f"subtitle {sub.id}: font_size must be at least 1, got {sub.font_size}")
    outline = max(int(sub.outline), 0)
    fnt = font(int(sub.font_size))
    lines = wrap_text(sub.text, fnt, WRAP_FRACTION * width, outline)
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    if not lines:
        # Nothing to draw: a single transparent pixel keeps every consumer's shapes valid.
        empty_rgb = _readonly(np.zeros((1, 1, 3), np.float32))
        return empty_rgb, _readonly(np.zeros((1, 1), np.float32)), 0, 0

    # Only what fits on the canvas is drawn and composed: a huge font or a very long text costs
    # memory for the visible part, not for the whole block of lines.
    stroke, fill = _draw_masks(lines, fnt, outline, sub.background is not None, width, height)
    rgb, alpha = _compose(stroke, fill, sub.color, sub.background)
    lh, lw = alpha.shape
    x, y = _place(sub, width, height, lw, lh)
    return _readonly(np.ascontiguousarray(rgb)), _readonly(np.ascontiguousarray(alpha)), x, y


def _draw_masks(
    lines: list[str],
    fnt: ImageFont.FreeTypeFont,
    outline: int,
    boxed: bool,
    max_width: int,
    max_height: int,
) -> tuple[Mask | None, Mask]:
    """Coverage of text+outline and of the text alone over the layer's box, cut to at most
    max_width x max_height from its top-left corner (the most a canvas can show)."""
    ascent, descent = fnt.getmetrics()
    size = int(fnt.size)
    pitch = ascent + descent + 2 * outline + round(LINE_SPACING * size)
    max_advance = max(fnt.getlength(line) for line in lines)
    pad = max(size // 4, 1) if boxed else 0
    # Generous margin so glyph overhangs are drawn in full and only then cropped.
    margin = pad + outline + size // 2 + 2
    # Lines starting further down than the canvas is tall (plus a font size of overhang either
    # way) cannot reach the kept rows; the box below still spans every line.
    drawn = min(len(lines), (max_height + 2 * size + pad + outline) // pitch + 2)
    canvas_w = int(np.ceil(max_advance)) + 2 * margin
    canvas_h = drawn * pitch + 2 * margin
    centre = canvas_w // 2

    fill_im = PILImage.new("L", (canvas_w, canvas_h), 0)
    stroke_im = PILImage.new("L", (canvas_w, canvas_h), 0) if outline else None
    fill_draw = ImageDraw.Draw(fill_im)
    stroke_draw = ImageDraw.Draw(stroke_im) if stroke_im is not None else None
    for i, line in enumerate(lines[:drawn]):
        if not line:
            continue
        pos = (centre, margin + outline + i * pitch)
        fill_draw.text(pos, line, fill=255, font=fnt, anchor="ma")
        if stroke_draw is not None:
            stroke_draw.text(pos, line, fill=255, font=fnt, anchor="ma", stroke_width=outline)

    # The box spans cap height to descender whatever the letters, so it does not jump in size
    # between subtitles; it grows only to take in ink that reaches further (accents).
    cap_top = int(fnt.getbbox("H", anchor="la")[1])
    left = centre - int(np.ceil(max_advance / 2)) - outline
    right = centre + int(np.ceil(max_advance / 2)) + outline
    top = margin + cap_top
    bottom = margin + 2 * outline + (len(lines) - 1) * pitch + ascent + descent
    ink = (stroke_im or fill_im).getbbox()
    if ink is not None:
        left, top = min(left, ink[0]), min(top, ink[1])
        right, bottom = max(right, ink[2]), max(bottom, ink[3])
    # Lines left undrawn still widen the box where their ink reaches past it, as when drawn.
    for line in lines[drawn:]:
        glyphs = fnt.getbbox(line, anchor="ma", stroke_width=outline) if line else None
        if glyphs is None or (centre + glyphs[0] >= left and centre + glyphs[2] <= right):
            continue  # the ink lies inside the glyph boxes, which lie inside the box
        scratch = PILImage.new("L", (canvas_w, pitch + 2 * margin), 0)
        ImageDraw.Draw(scratch).text(
            (centre, margin + outline), line, fill=255, font=fnt, anchor="ma", stroke_width=outline
        )
        reach = scratch.getbbox()
        if reach is not None:
            left, right = min(left, reach[0]), max(right, reach[2])
    x0, y0 = max(left - pad, 0), max(top - pad, 0)
    rows = slice(y0, min(bottom + pad, y0 + max_height))
    cols = slice(x0, min(right + pad, x0 + max_width))
    fill = _coverage(fill_im, rows, cols)
    stroke = _coverage(stroke_im, rows, cols) if stroke_im is not None else None
    return stroke, fill


def _coverage(im: PILImage.Image, rows: slice, cols: slice) -> Mask:
    """Part of an 8-bit mask as float32 in [0, 1] (converted after cutting, to stay small)."""
    part: npt.NDArray[np.uint8] = np.asarray(im)[rows, cols]
    return np.multiply(part, _INV255, dtype=np.float32)


def _compose(
    stroke: Mask | None,
    fill: Mask,
    color: tuple[int, int, int, int],
    background: tuple[int, int, int, int] | None,
) -> tuple[Image, Mask]:
    """Straight-alpha colour of text over black outline over the background box."""
    c = np.clip(np.asarray(color, dtype=np.float32), 0, 255) * _INV255
    # Text over a black outline, in premultiplied terms: the outline adds coverage, no colour.
    text_alpha = fill if stroke is None else fill + stroke * (1 - fill)
    text_alpha = text_alpha * c[3]
    premul = fill[..., None] * (c[:3] * c[3])
    alpha = text_alpha
    if background is not None:
        bg = np.clip(np.asarray(background, dtype=np.float32), 0, 255) * _INV255
        under = (1 - text_alpha) * bg[3]
        premul = premul + under[..., None] * bg[:3]
        alpha = text_alpha + under
    inv = np.divide(np.float32(1), alpha, out=np.zeros_like(alpha), where=alpha > 0)
    rgb = premul * inv[..., None]
    return rgb.astype(np.float32, copy=False), alpha.astype(np.float32, copy=False)


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
        elif position == "center":
            y = round(height / 2 - lh / 2)
        else:
            raise TimelineError(
                f"subtitle {sub.id}: position must be bottom, top, center or (x, y), "
                f"got {position!r}"
            )
    else:
        fx, fy = position
        cx = fx * width
        y = round(fy * height - lh / 2)
    x = round(cx - lw / 2)
    return min(max(x, 0), width - lw), min(max(y, 0), height - lh)


def _readonly(array: _Array) -> _Array:
    # Cached arrays are shared by every frame that shows the subtitle; writing would corrupt them.
    array.setflags(write=False)
    return array
