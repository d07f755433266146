"""Colour correction: what a viewer would notice for each control."""

from __future__ import annotations

import numpy as np
import pytest

from chunking.timeline.model import ColorCorrection
from tests.helpers import flat_image, noisy_image
from workers.color import LUMA_709, apply_color, hue_matrix, saturation_matrix


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
