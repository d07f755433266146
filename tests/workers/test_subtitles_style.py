"""How a styled subtitle looks: placement, alignment, fonts, opacity, stroke, shadow, box."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import pytest

from chunking.timeline.model import Subtitle
from common.errors import TimelineError
from workers import subtitle_fonts, subtitles
from workers.layer import Image, Layer, blank, blend
from workers.subtitles import subtitle_layer

W, H = 320, 180


def _sub(text: str = "Hello", **kwargs: object) -> Subtitle:
    return Subtitle("s1", text, 0, 10, **kwargs)  # type: ignore[arg-type]


def _on(layer: Layer, base: float = 0.0) -> Image:
    canvas = blank(W, H)
    canvas += np.float32(base)
    blend(canvas, layer)
    return canvas


def _ink(canvas: Image, base: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns where the canvas differs from its flat base."""
    changed = np.abs(canvas - np.float32(base)).max(axis=2) > 0.02
    return np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))


def _line_starts(canvas: Image) -> list[int]:
    """The first inked column of each text line (lines found as runs of inked rows)."""
    inked = canvas.max(axis=2) > 0.5
    rows = inked.any(axis=1)
    starts, i = [], 0
    while i < H:
        if rows[i]:
            j = i
            while j < H and rows[j]:
                j += 1
            starts.append(int(np.flatnonzero(inked[i:j].any(axis=0))[0]))
            i = j
        else:
            i += 1
    return starts


@pytest.fixture
def fresh_fonts() -> Iterator[None]:
    def clear() -> None:
        subtitle_fonts.clear_caches()
        subtitles._render.cache_clear()
        subtitles._redrawn.cache_clear()

    clear()
    yield
    clear()


def test_anchored_top_left_at_the_top_left() -> None:
    layer = subtitle_layer(_sub("Corner", font_size=24, position=(0.0, 0.0), anchor=(0, 0)), W, H)
    rows, cols = _ink(_on(layer))
    assert (layer.x, layer.y) == (0, 0)
    assert rows.max() < H // 4 and cols.max() < W // 3


