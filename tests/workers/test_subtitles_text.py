"""Subtitle lines as they are wrapped and placed: breaks only at breaking spaces, kerning kept
when letters are drawn one by one, and negative letter spacing that never loses the text."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from chunking.timeline.model import Subtitle, TextAnimation
from workers.subtitle_lines import pens
from workers.subtitles import font, subtitle_layer, wrap_text

W, H = 640, 180


def _alpha(sub: Subtitle, frame: int | None = None) -> np.ndarray:
    """The subtitle's alpha placed on a W x H canvas."""
    layer = subtitle_layer(sub, W, H, frame, Fraction(30))
    assert layer.alpha is not None
    out = np.zeros((H, W), np.float32)
    h, w = layer.alpha.shape
    out[layer.y : layer.y + h, layer.x : layer.x + w] = layer.alpha * layer.opacity
    return out


@pytest.mark.parametrize("space", ["\u00a0", "\u202f", "\u2007", "\u2060"])
def test_no_break_spaces_keep_their_words_together(space: str) -> None:
    # "100 km" broke after "100" at a no-break space (str.split() splits there).
    text = f"Le train part dans 100{space}km exactement"
    lines = wrap_text(text, font(32), 0.5 * W, 0)
    assert len(lines) > 1
    assert any(f"100{space}km" in line for line in lines), lines


@pytest.mark.parametrize("space", [" ", "\t", "\u2003", "\u3000"])
def test_breaking_spaces_still_break(space: str) -> None:
    lines = wrap_text(f"Le train part dans 100{space}km exactement", font(32), 0.5 * W, 0)
    assert len(lines) > 1 and not any("100" in line and "km" in line for line in lines)


def test_letters_drawn_one_by_one_keep_their_kerning() -> None:
    # Each letter sat after the width of the text before it: "AV" lost its -4 px kern.
    fnt = font(100)
    starts, width = pens(fnt, "AVATAR")
    assert starts[1] == pytest.approx(fnt.getlength("AV") - fnt.getlength("V"))
    assert starts[1] < fnt.getlength("A") - 3
    assert width == pytest.approx(fnt.getlength("AVATAR"))
    spaced, _ = pens(fnt, "AVATAR", 5.0)
    assert spaced == pytest.approx([x + 5.0 * j for j, x in enumerate(starts)])


@pytest.mark.parametrize("align", ["center", "left", "right"])
@pytest.mark.parametrize("outline", [0, 2])
def test_a_finished_typewriter_is_the_still_text_pixel_for_pixel(align: str, outline: int) -> None:
    # Drawn glyph by glyph, the letters sit on the pixels the whole line puts them on (for text
    # of one script without ligatures: "fi" drawn whole is one glyph, typed it is two).
    look = {"font_size": 60, "outline": outline, "align": align}
    text = "AVATAR Tomorrow, Typewriter"
    still = _alpha(Subtitle("a", text, 0, 90, **look))  # type: ignore[arg-type]
    typed = Subtitle("b", text, 0, 90, animations=(TextAnimation("typewriter", 0, 30),), **look)  # type: ignore[arg-type]
    np.testing.assert_array_equal(_alpha(typed, 60), still)


@pytest.mark.parametrize("spacing", [-12, -15, -50, -100])
def test_negative_letter_spacing_piles_letters_up_but_keeps_them(spacing: float) -> None:
    # From -15 on, the layout's width went negative and nothing was drawn at all.
    sub = Subtitle("s", "abcdefghij", 0, 10, font_size=20, letter_spacing=spacing)
    ink = (_alpha(sub) > 0.5).sum()
    # Piled up, the letters' ink covers at least each letter's own, uncut.
    for letter in "bmj":
        assert ink >= (_alpha(Subtitle("s", letter, 0, 10, font_size=20)) > 0.5).sum(), letter
