"""Effects: the visible behaviour of each kind, determinism of grain, and input safety."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping

import numpy as np
import pytest

from chunking.timeline.catalogue import VIDEO_EFFECTS as EFFECTS
from chunking.timeline.model import Effect, ParamValue
from common.errors import TimelineError
from tests.helpers import ROOT, flat_image, noisy_image
from workers.effects import IMPLEMENTATIONS, apply_effect, param
from workers.layer import Image

H, W = 32, 48


def run(kind: str, img: Image, frame: int = 0, **params: ParamValue) -> Image:
    """Apply one effect of this kind to an image."""
    return apply(kind, img, params, frame)


def apply(kind: str, img: Image, params: Mapping[str, ParamValue], frame: int = 0) -> Image:
    """Apply one effect of this kind with these params to an image."""
    out = apply_effect(img, Effect(id=f"fx-{kind}", kind=kind, params=params), frame)
    assert out.dtype == np.float32
    assert out.shape == img.shape
    return out


def test_registry_matches_catalogue() -> None:
    assert set(IMPLEMENTATIONS) == set(EFFECTS)


def test_unknown_kind_is_a_timeline_error() -> None:
    with pytest.raises(TimelineError, match="'x1'.*unknown kind"):
        apply_effect(flat_image(0, 0, 0), Effect(id="x1", kind="wobble"), 0)


def test_alias_kind_is_accepted() -> None:
    out = apply_effect(flat_image(0.2, 0.4, 0.6), Effect(id="n", kind="negative"), 0)
    np.testing.assert_allclose(out, flat_image(0.8, 0.6, 0.4), atol=1e-6)


@pytest.mark.parametrize(
    ("kind", "params", "rgb", "expected"),
    [
        ("brightness", {"amount": 0.2}, (0.5, 0.5, 0.5), (0.7, 0.7, 0.7)),
        ("brightness", {"value": -0.5}, (0.5, 0.5, 0.5), (0.0, 0.0, 0.0)),
        ("brightness", {}, (0.5, 0.5, 0.5), (0.6, 0.6, 0.6)),
        ("contrast", {"amount": 2.0}, (0.75, 0.75, 0.75), (1.0, 1.0, 1.0)),
        ("contrast", {"amount": 2.0}, (0.25, 0.25, 0.25), (0.0, 0.0, 0.0)),
        ("saturation", {"amount": 0.0}, (1.0, 0.0, 0.0), (0.2126, 0.2126, 0.2126)),
        ("saturation", {"amount": 2.0}, (0.6, 0.5, 0.5), (0.6787, 0.4787, 0.4787)),
        ("huerotate", {"degrees": 120}, (1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),
        ("huerotate", {"angle": 240}, (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)),
        ("huerotate", {"amount": "120"}, (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
        ("grayscale", {}, (0.0, 1.0, 0.0), (0.7152, 0.7152, 0.7152)),
        ("grayscale", {"amount": 0.5}, (1.0, 0.0, 0.0), (0.6063, 0.1063, 0.1063)),
        ("grayscale", {"amount": 0.0}, (1.0, 0.0, 0.0), (1.0, 0.0, 0.0)),
        ("sepia", {}, (1.0, 1.0, 1.0), (1.0, 1.0, 0.937)),
        ("sepia", {}, (0.5, 0.5, 0.5), (0.6755, 0.6015, 0.4685)),
        ("sepia", {"amount": 0.0}, (0.2, 0.3, 0.4), (0.2, 0.3, 0.4)),
        ("invert", {}, (0.2, 0.5, 1.0), (0.8, 0.5, 0.0)),
        ("invert", {"amount": 0.5}, (0.2, 0.9, 1.0), (0.5, 0.5, 0.5)),
        ("invert", {"amount": True}, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)),
    ],
)
def test_colour_effects_on_flat_images(
    kind: str,
    params: Mapping[str, ParamValue],
    rgb: tuple[float, float, float],
    expected: tuple[float, float, float],
) -> None:
    out = apply(kind, flat_image(*rgb), params)
    np.testing.assert_allclose(out, flat_image(*expected), atol=2e-4)


def test_invert_maps_x_to_one_minus_x() -> None:
    img = noisy_image()
    np.testing.assert_allclose(run("invert", img), 1.0 - img, atol=1e-6)


def test_vignette_keeps_centre_and_darkens_corners() -> None:
    out = run("vignette", flat_image(0.8, 0.8, 0.8), strength=0.5, radius=0.5)
    np.testing.assert_allclose(out[H // 2 - 1 : H // 2 + 1, W // 2 - 1 : W // 2 + 1], 0.8)
    for corner in (out[0, 0], out[0, -1], out[-1, 0], out[-1, -1]):
        assert corner.max() < 0.8 * 0.6  # close to 1 - strength of the original
    # Darkening grows monotonically from the centre outwards along a diagonal.
    diagonal = [out[i, round(i * (W - 1) / (H - 1)), 0] for i in range(H // 2, H)]
    assert all(a >= b for a, b in zip(diagonal, diagonal[1:], strict=False))


def test_vignette_with_radius_one_is_a_no_op() -> None:
    img = noisy_image()
    np.testing.assert_array_equal(run("vignette", img, radius=1.0), img)


def test_blur_spreads_a_point_and_conserves_energy() -> None:
    img = np.zeros((H, W, 3), dtype=np.float32)
    img[H // 2, W // 2] = 1.0
    out = run("blur", img, radius=2.0)
    assert out[H // 2, W // 2, 0] < 0.1
    assert out[H // 2 + 2, W // 2, 0] > 0.0
    assert out[H // 2, W // 2 - 3, 0] > 0.0
    np.testing.assert_allclose(out.sum(axis=(0, 1)), [1.0, 1.0, 1.0], atol=1e-4)
    # A Gaussian is symmetric.
    np.testing.assert_allclose(out[H // 2 + 3, W // 2], out[H // 2 - 3, W // 2], atol=1e-7)
    np.testing.assert_allclose(out[H // 2, W // 2 + 3], out[H // 2, W // 2 - 3], atol=1e-7)


@pytest.mark.parametrize("radius", [0.5, 1.0, 4.0, 30.0, 100.0])
def test_blur_keeps_a_flat_image_flat(radius: float) -> None:
    out = run("blur", flat_image(0.3, 0.6, 0.9), radius=radius)
    np.testing.assert_allclose(out, flat_image(0.3, 0.6, 0.9), atol=1e-5)


def test_blur_matches_a_direct_convolution() -> None:
    img = noisy_image()
    sigma, r = 1.5, 5
    taps = np.arange(-r, r + 1)
    k = np.exp(-(taps**2) / (2 * sigma**2))
    k /= k.sum()
    ref = img.astype(np.float64)
    for axis, n in ((0, H), (1, W)):
        idx = np.clip(np.arange(n)[:, None] + taps[None, :], 0, n - 1)
        ref = np.tensordot(np.take(ref, idx, axis=axis), k, axes=([axis + 1], [0]))
    np.testing.assert_allclose(run("blur", img, radius=sigma), ref, atol=1e-5)


def test_sharpen_increases_edge_contrast() -> None:
    img = flat_image(0.4, 0.4, 0.4)
    img[:, W // 2 :] = 0.6
    out = run("sharpen", img, amount=1.0, radius=1.0)
    assert out[H // 2, W // 2 - 1, 0] < 0.4 - 0.02  # dark side of the edge gets darker
    assert out[H // 2, W // 2, 0] > 0.6 + 0.02  # bright side gets brighter
    np.testing.assert_allclose(out[:, :4], 0.4, atol=1e-5)  # flat areas stay put


def test_filmgrain_is_repeatable_per_frame() -> None:
    img = flat_image(0.5, 0.5, 0.5)
    first = run("filmgrain", img, frame=7)
    run("filmgrain", img, frame=8)
    run("filmgrain", noisy_image(), frame=3)
    np.testing.assert_array_equal(run("filmgrain", img, frame=7), first)
    assert not np.array_equal(run("filmgrain", img, frame=8), first)


def test_filmgrain_is_monochrome_and_keeps_mean() -> None:
    img = flat_image(0.5, 0.5, 0.5)
    out = run("filmgrain", img, frame=1, amount=0.08)
    np.testing.assert_array_equal(out[..., 0], out[..., 1])
    np.testing.assert_array_equal(out[..., 1], out[..., 2])
    assert abs(float(out.mean()) - 0.5) < 0.01
    assert 0.06 < float(out.std()) < 0.10


def test_filmgrain_size_makes_cells() -> None:
    out = run("filmgrain", flat_image(0.5, 0.5, 0.5), frame=1, size=4)
    np.testing.assert_array_equal(out[0:4, 0:4, 0], np.full((4, 4), out[0, 0, 0]))
    assert out[0, 0, 0] != out[0, 4, 0]


def test_filmgrain_depends_on_effect_id() -> None:
    img = flat_image(0.5, 0.5, 0.5)
    a = apply_effect(img, Effect(id="a", kind="filmgrain"), 5)
    b = apply_effect(img, Effect(id="b", kind="filmgrain"), 5)
    assert not np.array_equal(a, b)


def test_filmgrain_matches_a_fresh_process() -> None:
    code = (
        "import numpy as np, sys\n"
        "from chunking.timeline.model import Effect\n"
        "from workers.effects import apply_effect\n"
        f"img = np.full(({H}, {W}, 3), 0.5, dtype=np.float32)\n"
        "out = apply_effect(img, Effect(id='fx-filmgrain', kind='filmgrain'), 42)\n"
        "sys.stdout.buffer.write(out.tobytes())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, cwd=ROOT)
    fresh = np.frombuffer(done.stdout, dtype=np.float32).reshape(H, W, 3)
    np.testing.assert_array_equal(run("filmgrain", flat_image(0.5, 0.5, 0.5), frame=42), fresh)


@pytest.mark.parametrize("kind", sorted(EFFECTS))
def test_no_effect_modifies_its_input(kind: str) -> None:
    img = noisy_image()
    img.setflags(write=False)  # any in-place write raises
    out = run(kind, img, frame=3)
    np.testing.assert_array_equal(img, noisy_image())
    assert out.min() >= 0.0
    assert out.max() <= 1.0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, 4.0),
        ({"radius": 2}, 2.0),
        ({"radius": "2.5"}, 2.5),
        ({"radius": "wide"}, 4.0),
        ({"radius": float("nan")}, 4.0),
        ({"radius": "bad", "amount": 3}, 3.0),
        ({"amount": 3, "sigma": 5}, 3.0),
        ({"radius": True}, 1.0),
    ],
)
def test_params_are_read_leniently(params: Mapping[str, ParamValue], expected: float) -> None:
    assert param(params, ("radius", "amount", "sigma"), 4.0) == expected
