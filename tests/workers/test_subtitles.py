from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import ImageFont

from chunking.timeline.model import Subtitle
from common.errors import RenderError, TimelineError
from workers import subtitle_fonts, subtitles
from workers.layer import Image, Layer, blank, blend
from workers.subtitles import font, subtitle_layer, wrap_text

W, H = 320, 180
#: Accented Latin, Cyrillic and Greek: none of it is in Pillow's built-in (ASCII-only) font.
INTERNATIONAL = "Ça déjà vu — Привет Ωμέγα"
#: Rare CJK ideographs Roboto lacks: they draw its "missing glyph" box.
MISSING = ("\u9fa5", "\U0002a6d6")


def _sub(text: str = "Hello", **kwargs: object) -> Subtitle:
    return Subtitle("s1", text, 0, 10, **kwargs)  # type: ignore[arg-type]


def _on_black(layer: Layer) -> Image:
    canvas = blank(W, H)
    blend(canvas, layer)
    return canvas


def _changed_rows(canvas: Image) -> np.ndarray:
    return np.flatnonzero(canvas.any(axis=(1, 2)))


def _inside(layer: Layer) -> bool:
    lh, lw = layer.rgb.shape[:2]
    return layer.x >= 0 and layer.y >= 0 and layer.x + lw <= W and layer.y + lh <= H


def _glyph(char: str) -> np.ndarray:
    """The ink of ``char`` drawn alone as a subtitle, cropped to its bounding box."""
    layer = subtitle_layer(_sub(char, font_size=40, outline=0), W, H)
    assert layer.alpha is not None
    ink = layer.alpha > 0.5
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not rows.size:
        return ink[:0, :0]
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


@pytest.fixture
def fresh_font_caches() -> Iterator[None]:
    """Forget loaded fonts and renders before and after, so patched lookups take effect."""

    def clear() -> None:
        subtitle_fonts.clear_caches()
        subtitles._render.cache_clear()
        subtitles._redrawn.cache_clear()

    clear()
    yield
    clear()


def test_font_is_embedded_freetype_at_size() -> None:
    f = font(37)
    assert isinstance(f, ImageFont.FreeTypeFont) and f.size == 37
    assert font(37) is f


def test_default_font_is_roboto_regular() -> None:
    assert font(40).getname() == ("Roboto", "Regular")


def test_missing_glyphs_are_detectable() -> None:
    # Characters the font lacks all draw the same non-empty box, so comparing with it can fail.
    box = _glyph(MISSING[0])
    assert box.sum() > 50
    assert np.array_equal(_glyph(MISSING[1]), box)


def test_accented_cyrillic_and_greek_letters_draw_real_glyphs() -> None:
    box = _glyph(MISSING[0])
    chars = sorted(set(INTERNATIONAL) - {" "})
    glyphs = {char: _glyph(char) for char in chars}
    for char, ink in glyphs.items():
        assert ink.sum() > 20, f"{char!r} drew no ink"
        assert not np.array_equal(ink, box), f"{char!r} drew the missing-glyph box"
    for i, a in enumerate(chars):
        for b in chars[i + 1 :]:
            assert not np.array_equal(glyphs[a], glyphs[b]), f"{a!r} and {b!r} look the same"
    # The whole line draws too, in one piece.
    layer = subtitle_layer(_sub(INTERNATIONAL, font_size=24), W, H)
    assert layer.alpha is not None and (layer.alpha > 0.5).sum() > 300
    assert _inside(layer)


def test_without_font_roboto_falls_back_to_pillows_font_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fresh_font_caches: None
) -> None:
    monkeypatch.setattr(subtitle_fonts, "FONT_PACKAGE", "no_such_font_package")
    with caplog.at_level(logging.WARNING, logger="workers.subtitle_fonts"):
        fallback = font(40)
    pillows = ImageFont.load_default(size=40)
    assert isinstance(pillows, ImageFont.FreeTypeFont)
    assert fallback.getname() == pillows.getname()
    assert fallback.getname() != ("Roboto", "Regular")
    assert "font-roboto" in caplog.text
    # Pillow's font lacks these letters: the glyph test above would fail with it.
    assert np.array_equal(_glyph("П"), _glyph(MISSING[0]))
    assert np.array_equal(_glyph("é"), _glyph(MISSING[0]))


def test_font_package_without_its_font_file_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, fresh_font_caches: None
) -> None:
    monkeypatch.setattr(subtitle_fonts, "FONT_FILE", "No-Such-Font.ttf")
    with pytest.raises(RenderError, match="reinstall font-roboto"):
        font(40)


def test_bottom_text_only_changes_the_lower_part() -> None:
    layer = subtitle_layer(_sub("Bottom line", font_size=24), W, H)
    rows = _changed_rows(_on_black(layer))
    assert rows.size and rows.min() >= H // 2 and rows.max() < H - 9  # 5 % margin of 180 px
    assert layer.y + layer.rgb.shape[0] == H - 9
    assert _inside(layer)


def test_top_text_only_changes_the_upper_part() -> None:
    layer = subtitle_layer(_sub("Top line", font_size=24, position="top"), W, H)
    rows = _changed_rows(_on_black(layer))
    assert rows.size and rows.min() >= 9 and rows.max() < H // 2
    assert layer.y == 9


