"""Colour correction: what a viewer would notice for each control."""

from __future__ import annotations

import numpy as np
import pytest

from chunking.timeline.model import ColorCorrection
from tests.helpers import flat_image, noisy_image
from workers.color import LUMA_709, apply_color, apply_tones, hue_matrix, saturation_matrix


@pytest.mark.parametrize(
    ("cc", "rgb", "expected"),
    [
        (ColorCorrection(brightness=0.2), (0.5, 0.5, 0.5), (0.7, 0.7, 0.7)),
        (ColorCorrection(brightness=-0.2), (0.5, 0.5, 0.5), (0.3, 0.3, 0.3)),
        (ColorCorrection(brightness=0.8), (0.5, 0.5, 0.5), (1.0, 1.0, 1.0)),
        (ColorCorrection(contrast=2.0), (0.75, 0.75, 0.75), (1.0, 1.0, 1.0)),
        (ColorCorrection(contrast=2.0), (0.25, 0.25, 0.25), (0.0, 0.0, 0.0)),
        (ColorCorrection(contrast=2.0), (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
        (ColorCorrection(contrast=0.5), (1.0, 0.0, 0.5), (0.75, 0.25, 0.5)),
        (ColorCorrection(saturation=0.0), (1.0, 0.0, 0.0), (0.2126, 0.2126, 0.2126)),
        (ColorCorrection(saturation=0.0), (0.0, 1.0, 0.0), (0.7152, 0.7152, 0.7152)),
        (ColorCorrection(saturation=0.0), (0.2, 0.4, 0.6), (0.37192,) * 3),
        (ColorCorrection(hue=120.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
        (ColorCorrection(hue=240.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
        (ColorCorrection(hue=-120.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
        (ColorCorrection(hue=120.0), (0.4, 0.4, 0.4), (0.4, 0.4, 0.4)),
        (ColorCorrection(gamma=2.0), (0.25, 0.25, 0.25), (0.5, 0.5, 0.5)),
        (ColorCorrection(gamma=0.5), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)),
        # brightness applies before contrast: (0.5 + 0.1 - 0.5) * 2 + 0.5
        (ColorCorrection(brightness=0.1, contrast=2.0), (0.5, 0.5, 0.5), (0.7, 0.7, 0.7)),
        # contrast before gamma: 0.25 -> 0.25 (contrast 1) -> 0.5
        (ColorCorrection(saturation=0.0, gamma=2.0), (0.25, 0.25, 0.25), (0.5, 0.5, 0.5)),
    ],
)
def test_correction_moves_pixels_as_expected(
    cc: ColorCorrection, rgb: tuple[float, float, float], expected: tuple[float, float, float]
) -> None:
    out = apply_color(flat_image(*rgb), cc)
    assert out.dtype == np.float32
    assert out.shape == (32, 48, 3)
    np.testing.assert_allclose(out, flat_image(*expected), atol=2e-5)


def test_identity_returns_equal_pixels() -> None:
    img = noisy_image()
    out = apply_color(img, ColorCorrection())
    np.testing.assert_array_equal(out, img)


@pytest.mark.parametrize(
    "cc",
    [
        ColorCorrection(brightness=0.3),
        ColorCorrection(contrast=3.0),
        ColorCorrection(saturation=2.5),
        ColorCorrection(hue=45.0),
        ColorCorrection(gamma=0.3),
        ColorCorrection(brightness=-0.2, contrast=1.5, saturation=0.5, hue=200.0, gamma=1.8),
    ],
)
def test_result_is_clipped_float32_and_input_untouched(cc: ColorCorrection) -> None:
    img = noisy_image()
    before = img.copy()
    out = apply_color(img, cc)
    np.testing.assert_array_equal(img, before)
    assert out.dtype == np.float32
    assert out is not img
    assert out.min() >= 0.0
    assert out.max() <= 1.0


def test_saturation_keeps_luma() -> None:
    img = noisy_image()
    luma = img @ LUMA_709.astype(np.float32)
    for s in (0.0, 0.5, 1.7):
        out = img @ saturation_matrix(s).T
        np.testing.assert_allclose(out @ LUMA_709.astype(np.float32), luma, atol=1e-5)


@pytest.mark.parametrize("degrees", [0.0, 30.0, 120.0, 200.0, 360.0, -90.0])
def test_hue_matrix_keeps_grey_and_is_a_rotation(degrees: float) -> None:
    m = hue_matrix(degrees).astype(np.float64)
    np.testing.assert_allclose(m @ np.ones(3), np.ones(3), atol=1e-6)
    np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-6)
    np.testing.assert_allclose(hue_matrix(degrees) @ hue_matrix(-degrees), np.eye(3), atol=1e-6)


def test_full_hue_turn_changes_nothing() -> None:
    img = noisy_image()
    out = apply_color(img, ColorCorrection(hue=360.0))
    np.testing.assert_allclose(out, img, atol=1e-6)


def test_non_positive_gamma_does_not_blow_up() -> None:
    out = apply_color(flat_image(0.5, 0.5, 0.5), ColorCorrection(gamma=0.0))
    assert np.isfinite(out).all()
    assert out.min() >= 0.0


def grey_ramp(n: int = 101) -> np.ndarray:
    """A 1 x n grey ramp from 0 to 1."""
    return np.repeat(np.linspace(0.0, 1.0, n, dtype=np.float32)[None, :, None], 3, axis=2)


@pytest.mark.parametrize(
    ("cc", "x", "expected"),
    [
        (ColorCorrection(shadows=1.0), 0.1, 0.2385),  # darks lifted
        (ColorCorrection(shadows=1.0), 0.25, 0.4504),
        (ColorCorrection(shadows=1.0), 0.95, 0.9502),  # brights barely move
        (ColorCorrection(shadows=-1.0), 0.25, 0.1498),
        (ColorCorrection(highlights=-1.0), 0.75, 0.5496),  # brights recovered
        (ColorCorrection(highlights=-1.0), 0.1, 0.0983),  # darks barely move
        (ColorCorrection(highlights=1.0), 0.75, 0.8502),
        (ColorCorrection(blacks=1.0), 0.0, 0.2),  # a matte black
        (ColorCorrection(blacks=-1.0), 0.1, 0.0),  # crushed
        (ColorCorrection(whites=-1.0), 1.0, 0.8),
        (ColorCorrection(whites=1.0), 0.9, 1.0),  # clipped
        (ColorCorrection(shadows=0.5, highlights=-0.5), 0.0, 0.0),  # end points stay
        (ColorCorrection(shadows=0.5, highlights=-0.5), 1.0, 1.0),
    ],
)
def test_tonal_ranges_move_their_tones(cc: ColorCorrection, x: float, expected: float) -> None:
    out = apply_color(flat_image(x, x, x), cc)
    np.testing.assert_allclose(out, flat_image(expected, expected, expected), atol=2e-4)


@pytest.mark.parametrize("s", [-1.0, -0.4, 0.0, 0.7, 1.0])
@pytest.mark.parametrize("h", [-1.0, 0.0, 0.5, 1.0])
@pytest.mark.parametrize(("w", "b"), [(0.0, 0.0), (1.0, -1.0), (-1.0, 1.0)])
def test_no_tone_overtakes_another(s: float, h: float, w: float, b: float) -> None:
    out = apply_color(grey_ramp(1001), ColorCorrection(shadows=s, highlights=h, whites=w, blacks=b))
    assert np.all(np.diff(out[0, :, 0]) >= 0)


def test_tonal_ranges_act_on_each_channel_before_gamma() -> None:
    img = flat_image(0.1, 0.5, 0.95)
    tones = apply_color(img, ColorCorrection(shadows=1.0))
    assert tones[0, 0, 0] > 0.2 and abs(tones[0, 0, 2] - 0.95) < 1e-3
    both = apply_color(img, ColorCorrection(shadows=1.0, gamma=2.0))
    np.testing.assert_allclose(both, np.sqrt(tones), atol=1e-6)


def test_neutral_tonal_ranges_do_no_work() -> None:
    img = noisy_image()
    assert apply_color(img, ColorCorrection(shadows=0.0, highlights=0.0)) is img
    assert apply_tones(img) is img


def test_the_colour_matrices_are_built_once_per_value_and_read_only() -> None:
    # Asked for on every frame: one array per value, which no caller can change for the next.
    for make, value in ((saturation_matrix, 1.25), (hue_matrix, 40.0)):
        first = make(value)
        assert make(value) is first
        assert make(int(value) if value == int(value) else value) is first
        with pytest.raises(ValueError):
            first[0, 0] = 0.0
    assert np.array_equal(saturation_matrix(1.25), saturation_matrix(np.float32(1.25)))