def test_anchor_picks_the_point_placed_at_the_position() -> None:
    at = (0.5, 0.5)
    centred = subtitle_layer(_sub("Anchor", font_size=24, position=at), W, H)
    h, w = centred.rgb.shape[:2]
    right_bottom = subtitle_layer(_sub("Anchor", font_size=24, position=at, anchor=(1, 1)), W, H)
    # The box's bottom-right corner sits at the canvas centre: the box lies up and to the left.
    assert (right_bottom.x + w, right_bottom.y + h) == (W // 2, H // 2)
    assert abs(centred.x + w / 2 - W / 2) <= 0.5 and abs(centred.y + h / 2 - H / 2) <= 0.5


def test_top_position_draws_in_the_top_part() -> None:
    rows, _ = _ink(_on(subtitle_layer(_sub("On top", font_size=24, position="top"), W, H)))
    assert rows.size and rows.max() < H // 3


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_align_places_lines_inside_the_box(align: str) -> None:
    sub = _sub("Hi\nA much longer line", font_size=20, position="center", align=align)
    layer = subtitle_layer(sub, W, H)
    short_start, long_start = _line_starts(_on(layer))
    box_left = layer.x
    if align == "left":
        # Both lines start at the box's left edge.
        assert abs(short_start - long_start) <= 2 and short_start - box_left <= 4
    elif align == "right":
        assert short_start > long_start + 60
    else:
        assert long_start + 40 < short_start < W // 2


def test_left_align_at_the_left_edge_starts_near_the_canvas_edge() -> None:
    sub = _sub("Left\nedge text", font_size=24, position=(0.0, 0.5), anchor=(0, 0.5), align="left")
    starts = _line_starts(_on(subtitle_layer(sub, W, H)))
    assert len(starts) == 2 and max(starts) <= 5


def test_opacity_halves_the_alpha() -> None:
    full = _on(subtitle_layer(_sub("HIM", font_size=60, outline=0), W, H))
    half = _on(subtitle_layer(_sub("HIM", font_size=60, outline=0, opacity=0.5), W, H))
    solid = full.max(axis=2) > 0.999
    assert solid.sum() > 500
    np.testing.assert_allclose(half[solid], 0.5, atol=1 / 255)


def test_opacity_covers_the_box_too() -> None:
    boxed = {"font_size": 30, "background": (0, 0, 255, 255)}
    layer = subtitle_layer(_sub("Box", **boxed, opacity=0.5), W, H)
    canvas = _on(layer, base=1.0)  # over white
    corner = canvas[layer.y + 1, layer.x + 1]
    np.testing.assert_allclose(corner, [0.5, 0.5, 1.0], atol=1 / 255)


def test_shadow_appears_offset_down_and_right() -> None:
    plain = subtitle_layer(_sub("I", font_size=60, outline=0), W, H)
    shadowed = subtitle_layer(
        _sub("I", font_size=60, outline=0, shadow_color=(255, 0, 0, 255), shadow_offset=(6, 4)),
        W,
        H,
    )
    text_rows, text_cols = _ink(_on(plain))
    canvas = _on(shadowed)
    red = (canvas[..., 0] > 0.02) & (canvas[..., 1] < 0.02)
    red_rows, red_cols = np.flatnonzero(red.any(axis=1)), np.flatnonzero(red.any(axis=0))
    # The shadow shows to the right of and below the white stem, by the offset.
    assert red_cols.max() == text_cols.max() + 6
    assert red_rows.max() == text_rows.max() + 4
    # The white text stays where it was, drawn over its shadow.
    solid = _on(plain).min(axis=2) > 0.99
    assert solid.sum() > 200 and np.all(canvas[solid] > 0.99)


def test_shadow_blur_softens_and_spreads_it() -> None:
    def shadow(blur: float) -> Image:
        sub = _sub("I", font_size=60, outline=0, shadow_color=(255, 0, 0, 255), shadow_blur=blur)
        canvas = _on(subtitle_layer(sub, W, H))
        return canvas[..., 0] * (canvas[..., 1] < 0.05)

    sharp, soft = shadow(0), shadow(8)
    assert (soft > 0.02).sum() > (sharp > 0.02).sum() + 100  # spreads
    assert soft.max() < 1.0 and (sharp > 0.99).sum() > 20  # and its edge fades


def test_rounded_box_leaves_its_corners_clear() -> None:
    box = {"font_size": 30, "background": (0, 0, 255, 255), "position": "center"}
    square = subtitle_layer(_sub("Rounded", **box), W, H)
    rounded = subtitle_layer(_sub("Rounded", **box, border_radius=12), W, H)
    assert (rounded.x, rounded.y, rounded.rgb.shape) == (square.x, square.y, square.rgb.shape)
    h, w = rounded.rgb.shape[:2]
    x0, y0 = rounded.x, rounded.y
    sq, rd = _on(square), _on(rounded)
    for cx, cy in ((x0, y0), (x0 + w - 1, y0), (x0, y0 + h - 1), (x0 + w - 1, y0 + h - 1)):
        assert sq[cy, cx, 2] == 1.0
        assert rd[cy, cx, 2] == 0.0  # the corner pixel is outside the arc
    # Edges away from the corners are still solid.
    assert rd[y0, x0 + w // 2, 2] == 1.0 and rd[y0 + h // 2, x0, 2] == 1.0


def test_padding_grows_the_box_on_each_side() -> None:
    base = {"font_size": 30, "background": (0, 0, 255, 255), "outline": 0}
    plain = subtitle_layer(_sub("Pad", **base, padding=(0, 0, 0, 0)), W, H)
    padded = subtitle_layer(_sub("Pad", **base, padding=(5, 20, 10, 30)), W, H)
    (ph, pw), (qh, qw) = plain.rgb.shape[:2], padded.rgb.shape[:2]
    assert (qh - ph, qw - pw) == (15, 50)


def test_stroke_colour_draws_the_outline() -> None:
    layer = subtitle_layer(
        _sub("HIM", font_size=60, outline=3, stroke_color=(0, 255, 0, 255)), W, H
    )
    canvas = _on(layer)
    green = (canvas[..., 1] > 0.99) & (canvas[..., 0] < 0.01)
    white = canvas.min(axis=2) > 0.99
    assert green.sum() > 300 and white.sum() > 300


def test_line_height_sets_the_distance_between_lines() -> None:
    def height(line_height: float | None) -> int:
        sub = _sub("One\nTwo\nThree", font_size=20, outline=0, line_height=line_height)
        return int(subtitle_layer(sub, W, H).rgb.shape[0])

    tight, loose = height(1.0), height(2.0)
    # Two gaps between three lines grow by one font size each.
    assert loose - tight == 2 * 20


def test_letter_spacing_widens_the_text() -> None:
    def width(spacing: float) -> int:
        sub = _sub("Spacing", font_size=24, outline=0, letter_spacing=spacing)
        _, cols = _ink(_on(subtitle_layer(sub, W, H)))
        return int(cols.max() - cols.min())

    assert abs(width(5) - width(0) - 6 * 5) <= 2  # six gaps between seven letters


def test_max_width_wraps_earlier() -> None:
    text = "a subtitle of several words"
    wide = subtitle_layer(_sub(text, font_size=20, max_width=1.0), W, H)
    narrow = subtitle_layer(_sub(text, font_size=20, max_width=0.3), W, H)
    assert narrow.rgb.shape[1] <= 0.3 * W + 1 < wide.rgb.shape[1]
    assert narrow.rgb.shape[0] > 2 * wide.rgb.shape[0]


def test_bold_draws_heavier_than_regular() -> None:
    def ink(weight: int) -> int:
        layer = subtitle_layer(_sub("Weight", font_size=40, outline=0, font_weight=weight), W, H)
        assert layer.alpha is not None
        return int((layer.alpha > 0.5).sum())

    assert ink(700) > 1.2 * ink(400) and ink(400) > 1.2 * ink(100)


def test_font_families_map_to_installed_faces() -> None:
    assert subtitle_fonts.face("Arial", 400, 30)[0].getname() == ("Roboto", "Regular")
    assert subtitle_fonts.face("", 700, 30)[0].getname() == ("Roboto", "Bold")
    if "dejavuserif" not in subtitle_fonts._index():
        pytest.skip("fonts-dejavu-core is not installed here")
    serif = subtitle_fonts.face("'Times New Roman', serif", 400, 30)[0]
    assert serif.getname()[0] == "DejaVu Serif"
    sans = _on(subtitle_layer(_sub("Serif", font_size=40), W, H))
    other = _on(subtitle_layer(_sub("Serif", font_size=40, font_family="Georgia"), W, H))
    assert not np.array_equal(sans, other)


def test_synthetic_bold_when_the_family_has_no_bold_file(
    monkeypatch: pytest.MonkeyPatch, fresh_fonts: None
) -> None:
    regular = subtitle_fonts._index()["roboto"][400]
    monkeypatch.setattr(subtitle_fonts, "_index", lambda: {"plain": {400: regular}})
    fnt, bold = subtitle_fonts.face("Plain", 700, 40)
    assert fnt.getname() == ("Roboto", "Regular") and bold > 0

    def ink(weight: int) -> int:
        sub = _sub("Weight", font_size=40, outline=0, font_family="Plain", font_weight=weight)
        layer = subtitle_layer(sub, W, H)
        assert layer.alpha is not None
        return int((layer.alpha > 0.5).sum())

    assert ink(700) > 1.1 * ink(400)


def test_unknown_family_falls_back_to_the_default_face_with_a_warning(
    caplog: pytest.LogCaptureFixture, fresh_fonts: None
) -> None:
    with caplog.at_level(logging.WARNING, logger="workers.subtitle_fonts"):
        layer = subtitle_layer(_sub("Fallback", font_size=30, font_family="No Such Font"), W, H)
    default = subtitle_layer(_sub("Fallback", font_size=30), W, H)
    np.testing.assert_array_equal(layer.alpha, default.alpha)
    assert "No Such Font" in caplog.text


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("align", "justify", "align"),
        ("max_width", 0.0, "max_width"),
        ("line_height", 0.0, "line_height"),
    ],
)
def test_bad_style_values_are_timeline_errors(field: str, value: object, match: str) -> None:
    with pytest.raises(TimelineError, match=f"subtitle s1: {match}"):
        subtitle_layer(_sub("x", **{field: value}), W, H)