def test_text_is_centred_horizontally_and_by_position() -> None:
    layer = subtitle_layer(_sub("Mid", font_size=30, position="center"), W, H)
    lh, lw = layer.rgb.shape[:2]
    assert abs(layer.x + lw / 2 - W / 2) <= 1 and abs(layer.y + lh / 2 - H / 2) <= 1
    placed = subtitle_layer(_sub("Mid", font_size=30, position=(0.25, 0.75)), W, H)
    assert abs(placed.x + lw / 2 - 80) <= 1 and abs(placed.y + lh / 2 - 135) <= 1


@pytest.mark.parametrize("color", [(255, 255, 255, 255), (255, 0, 0, 255)])
def test_interior_pixels_have_the_requested_colour(color: tuple[int, int, int, int]) -> None:
    for outline in (0, 2):
        layer = subtitle_layer(_sub("HIM", font_size=60, color=color, outline=outline), W, H)
        assert layer.alpha is not None
        canvas = _on_black(layer)
        want = np.asarray(color[:3], np.float32) / 255
        # fully covered pixels furthest from black are the glyphs' interiors
        solid = canvas[
            layer.y : layer.y + layer.rgb.shape[0], layer.x : layer.x + layer.rgb.shape[1]
        ]
        solid = solid[layer.alpha >= 0.999]
        interior = solid[np.abs(solid - want).sum(axis=1) < 0.02]
        assert len(interior) > 200
        if outline:
            assert (solid.sum(axis=1) < 0.02).sum() > 50  # black outline present


def test_translucent_colour_keeps_its_alpha() -> None:
    layer = subtitle_layer(_sub("HIM", font_size=60, color=(0, 255, 0, 128), outline=0), W, H)
    assert layer.alpha is not None
    assert abs(float(layer.alpha.max()) - 128 / 255) < 1e-6
    drawn = layer.rgb[layer.alpha > 0.25]
    np.testing.assert_allclose(drawn, np.broadcast_to([0, 1, 0], drawn.shape), atol=1e-6)


def test_background_box_fills_its_rectangle() -> None:
    background = (0, 0, 255, 255)
    layer = subtitle_layer(_sub("Boxed", font_size=40, background=background), W, H)
    canvas = _on_black(layer)
    lh, lw = layer.rgb.shape[:2]
    box = canvas[layer.y : layer.y + lh, layer.x : layer.x + lw]
    pad = 40 // 4
    blue = np.asarray([0, 0, 1], np.float32)
    for edge in (box[:pad], box[-pad:], box[:, :pad], box[:, -pad:]):
        np.testing.assert_allclose(edge, np.broadcast_to(blue, edge.shape), atol=1e-6)
    assert layer.alpha is not None and np.all(layer.alpha == 1)
    # outside the box nothing changes
    outside = canvas.copy()
    outside[layer.y : layer.y + lh, layer.x : layer.x + lw] = 0
    assert not outside.any()


def test_long_text_wraps_and_stays_on_canvas() -> None:
    text = "This subtitle is much too long to fit on a single line of a small canvas"
    sub = _sub(text, font_size=24)
    lines = wrap_text(text, font(24), 0.9 * W, sub.outline)
    assert len(lines) >= 3 and " ".join(lines) == text
    assert all(font(24).getlength(line) + 2 * sub.outline <= 0.9 * W for line in lines)
    layer = subtitle_layer(sub, W, H)
    assert layer.rgb.shape[0] > 3 * 24 and layer.rgb.shape[1] <= W
    assert _inside(layer)


def test_explicit_newlines_and_overlong_words() -> None:
    assert wrap_text("one\ntwo", font(24), 0.9 * W, 0) == ["one", "two"]
    broken = wrap_text("x" * 200, font(24), 0.9 * W, 0)
    assert len(broken) > 1 and "".join(broken) == "x" * 200


@pytest.mark.parametrize(
    "position", ["top", "bottom", "center", (0.0, 0.0), (1.0, 1.0), (2.0, -1.0)]
)
def test_position_is_clamped_inside(position: str | tuple[float, float]) -> None:
    layer = subtitle_layer(_sub("Edge case text", font_size=30, position=position), W, H)
    assert _inside(layer)


def test_huge_text_is_cropped_to_the_canvas() -> None:
    layer = subtitle_layer(_sub("word " * 40, font_size=60), W, H)
    assert _inside(layer)


def test_rendering_twice_is_identical_and_cache_is_read_only() -> None:
    sub = _sub("Same text", font_size=30, background=(10, 20, 30, 200))
    first = subtitle_layer(sub, W, H)
    second = subtitle_layer(sub, W, H)
    assert first is not second
    np.testing.assert_array_equal(first.rgb, second.rgb)
    assert first.alpha is not None and second.alpha is not None
    np.testing.assert_array_equal(first.alpha, second.alpha)
    assert first.rgb.dtype == np.float32 and first.alpha.dtype == np.float32
    with pytest.raises(ValueError):
        first.rgb[0, 0, 0] = 1
    changed = subtitle_layer(_sub("Same text", font_size=30, color=(255, 0, 0, 255)), W, H)
    assert not np.array_equal(changed.rgb, first.rgb)


def test_empty_text_draws_nothing() -> None:
    layer = subtitle_layer(_sub("  \n "), W, H)
    assert not _on_black(layer).any()


def test_bad_values_are_timeline_errors() -> None:
    with pytest.raises(TimelineError, match="s1"):
        subtitle_layer(_sub("x", position="middle"), W, H)
    with pytest.raises(TimelineError, match="font_size"):
        subtitle_layer(_sub("x", font_size=0), W, H)
