"""Font fallback: characters the subtitle's face lacks drawn by an installed face that has
them (in a fixed order), right-to-left runs in visual order, and warnings for what no face has
or a family that is not installed."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from chunking.timeline.model import Subtitle, Timeline
from workers import fingerprint, subtitle_fallback, subtitle_fonts
from workers.font_cmap import coverage
from workers.subtitle_check import text_warnings
from workers.subtitle_fallback import Face, fallback, runs, uncovered
from workers.subtitles import font, subtitle_layer

W, H = 320, 180
#: A code point no font has (unassigned in the Greek block).
NOWHERE = "\u0378"
DEJAVU = "dejavusans"

needs_dejavu = pytest.mark.skipif(
    DEJAVU not in subtitle_fonts._index(), reason="DejaVu Sans is not installed"
)


def _ink(text: str, family: str = "") -> np.ndarray:
    """The ink of a subtitle drawn alone, cropped to its bounding box."""
    layer = subtitle_layer(
        Subtitle("s", text, 0, 10, font_size=40, outline=0, font_family=family), W, H
    )
    assert layer.alpha is not None
    ink = layer.alpha > 0.5
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _timeline(*subs: Subtitle) -> Timeline:
    return Timeline(fps=Fraction(30), width=W, height=H, frames=10, subtitles=subs)


def test_the_default_face_lacks_these_characters() -> None:
    # What the red team saw: Roboto draws its .notdef box for each.
    roboto = coverage(subtitle_fonts.font_bytes(("package", subtitle_fonts.FONT_FILE)))
    assert "A" in {chr(c) for c in roboto}
    assert not {ord(c) for c in "♪→✓★שא"} & roboto


@needs_dejavu
@pytest.mark.parametrize("char", ["♪", "→", "✓", "★", "ש", "ب"])
def test_a_character_the_face_lacks_is_drawn_by_an_installed_face(char: str) -> None:
    box = _ink(NOWHERE)
    drawn = _ink(char)
    assert not np.array_equal(drawn, box), f"{char!r} drew the missing-glyph box"
    # The same glyph DejaVu Sans draws as the subtitle's own face (to a pixel's difference:
    # the pen's fraction differs between the two lines).
    own = _ink(char, "DejaVu Sans")
    assert abs(drawn.shape[0] - own.shape[0]) <= 1 and abs(drawn.shape[1] - own.shape[1]) <= 1
    assert abs(int(drawn.sum()) - int(own.sum())) <= 0.1 * own.sum()


@needs_dejavu
def test_fallback_is_the_same_fixed_choice_every_time() -> None:
    chain = fallback("Arial", 400, 30)
    assert chain.face_of("♪").font.getname()[0] == "DejaVu Sans"
    assert chain.face_of("a") is chain.primary
    order = subtitle_fallback.candidates(400)
    assert order[0][0] == ("package", subtitle_fonts.FONT_FILE)  # roboto, then DejaVu Sans
    assert order[1][0][1].endswith("DejaVuSans.ttf")
    subtitle_fonts.clear_caches()
    assert subtitle_fallback.candidates(400) == order


@needs_dejavu
def test_right_to_left_runs_come_in_visual_order() -> None:
    chain = fallback("", 400, 30)
    found = runs(chain, chain.primary, list("Hi שלום ok"))
    assert [(r.text, r.level) for r in found] == [("Hi ", 0), ("שלום", 1), (" ok", 0)]
    # Numbers after right-to-left text belong to it (as browsers show "Hi 12 שלום ok").
    numbered = runs(chain, chain.primary, list("Hi שלום 12 ok"))
    assert [r.text for r in numbered] == ["Hi ", "12", " ", "שלום", " ok"]
    assert found[1].face is not chain.primary
    # A right-to-left paragraph: its first word rightmost, numbers left to right inside it.
    arabic = list("مرحبا 123")
    found = runs(chain, chain.primary, arabic)
    assert [(r.text, r.level) for r in found] == [("123", 2), (" ", 1), ("مرحبا", 1)]


def test_runs_without_fallback_are_the_line() -> None:
    primary = Face(font(20), 0.0, None)
    assert [(r.text, r.level) for r in runs(None, primary, list("plain"))] == [("plain", 0)]


def test_characters_no_face_has_are_listed_with_their_places() -> None:
    assert uncovered("", 400, f"ab{NOWHERE}c\u200d\n{NOWHERE}") == [(2, NOWHERE), (6, NOWHERE)]
    (warning,) = text_warnings(_timeline(Subtitle("lyrics", f"la {NOWHERE}", 0, 10)))
    assert warning.startswith(
        "subtitle 'lyrics': no installed font has U+0378 unnamed at character 4: they draw as boxes"
    )


def test_a_family_that_is_not_installed_is_a_warning_naming_the_face_drawn() -> None:
    sub = Subtitle("t1", "Hello", 0, 10, font_family="No Such Family, Another Missing")
    assert text_warnings(_timeline(sub)) == [
        "subtitle 't1': font_family 'No Such Family, Another Missing' is not installed on this "
        "node; Roboto-Regular draws it instead (install the font on every render node)"
    ]
    ok = Subtitle("t2", "Hello", 0, 10, font_family="Arial")  # mapped to Roboto: no warning
    assert text_warnings(_timeline(ok)) == []


def test_font_collections_are_fallback_candidates_and_in_the_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    collection = tmp_path / "Some-CJK.ttc"
    collection.write_bytes(b"ttcf not really a font")
    monkeypatch.setattr(subtitle_fonts, "_collections", lambda: (str(collection),))
    subtitle_fallback.candidates.cache_clear()
    try:
        assert subtitle_fallback.candidates(400)[-1] == (("path", str(collection)), 400)
        assert ("path", str(collection)) in subtitle_fonts.font_files()
        first = fingerprint._fonts_hash()
        collection.write_bytes(b"ttcf another version")
        assert fingerprint._fonts_hash() != first
    finally:
        subtitle_fallback.candidates.cache_clear()
