"""Optical effects and noise reduction: glow, lens flare, chromatic aberration, denoising."""

from __future__ import annotations

import numpy as np
import pytest

from chunking.timeline.model import Effect, ParamValue
from tests.helpers import flat_image
from workers.effects import apply_effect
from workers.layer import Image

H, W = 64, 96


def fx(kind: str, img: Image, **params: ParamValue) -> Image:
    """Apply one effect of this kind to an image."""
    out = apply_effect(img, Effect(id=f"fx-{kind}", kind=kind, params=params), 0)
    assert out.dtype == np.float32 and out.shape == img.shape
    return out


def test_glow_spreads_light_from_bright_areas_and_never_darkens() -> None:
    img = np.full((H, W, 3), 0.1, dtype=np.float32)
    img[28:36, 44:52] = 0.95
    out = fx("glow", img, intensity=0.8, radius=4)
    assert np.all(out >= img - 1e-6)
    assert out[26, 48, 0] > 0.1 + 0.2  # just outside the bright square: lit by its glow
    assert out[2, 2, 0] < 0.1 + 0.1  # far away: only the faint screen of the dark background
    assert out[32, 48, 0] >= 0.95


def test_glow_defaults_to_the_editors_command() -> None:
    # gblur=sigma={intensity * 2},blend=all_mode=screen:all_opacity={intensity}: on a flat
    # picture the blur changes nothing, so out = x + i * x * (1 - x).
    out = fx("glow", flat_image(0.5, 0.5, 0.5, h=H, w=W), intensity=0.5)
    np.testing.assert_allclose(out, 0.5 + 0.5 * 0.25, atol=1e-6)


def test_lens_flare_is_brightest_at_its_source_with_ghosts_across_the_centre() -> None:
    img = np.full((H, W, 3), 0.1, dtype=np.float32)
    out = fx("lensflare", img, intensity=1.0, x=0.25, y=0.25)
    assert np.all(out >= img - 1e-6)  # light only adds
    lift = out.sum(axis=2) - img.sum(axis=2)
    y, x = np.unravel_index(np.argmax(lift), lift.shape)
    assert abs(y - 0.25 * H) <= 2 and abs(x - 0.25 * W) <= 2
    # The far ghost sits on the line from the source through the centre, beyond the centre.
    ghost_y, ghost_x = round(0.25 * H * (1 + 1.6)), round(0.25 * W * (1 + 1.6))
    corner = lift[ghost_y - 3 : ghost_y + 4, ghost_x - 3 : ghost_x + 4].max()
    assert corner > lift[H - 4, 4] + 0.05  # brighter than the opposite, flare-free corner


def test_lens_flare_follows_its_position() -> None:
    img = np.full((H, W, 3), 0.1, dtype=np.float32)
    out = fx("lensflare", img, intensity=1.0, x=0.8, y=0.7)
    lift = out.sum(axis=2)
    y, x = np.unravel_index(np.argmax(lift), lift.shape)
    assert abs(y - 0.7 * H) <= 2 and abs(x - 0.8 * W) <= 2


def test_chromatic_aberration_fringes_edges_red_outside_and_blue_inside() -> None:
    img = np.zeros((H, W, 3), dtype=np.float32)
    img[:, 70:80] = 1.0  # a white bar right of the centre
    out = fx("chromaticaberration", img, intensity=10)
    row = out[H // 2]
    # Right of the bar's outer edge red spills out and blue does not; inside its inner edge
    # blue is pulled towards the centre.
    assert row[80, 0] > 0.3 and row[80, 2] == 0.0
    assert row[69, 2] > 0.3 and row[69, 0] == 0.0
    np.testing.assert_array_equal(out[..., 1], img[..., 1])  # green is the reference


def test_chromatic_aberration_leaves_the_centre_and_flat_areas() -> None:
    img = flat_image(0.3, 0.6, 0.9, h=H, w=W)
    np.testing.assert_allclose(fx("chromaticaberration", img, intensity=5), img, atol=1e-6)


def test_noise_reduction_smooths_noise_and_keeps_edges() -> None:
    clean = np.full((H, W, 3), 0.3, dtype=np.float32)
    clean[:, W // 2 :] = 0.7
    rng = np.random.default_rng(7)
    noisy = np.clip(clean + rng.normal(0.0, 0.03, clean.shape).astype(np.float32), 0, 1)
    out = fx("noisereduction", noisy)  # the editor's default strength 3
    flat = (slice(4, H - 4), slice(4, W // 2 - 8))
    assert float((out - clean)[flat].std()) < 0.3 * float((noisy - clean)[flat].std())
    # The edge stays a step: two pixels either side are still near their levels.
    row = out[H // 2]
    assert row[W // 2 - 3].mean() < 0.38 and row[W // 2 + 2].mean() > 0.62
    blurred = fx("blur", noisy, radius=3)[H // 2]
    assert blurred[W // 2 - 3].mean() > row[W // 2 - 3].mean()  # a blur would smear it


@pytest.mark.parametrize("size", [(1, 1), (3, 200), (17, 9), (33, 65)])
def test_neighbourhood_effects_take_any_layer_size(size: tuple[int, int]) -> None:
    img = np.random.default_rng(1).random((*size, 3), dtype=np.float32)
    for kind in ("noisereduction", "chromaticaberration", "glow", "lensflare", "chromakey"):
        out = fx(kind, img)
        assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
